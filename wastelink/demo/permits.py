"""Demo กอ.1 data: declared waste streams, applications in every state and permits in every state.

Built after the registry part of the demo (DemoBuilder.build), from the builder's random generator, so the same
seed gives the same streams, lines, receivers and outcomes. Everything goes through the permit services, so it is
validated by the pre-checks and written to the audit trail like real input:

- the demo generator (the factory of gen.preparer and gen.certifier, in the Map Ta Phut cluster) and ~30 other
  generators (Map Ta Phut, Bangpoo, other estates and factories outside the estates) declare their waste streams;
- each of them files applications that end in every state: DRAFT, SUBMITTED, UNDER_REVIEW, INFO_REQUESTED,
  APPROVED (one of them by the auto-approval table), PARTIALLY_APPROVED and REJECTED;
- the permits issued are ACTIVE, SUSPENDED, REVOKED or EXPIRED (issued a year ago: their validity is moved back
  after issue and `expire_due` expires them, as the nightly job would);
- applications waiting for review were submitted 3–20 days ago (moved back after submission), so the estate
  officers' queues have overdue items.

The demo generator's lines name the demo receiver (recv.*; granted a licence for the demo generator's streams that
its factory type treats) and the demo transporter (trans.*) wherever the rules allow, so the three demo logins meet
on the same permits and, later, on the same manifests (demo/manifests.py).

The generator side of the demo generator acts as its real users (gen.preparer prepares, gen.certifier submits);
the other factories have no demo login, so a stand-in preparer of that factory acts for them (named in the audit
trail as "system:demo for <registration number>"). Officers act as the demo officer of the route: officer.mtp,
officer.bangpoo, hq.officer for the other estates, diw.regulator outside the estates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from wastelink.accounts.access import SystemActor
from wastelink.accounts.models import User
from wastelink.core.permit_states import ApplicationState, PermitState
from wastelink.core.roles import Role
from wastelink.permits.models import ApplicationVersion, Permit, PermitApplication, WasteStream
from wastelink.permits.schemas import ApplicationIn, AutoRuleIn, DecisionIn, LineDecision, LineIn, StreamIn
from wastelink.permits.services import applications, permits, review, streams, table
from wastelink.registry.models import Establishment, ReceiverLicence, TransporterLicence, Vehicle, WasteCode
from wastelink.registry.schemas import ReceiverLicenceIn
from wastelink.registry.services.fleet import grant_receiver_licence

if TYPE_CHECKING:
    from .load import DemoBuilder


@dataclass(frozen=True)
class StreamKind:
    code: str
    name: str
    process: str
    form: str
    annual_t: tuple[int, int]
    methods: tuple[str, ...]  # plausible management methods, best first


# What factories declare: realistic Thai names, the process they come from, and how they are usually managed.
CATALOGUE = [
    StreamKind("190814", "กากตะกอนจากระบบบำบัดน้ำเสีย", "ระบบบำบัดน้ำเสียของโรงงาน", "sludge", (40, 400), ("044", "071", "061")),
    StreamKind("130205", "น้ำมันหล่อลื่นใช้แล้ว", "งานซ่อมบำรุงเครื่องจักร", "liquid", (5, 60), ("041", "043", "044")),
    StreamKind("200101", "เศษกระดาษ", "สำนักงานและงานบรรจุหีบห่อ", "solid", (10, 120), ("011", "031")),
    StreamKind("150101", "กล่องกระดาษและบรรจุภัณฑ์กระดาษ", "แผนกรับวัตถุดิบและคลังสินค้า", "solid", (20, 300), ("011", "031")),
    StreamKind("150102", "บรรจุภัณฑ์พลาสติกใช้แล้ว", "แผนกบรรจุภัณฑ์", "solid", (10, 150), ("031", "011", "041")),
    StreamKind("120101", "เศษเหล็กจากงานกลึงและตัด", "งานกลึงและตัดขึ้นรูปโลหะ", "solid", (30, 500), ("011", "031")),
    StreamKind("170405", "เศษเหล็กและเหล็กกล้าจากงานรื้อถอน", "งานซ่อมบำรุงและรื้อถอนอาคาร", "solid", (10, 200), ("011", "031")),
    StreamKind("200138", "เศษไม้และพาเลทไม้ชำรุด", "แผนกคลังสินค้า", "solid", (10, 150), ("041", "011", "031")),
    StreamKind("100101", "เถ้าหนักและตะกรันจากหม้อไอน้ำ", "หม้อไอน้ำ", "solid", (50, 800), ("044", "071", "031")),
    StreamKind("200301", "ขยะทั่วไปจากโรงอาหารและสำนักงาน", "โรงอาหารและสำนักงาน", "mixed", (20, 200), ("071", "074")),
    StreamKind("150110", "ภาชนะบรรจุสารเคมีที่ปนเปื้อน", "การเตรียมสารเคมีในกระบวนการผลิต", "solid", (2, 40), ("041", "044", "072")),
    StreamKind("150202", "ผ้าเช็ดและวัสดุดูดซับที่ปนเปื้อนน้ำมัน", "งานซ่อมบำรุงเครื่องจักร", "solid", (2, 30), ("041", "044", "043")),
    StreamKind("080111", "สีและแลคเกอร์ใช้แล้วที่มีตัวทำละลาย", "สายการพ่นสี", "liquid", (2, 40), ("041", "044")),
    StreamKind("160601", "แบตเตอรี่ตะกั่วกรดใช้แล้ว", "รถยกและระบบไฟฟ้าสำรอง", "solid", (1, 15), ("011", "081")),
    StreamKind("200121", "หลอดฟลูออเรสเซนต์ใช้แล้ว", "งานอาคารและสถานที่", "solid", (1, 5), ("072", "073")),
    StreamKind("120109", "น้ำมันหล่อเย็นจากงานตัดกลึง", "งานกลึงและเจียระไน", "liquid", (5, 80), ("041", "043")),
    StreamKind("160107", "ไส้กรองน้ำมันใช้แล้ว", "งานซ่อมบำรุงยานพาหนะ", "solid", (1, 10), ("041", "043", "011")),
    StreamKind("190813", "กากตะกอนที่มีสารอันตรายจากการบำบัดน้ำเสีย", "ระบบบำบัดน้ำเสียทางเคมี", "sludge", (20, 300), ("044", "073", "072")),
    StreamKind("070511", "กากตะกอนจากการบำบัดน้ำเสียที่มีสารอันตราย", "ระบบบำบัดน้ำเสียสายการผลิตเคมีภัณฑ์", "sludge", (10, 200), ("044", "073")),
    StreamKind("020304", "วัตถุดิบอาหารหมดอายุหรือไม่ได้มาตรฐาน", "การผลิตอาหาร", "solid", (10, 300), ("061", "071")),
]  # fmt: skip
BY_CODE = {k.code: k for k in CATALOGUE}
# The demo generator's own streams: the ones named in the issue first.
DEMO_GENERATOR_STREAMS = [
    "190814",
    "130205",
    "200101",
    "150102",
    "150110",
    "150202",
    "200121",
    "120101",
    "100101",
]
# The automatic e-licence table: a few non-hazardous code × method × receiver-type combinations.
AUTO_RULES = [
    ("200101", "011", "106", "เศษกระดาษคัดแยกเพื่อจำหน่ายต่อ"),
    ("150101", "011", "106", "บรรจุภัณฑ์กระดาษคัดแยกเพื่อจำหน่ายต่อ"),
    ("120101", "011", "106", "เศษเหล็กคัดแยกเพื่อจำหน่ายต่อ"),
    ("170405", "031", "106", "เศษเหล็กเป็นวัตถุดิบทดแทน"),
    ("190814", "044", "101", "กากตะกอนไม่อันตรายเป็นวัตถุดิบทดแทนในเตาเผาปูนซีเมนต์"),
]
# Which receiver factory type offers a method (as the demo receivers are licensed).
METHOD_TYPE = {"041": "101", "043": "101", "044": "101", "049": "101", "061": "101",
               "071": "105", "072": "105", "073": "105", "074": "105", "021": "105",
               "011": "106", "031": "106", "081": "106", "082": "106"}  # fmt: skip

# How each application ends. Weights for the other generators; the demo generator gets one of each.
OUTCOMES = {
    "draft": 2, "submitted": 4, "under_review": 3, "info_requested": 2, "resubmitted": 1, "approved": 4,
    "auto": 2, "partial": 2, "rejected": 1, "rejected_lines": 1, "suspended": 1, "revoked": 1, "expired": 2,
}  # fmt: skip
PENDING = {"submitted", "under_review", "resubmitted"}
REASONS = {
    "info": ["กรุณาแนบผลวิเคราะห์องค์ประกอบของของเสีย", "กรุณาแนบหนังสือตอบรับจากผู้รับบำบัด/กำจัด",
             "ปริมาณที่ขอสูงกว่าปริมาณที่เกิดจริงในปีที่ผ่านมา กรุณาชี้แจง"],
    "reject": ["ผู้รับบำบัด/กำจัดไม่มีความพร้อมรับของเสียประเภทนี้ในพื้นที่", "ข้อมูลแหล่งกำเนิดของเสียไม่สอดคล้องกับกระบวนการผลิต"],
    "partial": ["อนุญาตเฉพาะรายการที่มีเอกสารครบถ้วน", "รายการที่ไม่อนุญาตให้ใช้วิธีการจัดการที่เหมาะสมกว่า"],
    "suspend": ["ผู้ก่อกำเนิดส่งรายงานการขนส่งไม่ครบถ้วน ระงับชั่วคราวจนกว่าจะส่งรายงาน",
                "ตรวจพบการเก็บของเสียไม่เป็นไปตามเงื่อนไข"],
    "revoke": ["ผู้ก่อกำเนิดขอยกเลิกเนื่องจากเปลี่ยนผู้รับบำบัด/กำจัด", "ฝ่าฝืนเงื่อนไขใบอนุญาตซ้ำ"],
}  # fmt: skip
CONDITIONS = ["ขนส่งในภาชนะปิดมิดชิด ป้องกันการหกรั่วไหล", "จัดทำรายงานการขนส่งทุกเดือน",
              "ติดฉลากแสดงประเภทของเสียบนภาชนะบรรจุ", ""]  # fmt: skip


def tiny_pdf(*lines: str) -> bytes:
    """A minimal valid one-page PDF (Helvetica, ASCII text), built in memory: nothing binary is committed."""
    text = "".join(
        f"BT /F1 12 Tf 56 {790 - 18 * i} Td ({_pdf_escape(line)}) Tj ET\n" for i, line in enumerate(lines)
    ).encode("ascii", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _pdf_escape(text: str) -> str:
    return (
        text.encode("ascii", "replace").decode().replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    )


class FactoryActor:
    """A stand-in user of a demo factory that has no demo login: the services see a user of that role and of that
    factory (so every access rule applies), and the audit trail names the demo as the actor. A generator preparer
    unless told otherwise (demo/manifests.py uses receiver operators too). It is no database user: where a service
    needs one (a signature names its signer), demo/manifests.py creates non-login users instead."""

    is_authenticated = True
    is_superuser = False
    is_active = True
    is_staff = False
    id = None
    pk = None

    def __init__(self, establishment: Establishment, role: Role = Role.GENERATOR_PREPARER) -> None:
        self.organisation = establishment.organisation
        self.role_enum = role
        self.role = role.value
        suffix = "" if role == Role.GENERATOR_PREPARER else f" ({role.value})"
        self.username = f"system:demo for {establishment.registration_no}{suffix}"

    def get_full_name(self) -> str:
        return ""

    def __str__(self) -> str:
        return self.username


@dataclass
class Factory:
    establishment: Establishment
    preparer: Any
    submitter: Any
    officer: User
    streams: list[WasteStream] = field(default_factory=list)


@dataclass
class LineSpec:
    stream: WasteStream
    method: str
    receiver: int
    transporters: list[int]
    quantity: Decimal


class PermitDemo:
    def __init__(self, builder: DemoBuilder) -> None:
        from .load import OFFICE_GROUPS

        self.groups = OFFICE_GROUPS
        self.rng = builder.rng
        self.actor = builder.actor
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.users = {u.username: u for u in User.objects.filter(email__endswith="@demo.invalid")}
        # The establishments of the demo logins: the demo generator's lines name the demo receiver (recv.*) and the
        # demo transporter (trans.*) wherever they can, so the three see the same permits and loads.
        self.own_id = self.users["gen.preparer"].organisation.establishment_id
        self.demo_receiver_id = self.users["recv.operator"].organisation.establishment_id
        self.demo_transporter_id = self.users["trans.dispatcher"].organisation.establishment_id
        codes = WasteCode.objects.filter(code__in=BY_CODE)
        self.hazardous = {c.code: c.hazardous for c in codes}
        # (stream, method, receiver) held by live permits and pending lines: no overlap between applications.
        self.taken: set[tuple[int, str, int]] = set()
        self.counts: dict[str, int] = defaultdict(int)
        self.renewals: list[tuple[Factory, PermitApplication]] = []

    # -- set-up: the auto-approval table, licences covering the catalogue, transporters ------------------------
    def auto_rules(self) -> None:
        admin = SystemActor("demo")
        for code, method, rtype, note in AUTO_RULES:
            table.add_auto_rule(actor=admin, data=AutoRuleIn(waste_code=code, method=method, receiver_type=rtype,
                                                             note=note))  # fmt: skip
        self.rules = {(code, method, rtype) for code, method, rtype, _ in AUTO_RULES}

    def licences(self) -> None:
        """Receivers able to take each (code, method) of the catalogue today; a supplementary licence where none is."""
        receivers = list(Establishment.objects.filter(is_receiver=True, status="active").order_by("id"))
        self.receiver_type = {r.id: r.factory_type_id for r in receivers}
        self.demo_receiver_licence()
        self.covering = self._coverage()
        missing: dict[str, set[str]] = defaultdict(set)
        for kind in CATALOGUE:
            for m in kind.methods:
                if not self.covering.get((kind.code, m)):
                    missing[METHOD_TYPE[m]].add(kind.code)
        for n, rtype in enumerate(sorted(missing), start=1):
            receiver = self.rng.choice([r for r in receivers if r.factory_type_id == rtype])
            methods = sorted(m for m, t in METHOD_TYPE.items() if t == rtype)
            grant_receiver_licence(actor=self.actor, establishment_id=receiver.id, data=ReceiverLicenceIn(
                licence_no=f"RL-{rtype}-{self.today.year + 543}-S{n:03d}", factory_type=rtype,
                waste_codes=sorted(missing[rtype]), methods=methods, annual_capacity_t=Decimal(20000),
                valid_from=self.today - timedelta(days=400), valid_until=self.today + timedelta(days=3 * 365)))  # fmt: skip
        if missing:
            self.covering = self._coverage()

    def demo_receiver_licence(self) -> None:
        """The demo receiver takes the demo generator's streams that its factory type treats (a licence granted
        through the registry service), so the demo generator's permits can name it."""
        rtype = self.receiver_type.get(self.demo_receiver_id)
        if rtype is None:
            return
        methods = sorted(m for m, t in METHOD_TYPE.items() if t == rtype)
        codes = sorted(c for c in DEMO_GENERATOR_STREAMS if set(BY_CODE[c].methods) & set(methods))
        if codes:
            grant_receiver_licence(actor=self.actor, establishment_id=self.demo_receiver_id, data=ReceiverLicenceIn(
                licence_no=f"RL-{rtype}-{self.today.year + 543}-D001", factory_type=rtype, waste_codes=codes,
                methods=methods, annual_capacity_t=Decimal(20000), valid_from=self.today - timedelta(days=400),
                valid_until=self.today + timedelta(days=3 * 365)))  # fmt: skip

    def _coverage(self) -> dict[tuple[str, str], list[int]]:
        out: dict[tuple[str, str], list[int]] = defaultdict(list)
        horizon = self.today + timedelta(days=365)  # covers a permit issued today to its end: no warning
        licences = ReceiverLicence.objects.filter(
            receiver_id__in=self.receiver_type, suspended=False, valid_from__lte=self.today, valid_until__gte=horizon,
            waste_codes__in=list(BY_CODE)).prefetch_related("waste_codes", "methods").order_by("id").distinct()  # fmt: skip
        for lic in licences:
            methods = {m.code for m in lic.methods.all()}
            for c in lic.waste_codes.all():
                for m in BY_CODE[c.code].methods if c.code in BY_CODE else ():
                    if m in methods and lic.receiver_id not in out[(c.code, m)]:
                        out[(c.code, m)].append(lic.receiver_id)
        return out

    def transporters(self) -> None:
        hz_licensed = set(TransporterLicence.objects.filter(
            hazardous_approved=True, suspended=False, valid_from__lte=self.today, valid_until__gte=self.today,
            transporter__status="active").values_list("transporter_id", flat=True))  # fmt: skip
        with_gps = set(Vehicle.objects.filter(active=True, hazardous_approved=True, gps_device_id__isnull=False)
                       .exclude(gps_device_id="").values_list("transporter_id", flat=True))  # fmt: skip
        self.all_transporters = list(
            Establishment.objects.filter(is_transporter=True, status="active")
            .order_by("id")
            .values_list("id", flat=True)
        )
        self.hz_transporters = [t for t in self.all_transporters if t in hz_licensed and t in with_gps]

    # -- the factories ---------------------------------------------------------------------------------------
    def officer_for(self, est: Establishment) -> User:
        if est.estate_id is None:
            return self.users["diw.regulator"]
        if est.estate.code in self.groups["map-ta-phut"]:
            return self.users["officer.mtp"]
        if est.estate.code in self.groups["bangpoo"]:
            return self.users["officer.bangpoo"]
        return self.users["hq.officer"]

    def factories(self) -> tuple[Factory, list[Factory]]:
        preparer, certifier = self.users["gen.preparer"], self.users["gen.certifier"]
        own = Establishment.objects.select_related("estate", "organisation").get(
            id=preparer.organisation.establishment_id
        )
        demo = Factory(own, preparer, certifier, self.officer_for(own))
        generators = list(Establishment.objects.filter(is_generator=True, status="active").exclude(id=own.id)
                          .select_related("estate", "organisation").order_by("id"))  # fmt: skip
        mtp = [g for g in generators if g.estate and g.estate.code in self.groups["map-ta-phut"]]
        bangpoo = [g for g in generators if g.estate and g.estate.code in self.groups["bangpoo"]]
        outside = [g for g in generators if g.estate_id is None]
        chosen = self.rng.sample(mtp, min(8, len(mtp))) + self.rng.sample(bangpoo, min(4, len(bangpoo)))
        chosen += self.rng.sample(outside, min(4, len(outside)))
        rest = [g for g in generators if g not in chosen]
        chosen += self.rng.sample(rest, 30 - len(chosen))
        others = []
        for est in chosen:
            actor = FactoryActor(est)
            others.append(Factory(est, actor, actor, self.officer_for(est)))
        return demo, others

    def declare(self, factory: Factory, codes: list[str]) -> None:
        for code in codes:
            kind = BY_CODE[code]
            low, high = kind.annual_t
            factory.streams.append(streams.declare_stream(actor=factory.preparer, data=StreamIn(
                waste_code=code, name=kind.name, source_process=kind.process, physical_form=kind.form,
                annual_quantity_t=Decimal(self.rng.randint(low, high))), generator_id=factory.establishment.id))  # fmt: skip
            self.counts["streams"] += 1

    def stream_codes(self) -> list[str]:
        """3–6 streams, at least one hazardous and one not."""
        hz = [k.code for k in CATALOGUE if self.hazardous[k.code]]
        nh = [k.code for k in CATALOGUE if not self.hazardous[k.code]]
        n = self.rng.randint(3, 6)
        picked = [self.rng.choice(hz), self.rng.choice(nh)]
        picked += self.rng.sample([c for c in hz + nh if c not in picked], n - 2)
        return sorted(picked, key=lambda c: list(BY_CODE).index(c))

    # -- applications ----------------------------------------------------------------------------------------
    def line(self, stream: WasteStream, *, auto: bool | None) -> LineSpec | None:
        """A (method, receiver) for the stream that no live permit or pending line holds yet.

        auto=True: only combinations in the auto-approval table; False: none of them; None: either."""
        code = stream.waste_code_id
        if self.hazardous[code] and not self.hz_transporters:
            return None  # nobody may carry it: the pre-check would refuse the line
        options = []
        for m in BY_CODE[code].methods:
            for r in self.covering.get((code, m), []):
                in_table = (code, m, self.receiver_type[r]) in self.rules
                if auto is not None and in_table != auto:
                    continue
                if (stream.id, m, r) in self.taken:
                    continue
                options.append((m, r))
        if not options:
            return None
        own = stream.generator_id == self.own_id
        if own:  # the demo generator sends to the demo receiver wherever it may
            options = [(m, r) for m, r in options if r == self.demo_receiver_id] or options
        m, r = self.rng.choice(options)
        if self.hazardous[code]:
            carriers = self.rng.sample(self.hz_transporters, self.rng.choice([1, 1, 2]))
        else:
            carriers = [self.rng.choice(self.all_transporters)]
        if own and self.demo_transporter_id in (
            self.hz_transporters if self.hazardous[code] else self.all_transporters
        ):
            carriers = list({self.demo_transporter_id, carriers[0]})  # ... carried by the demo transporter
        annual = stream.annual_quantity_t
        qty = (annual * Decimal(self.rng.randint(15, 45)) / 100).quantize(Decimal("0.1"))
        return LineSpec(stream, m, r, sorted(carriers), max(qty, Decimal("0.5")))

    def lines_for(self, factory: Factory, outcome: str) -> list[LineSpec]:
        rng = self.rng
        if outcome == "auto":
            usable = [s for s in factory.streams if any(code == s.waste_code_id for code, *_ in AUTO_RULES)]
            if not usable:  # declare a paper stream: every factory has some
                self.declare(factory, ["200101"])
                usable = [factory.streams[-1]]
            specs = [spec for s in usable if (spec := self.line(s, auto=True))]
            return specs[: rng.randint(1, 2)]
        want = 2 if outcome in ("partial", "rejected_lines") else rng.choice([1, 2, 2, 3])
        specs: list[LineSpec] = []
        for n, stream in enumerate(rng.sample(factory.streams, len(factory.streams))):
            # The first line is never in the table, so only "auto" applications are approved by it entirely.
            spec = self.line(stream, auto=False if n == 0 else None)
            if spec:
                specs.append(spec)
            if len(specs) == want:
                break
        return specs

    def file(self, factory: Factory, outcome: str, specs: list[LineSpec]) -> PermitApplication:
        est, actor = factory.establishment, factory.preparer
        names = ", ".join(sorted({s.stream.name for s in specs}))
        app = applications.create_application(actor=actor, data=ApplicationIn(
            note=f"ขออนุญาตนำ{names} ออกนอกบริเวณโรงงานเพื่อบำบัด/กำจัด ประจำปี {self.today.year + 543}"))  # fmt: skip
        for spec in specs:
            applications.add_line(actor=actor, application_id=app.id, data=LineIn(
                stream_id=spec.stream.id, quantity_t=spec.quantity, method=spec.method, receiver_id=spec.receiver,
                transporter_ids=spec.transporters))  # fmt: skip
            self.taken.add((spec.stream.id, spec.method, spec.receiver))
        if outcome != "draft" or self.rng.random() < 0.5:
            applications.upload_document(actor=actor, application_id=app.id, kind="process",
                                         name="process-description.pdf", content=tiny_pdf(
                    f"Process description - {est.name_en}", f"Application {app.reference}",
                    *(f"Line: waste code {s.stream.waste_code_id}, {s.quantity} t per year" for s in specs)))  # fmt: skip
        complete = outcome not in ("draft", "info_requested")  # the others wait for the officer's question
        if complete:
            applications.upload_document(actor=actor, application_id=app.id, kind="receiver_contract",
                                         name="receiver-acceptance-letter.pdf", content=tiny_pdf(
                    f"Letter of acceptance for {app.reference}", f"Generator: {est.name_en}",
                    f"Registration no. {est.registration_no}"))  # fmt: skip
        if complete and any(self.hazardous[s.stream.waste_code_id] for s in specs):
            applications.upload_document(actor=actor, application_id=app.id, kind="analysis",
                                         name="laboratory-analysis.pdf", content=tiny_pdf(
                    f"Laboratory analysis for {app.reference}", "Total metals, flash point, pH: see attached table"))  # fmt: skip
        return app

    def submit(self, factory: Factory, app: PermitApplication) -> PermitApplication:
        app, _findings = applications.submit(actor=factory.submitter, application_id=app.id)
        return app

    def decide(self, factory: Factory, app: PermitApplication, approve: list[bool], reason: str = "") -> None:
        officer = factory.officer
        review.take(actor=officer, application_id=app.id)
        decisions = []
        for index, ok in enumerate(approve, start=1):
            line = app.lines.get(index=index)
            cap = None
            if ok and self.rng.random() < 0.3:  # the officer caps the quantity
                cap = (line.quantity_t * Decimal("0.8")).quantize(Decimal("0.1"))
            decisions.append(LineDecision(index=index, approve=ok, approved_quantity_t=cap,
                                          conditions=self.rng.choice(CONDITIONS) if ok else "",
                                          note="" if ok else "ให้ใช้วิธีการจัดการที่นำกลับมาใช้ประโยชน์แทน"))  # fmt: skip
        review.decide(actor=officer, application_id=app.id, data=DecisionIn(
            lines=decisions, conditions="ปฏิบัติตามประกาศกระทรวงอุตสาหกรรม เรื่อง การกำจัดสิ่งปฏิกูลหรือวัสดุที่ไม่ใช้แล้ว พ.ศ. 2566",
            reason=reason))  # fmt: skip

    def backdate_submission(self, app: PermitApplication, days: int, *, last_days: int | None = None) -> None:
        """Move the (first) submission `days` back, as if it had waited that long in the queue."""
        first = self.now - timedelta(days=days, hours=self.rng.randint(0, 8))
        last = (
            first if last_days is None else self.now - timedelta(days=last_days, hours=self.rng.randint(0, 8))
        )
        PermitApplication.objects.filter(id=app.id).update(
            created_at=first - timedelta(days=self.rng.randint(1, 5)),
            first_submitted_at=first,
            submitted_at=last,
        )
        ApplicationVersion.objects.filter(application=app, version=1).update(submitted_at=first)
        ApplicationVersion.objects.filter(application=app, version__gt=1).update(submitted_at=last)

    def backdate_permit(self, app: PermitApplication, issued_days_ago: int) -> None:
        """Move an issued permit and its application back in time (its validity with it)."""
        shift = timedelta(days=issued_days_ago)
        permit = Permit.objects.get(application=app)
        Permit.objects.filter(id=permit.id).update(
            issued_at=permit.issued_at - shift, valid_from=permit.valid_from - shift,
            valid_until=permit.valid_until - shift)  # fmt: skip
        app = PermitApplication.objects.get(id=app.id)
        waited = timedelta(days=self.rng.randint(4, 12))
        PermitApplication.objects.filter(id=app.id).update(
            created_at=app.created_at - shift - waited - timedelta(days=2),
            first_submitted_at=app.first_submitted_at - shift - waited, submitted_at=app.submitted_at - shift - waited,
            decided_at=app.decided_at - shift)  # fmt: skip
        ApplicationVersion.objects.filter(application=app).update(
            submitted_at=app.submitted_at - shift - waited
        )

    def run_outcome(self, factory: Factory, outcome: str) -> PermitApplication | None:
        rng = self.rng
        specs = self.lines_for(factory, outcome)
        if not specs:
            return None
        app = self.file(factory, outcome, specs)
        n = len(specs)
        if outcome == "draft":
            pass
        elif outcome in ("submitted", "under_review"):
            self.submit(factory, app)
            if outcome == "under_review":
                review.take(actor=factory.officer, application_id=app.id)
            self.backdate_submission(app, rng.randint(3, 20))
        elif outcome in ("info_requested", "resubmitted"):
            self.submit(factory, app)
            review.take(actor=factory.officer, application_id=app.id)
            review.request_info(
                actor=factory.officer, application_id=app.id, reason=rng.choice(REASONS["info"])
            )
            if outcome == "resubmitted":
                applications.upload_document(actor=factory.preparer, application_id=app.id, kind="analysis",
                                             name="additional-information.pdf", content=tiny_pdf(
                        f"Additional information for {app.reference}", "As requested by the estate office"))  # fmt: skip
                self.submit(factory, app)
                days = rng.randint(6, 20)
                self.backdate_submission(app, days, last_days=rng.randint(1, days - 3))
            else:
                self.backdate_submission(app, rng.randint(5, 15))
        elif outcome == "auto":
            app = self.submit(factory, app)
            if app.state != "APPROVED":
                raise RuntimeError(
                    f"demo: {app.reference} was meant to be approved by the auto-approval table"
                )
        elif outcome in ("approved", "suspended", "revoked", "expired"):
            self.submit(factory, app)
            self.decide(factory, app, [True] * n)
        elif outcome == "partial":
            self.submit(factory, app)
            self.decide(factory, app, [True] + [False] * (n - 1), reason=rng.choice(REASONS["partial"]))
        elif outcome == "rejected":
            self.submit(factory, app)
            review.take(actor=factory.officer, application_id=app.id)
            review.reject(actor=factory.officer, application_id=app.id, reason=rng.choice(REASONS["reject"]))
        elif outcome == "rejected_lines":
            self.submit(factory, app)
            self.decide(factory, app, [False] * n, reason=rng.choice(REASONS["reject"]))
        else:
            raise ValueError(outcome)

        number = Permit.objects.filter(application=app).values_list("number", flat=True).first()
        if outcome in ("suspended", "revoked"):
            action = "suspend" if outcome == "suspended" else "revoke"
            permits.change_permit_state(actor=factory.officer, number=number, action=action,
                                        reason=rng.choice(REASONS[action]))  # fmt: skip
        if outcome in ("rejected", "rejected_lines", "revoked"):
            self.taken -= {(s.stream.id, s.method, s.receiver) for s in specs}
        if outcome == "partial":
            self.taken -= {(s.stream.id, s.method, s.receiver) for s in specs[1:]}
        self.counts[outcome] += 1
        return app

    def expired(self, factory: Factory, renew: bool) -> None:
        """A permit issued about a year ago that has run out; optionally renewed today for the same lines."""
        app = self.run_outcome(factory, "expired")
        if app is None:
            return
        self.backdate_permit(app, issued_days_ago=self.rng.randint(380, 420))
        specs = [(ln.stream, ln.method_id, ln.receiver_id) for ln in app.lines.select_related("stream")]
        self.taken -= {(s.id, m, r) for s, m, r in specs}
        if renew:
            self.renewals.append((factory, app))

    def renewal(self, factory: Factory, old: PermitApplication) -> None:
        """The same lines as an expired permit, applied for again and approved."""
        specs = [LineSpec(ln.stream, ln.method_id, ln.receiver_id, sorted(t.id for t in ln.transporters.all()),
                          ln.quantity_t)
                 for ln in old.lines.select_related("stream").prefetch_related("transporters").order_by("index")]  # fmt: skip
        if any((s.stream.id, s.method, s.receiver) in self.taken for s in specs):
            return
        app = self.file(factory, "approved", specs)
        self.submit(factory, app)
        self.decide(factory, app, [True] * len(specs))
        self.counts["renewal"] += 1


