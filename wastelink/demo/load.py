"""Build the demo data set: estate offices, ~300 factories, ~20 receivers, ~15 transporters with ~120 vehicles,
one user per role, then waste streams, applications and permits in every state (permits.py) and about sixty
manifests in every state over the last two months (manifests.py). Everything goes through the services, so it is
validated and audited like real input. Deterministic: the same seed gives the same registration numbers, names,
places, accounts, streams, applications and manifests (dates and licence validity are relative to the day of loading).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from pyproj import Geod

from wastelink.accounts.access import SystemActor
from wastelink.accounts.models import Organisation, User
from wastelink.audit import services as audit
from wastelink.core.roles import Role
from wastelink.registry.models import (
    Driver,
    Establishment,
    Estate,
    ManagementMethod,
    TransporterLicence,
    WasteCode,
)
from wastelink.registry.schemas import EstablishmentIn, ReceiverLicenceIn, VehicleIn
from wastelink.registry.services.establishments import upsert_establishment
from wastelink.registry.services.fleet import grant_receiver_licence, register_vehicle

from . import names

GEOD = Geod(ellps="WGS84")
MARKER = "wastelink administration (demo)"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    organisation: str
    note: str


# Which estates each demo estate office covers. Map Ta Phut's office watches the Rayong cluster.
OFFICE_GROUPS = {
    "map-ta-phut": ["map-ta-phut", "map-ta-phut-port", "padaeng", "asia-map-ta-phut", "wha-eastern-map-ta-phut",
                    "ril", "smart-park"],
    "bangpoo": ["bangpoo", "phraeksa", "bang-phli"],
    "laem-chabang": ["laem-chabang", "pinthong", "pinthong-2", "pinthong-3"],
    "northern-region": ["northern-region"],
}  # fmt: skip


def already_loaded() -> bool:
    return Organisation.objects.filter(kind="platform", name_en=MARKER).exists()


class DemoBuilder:
    def __init__(self, seed: int):
        self.seed = seed
        self.rng = random.Random(seed)
        self.actor = SystemActor("demo")
        self.used_regs: set[str] = set(Establishment.objects.values_list("registration_no", flat=True))
        self.used_names: set[str] = set()

    # -- helpers ---------------------------------------------------------------------------------------------
    def registration_no(self, inside: bool, agency: str | None = None) -> str:
        while True:
            a = agency or ("7" if inside else self.rng.choice("12"))
            b = self.rng.choice("23") if inside else "0"
            rest = "".join(self.rng.choice("0123456789") for _ in range(12))
            reg = a + b + rest
            if reg not in self.used_regs:
                self.used_regs.add(reg)
                return reg

    def company(self, middle: tuple[str, str] | None = None) -> tuple[str, str]:
        for _ in range(1000):
            p = self.rng.choice(names.PREFIXES)
            m = middle or self.rng.choice(names.INDUSTRIES)
            suffix = self.rng.choice(["", " (Thailand)", " Industries"])
            en = f"{p[0]} {m[0]}{suffix} Co., Ltd."
            if en not in self.used_names:
                self.used_names.add(en)
                th_suffix = {"": "", " (Thailand)": " (ประเทศไทย)", " Industries": " อินดัสทรีส์"}[suffix]
                return f"บริษัท {p[1]} {m[1]}{th_suffix} จำกัด", en
        raise RuntimeError("ran out of demo names")

    def near(self, lat: float, lon: float, max_m: float) -> tuple[float, float]:
        lon2, lat2, _ = GEOD.fwd(lon, lat, self.rng.uniform(0, 360), self.rng.uniform(0, max_m))
        return round(lat2, 6), round(lon2, 6)

    def establishment(self, *, roles: list[str], estate: Estate | None, near: tuple[float, float, str],
                      middle=None, factory_type: str | None = None) -> Establishment:  # fmt: skip
        name_th, name_en = self.company(middle)
        lat, lon = self.near(near[0], near[1], 1000 if estate else 15000)
        province_th = names.PROVINCES_TH.get(near[2], near[2])
        data = EstablishmentIn(
            registration_no=self.registration_no(estate is not None), name_th=name_th, name_en=name_en,
            legacy_no=f"3-{factory_type or self.rng.choice(['42', '44', '53', '60', '64'])}(1)-{self.rng.randint(1, 999)}/{self.rng.randint(40, 67)}",
            diw_generator_id=f"DIW-G-{self.rng.randint(0, 9_999_999):07d}" if "generator" in roles else "",
            diw_transporter_id=f"DIW-T-{self.rng.randint(0, 9_999_999):07d}" if "transporter" in roles else "",
            address=f"เลขที่ {self.rng.randint(1, 999)}/{self.rng.randint(1, 99)} จังหวัด{province_th}",
            province=near[2], lat=lat, lon=lon, estate=estate.code if estate else None, factory_type=factory_type,
            roles=roles,
        )  # fmt: skip
        est, _ = upsert_establishment(actor=self.actor, data=data)
        return est

    # -- the data set ----------------------------------------------------------------------------------------
    def build(self) -> list[DemoAccount]:
        estates = list(Estate.objects.order_by("code"))
        by_code = {e.code: e for e in estates}
        platform = Organisation.objects.create(kind="platform", name_th="ผู้ดูแลระบบ wastelink", name_en=MARKER)
        hq = Organisation.objects.create(kind="ieat_hq", name_th="การนิคมอุตสาหกรรมแห่งประเทศไทย (สำนักงานใหญ่)",
                                         name_en="IEAT Headquarters")  # fmt: skip
        diw = Organisation.objects.create(
            kind="diw", name_th="กรมโรงงานอุตสาหกรรม", name_en="Department of Industrial Works"
        )
        offices: dict[str, Organisation] = {}
        grouped = {c for group in OFFICE_GROUPS.values() for c in group}
        for e in estates:
            if e.code in grouped and e.code not in OFFICE_GROUPS:
                continue
            office = Organisation.objects.create(kind="estate_office", name_th=f"สำนักงาน{e.name_th}",
                                                 name_en=f"{e.name_en} Office")  # fmt: skip
            office.estates.set([by_code[c] for c in OFFICE_GROUPS.get(e.code, [e.code]) if c in by_code])
            offices[e.code] = office

        # Factories: weighted towards the eastern seaboard, as in reality; a few outside the estates.
        weights = [3 if e.province in ("Rayong", "Chonburi") else 1 for e in estates]
        generators: list[Establishment] = []
        for _ in range(290):
            e = self.rng.choices(estates, weights)[0]
            generators.append(
                self.establishment(roles=["generator"], estate=e, near=(e.lat, e.lon, e.province))
            )
        for _ in range(15):
            e = self.rng.choice(estates)
            generators.append(
                self.establishment(roles=["generator"], estate=None, near=(e.lat, e.lon, e.province))
            )

        entry_codes = list(
            WasteCode.objects.filter(level="entry").order_by("code").values_list("code", flat=True)
        )
        methods = {m.code: m for m in ManagementMethod.objects.all()}
        receivers: list[Establishment] = []
        # Licences run from a year ago to two or three years ahead, whenever the demo is loaded.
        today = timezone.localdate()
        licensed_from = today - timedelta(days=365)
        type_methods = {"101": ["041", "043", "044", "049", "061"], "105": ["071", "072", "073", "074", "021"],
                        "106": ["011", "012", "013", "019", "031", "081", "082"]}  # fmt: skip
        for i in range(20):
            ftype = ["101", "105", "106"][i % 3]
            inside = i % 4 == 0
            e = by_code["map-ta-phut"] if inside and i % 8 == 0 else self.rng.choice(estates)
            est = self.establishment(roles=["receiver"], estate=e if inside else None, near=(e.lat, e.lon, e.province),
                                     middle=names.RECEIVER_KINDS[ftype], factory_type=ftype)  # fmt: skip
            receivers.append(est)
            codes = sorted(self.rng.sample(entry_codes, 120))
            ms = [m for m in type_methods[ftype] if m in methods]
            grant_receiver_licence(actor=self.actor, establishment_id=est.id, data=ReceiverLicenceIn(
                licence_no=f"RL-{ftype}-{licensed_from.year + 543}-{i + 1:04d}", factory_type=ftype, waste_codes=codes,
                methods=ms, annual_capacity_t=Decimal(self.rng.choice([5000, 12000, 30000, 60000, 150000])),
                valid_from=licensed_from, valid_until=today + timedelta(days=(2 + i % 2) * 365)))  # fmt: skip

        transporters: list[Establishment] = []
        kinds = ["truck_6w", "truck_10w", "tanker", "semi_trailer", "roll_off"]
        provinces = ["ชลบุรี", "ระยอง", "สมุทรปราการ", "กรุงเทพมหานคร", "ฉะเชิงเทรา"]
        for i in range(15):
            e = self.rng.choice(estates)
            est = self.establishment(roles=["transporter"], estate=None, near=(e.lat, e.lon, e.province),
                                     middle=names.TRANSPORT)  # fmt: skip
            transporters.append(est)
            lic = TransporterLicence.objects.create(
                transporter=est, licence_no=f"TL-{licensed_from.year + 543}-{i + 1:04d}", hazardous_approved=i % 5 != 4,
                valid_from=licensed_from, valid_until=today + timedelta(days=2 * 365))  # fmt: skip
            audit.record(
                actor=self.actor, action="transporter_licence.grant", obj=lic, after=audit.snapshot(lic)
            )
            for _ in range(8):
                register_vehicle(actor=self.actor, establishment_id=est.id, data=VehicleIn(
                    plate=f"{self.rng.randint(70, 72)}-{self.rng.randint(1000, 9999)}", province=self.rng.choice(provinces),
                    kind=self.rng.choice(kinds), capacity_kg=self.rng.choice([6000, 12000, 15000, 25000, 30000]),
                    gps_device_id=f"35{self.rng.randint(10**12, 10**13 - 1)}", hazardous_approved=lic.hazardous_approved))  # fmt: skip
            for d in range(3):
                drv = Driver.objects.create(
                    transporter=est, name=f"{self.rng.choice(names.FIRST_NAMES)} {self.rng.choice(names.LAST_NAMES)}",
                    licence_no=f"ท.{self.rng.randint(10_000_000, 99_999_999)}", hazardous_trained=d != 2)  # fmt: skip
                audit.record(actor=self.actor, action="driver.register", obj=drv, after=audit.snapshot(drv))

        # Accounts: one per role, attached to the organisations above.
        mtp_generator = next(
            g for g in generators if g.estate and g.estate.code in OFFICE_GROUPS["map-ta-phut"]
        )
        plan = [
            (
                "gen.preparer",
                Role.GENERATOR_PREPARER,
                mtp_generator.organisation,
                "prepares applications and manifests",
            ),
            (
                "gen.certifier",
                Role.GENERATOR_CERTIFIER,
                mtp_generator.organisation,
                "signs for the generator",
            ),
            (
                "trans.dispatcher",
                Role.TRANSPORTER_DISPATCHER,
                transporters[0].organisation,
                "manages the fleet",
            ),
            ("trans.driver", Role.TRANSPORTER_DRIVER, transporters[0].organisation, "signs at pickup"),
            ("recv.operator", Role.RECEIVER_OPERATOR, receivers[0].organisation, "weighs at the gate"),
            ("recv.certifier", Role.RECEIVER_CERTIFIER, receivers[0].organisation, "signs on receipt"),
            ("officer.mtp", Role.ESTATE_OFFICER, offices["map-ta-phut"], "Map Ta Phut cluster"),
            ("officer.bangpoo", Role.ESTATE_OFFICER, offices["bangpoo"], "Bangpoo cluster"),
            ("hq.officer", Role.HQ_OFFICER, hq, "all estates"),
            ("diw.regulator", Role.REGULATOR, diw, "national, read-only"),
            ("admin", Role.ADMIN, platform, "administration"),
        ]
        accounts = []
        for username, role, org, note in plan:
            password = f"{username.replace('.', '-')}-2569"
            first, last = self.rng.choice(names.FIRST_NAMES), self.rng.choice(names.LAST_NAMES)
            user = User.objects.create_user(username=username, password=password, first_name=first, last_name=last,
                                            email=f"{username}@demo.invalid", organisation=org, role=role.value,
                                            is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN)  # fmt: skip
            if role == Role.TRANSPORTER_DRIVER:
                drv = Driver.objects.filter(transporter=transporters[0], user=None).order_by("id").first()
                if drv:
                    drv.user = user
                    drv.save(update_fields=["user"])
            audit.record(actor=self.actor, action="user.create", obj=user,
                         after={"username": username, "role": role.value, "organisation": org.id})  # fmt: skip
            accounts.append(DemoAccount(username, password, role.value, str(org), note))

        # Waste streams, applications in every state and permits in every state (wastelink/demo/permits.py).
        from .permits import build_permits

        build_permits(self)
        # Manifests in every state over the last two months, through the same services (wastelink/demo/manifests.py).
        from .manifests import build_manifests

        build_manifests(self)
        from .tracks import build_tracks

        build_tracks(self.seed)
        return accounts


def demo_accounts() -> list[DemoAccount]:
    """The demo accounts as they are in the database (passwords follow the demo scheme)."""
    out = []
    for user in (
        User.objects.filter(email__endswith="@demo.invalid").select_related("organisation").order_by("id")
    ):
        out.append(DemoAccount(user.username, f"{user.username.replace('.', '-')}-2569", user.role,
                               str(user.organisation) if user.organisation else "", ""))  # fmt: skip
    return out


def load_demo(seed: int) -> tuple[bool, list[DemoAccount]]:
    """Load the demo data once. Returns (loaded_now, accounts)."""
    if already_loaded():
        return False, demo_accounts()
    # The services notify by email too; the demo addresses are @demo.invalid, so the mails are not sent (the
    # in-app notifications are kept). The backend is swapped until after the commit, when the mails would go.
    with (
        override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
        transaction.atomic(),
    ):
        accounts = DemoBuilder(seed).build()
    return True, accounts