def build_permits(builder: DemoBuilder) -> dict[str, int]:
    """Add the permit part of the demo. Returns how many of each outcome were built."""
    demo = PermitDemo(builder)
    demo.auto_rules()
    demo.licences()
    demo.transporters()
    own, others = demo.factories()
    demo.declare(own, DEMO_GENERATOR_STREAMS)
    for factory in others:
        demo.declare(factory, demo.stream_codes())

    # Last year's permits first: moved back a year and expired, as the nightly job would (audited).
    demo.expired(own, renew=True)
    for factory in others[::6]:
        demo.expired(factory, renew=False)
    demo.counts["expired_by_job"] = permits.expire_due(today=demo.today)
    # The demo generator renews last year's permit: the same lines again, approved.
    for factory, old in demo.renewals:
        demo.renewal(factory, old)

    # The demo generator: one application ending in each state, so its users see every screen.
    for outcome in ["approved", "auto", "partial", "suspended", "revoked", "submitted", "under_review",
                    "info_requested", "resubmitted", "draft", "rejected", "rejected_lines"]:  # fmt: skip
        demo.run_outcome(own, outcome)

    # The other factories: the Map Ta Phut and Bangpoo ones have something waiting in their office's queue.
    later = {o: w for o, w in OUTCOMES.items() if o != "expired"}
    for factory in others:
        plan = []
        code = factory.establishment.estate.code if factory.establishment.estate_id else ""
        if code in demo.groups["map-ta-phut"] or code in demo.groups["bangpoo"]:
            plan.append(demo.rng.choice(["submitted", "submitted", "under_review", "resubmitted"]))
        plan += demo.rng.choices(list(later), list(later.values()), k=demo.rng.randint(1, 2))
        for outcome in plan:
            demo.run_outcome(factory, outcome)

    # The point of this data set: every state is there (whatever the seed); fail the load loudly otherwise.
    app_states = set(PermitApplication.objects.values_list("state", flat=True))
    permit_states = set(Permit.objects.values_list("state", flat=True))
    missing = {s.value for s in ApplicationState} - app_states
    missing |= {s.value for s in PermitState} - permit_states
    if missing:
        raise RuntimeError(f"demo data: no application or permit in state(s) {', '.join(sorted(missing))}")
    return dict(demo.counts)
