"""Demo e-manifests: about sixty loads over the last two months and the next two days, in every state.

Built after the permits (demo/permits.py), from the builder's random generator, so the same seed gives the same
loads, quantities, routes and outcomes (the times are relative to the moment of loading). Every step goes through the
manifest services (create, schedule, pickup, deliver, receive, complete, cancel, explain and review a discrepancy,
correct, reroute), so each load is validated against its permit line, vehicle and quantity left, each hand-over is
signed over the hash of the document the signer was shown, and everything is written to the audit trail.

- The demo generator (gen.preparer drafts, gen.certifier signs) ships on its ACTIVE permit lines, which name the
  demo transporter (trans.driver picks up and delivers, trans.dispatcher corrects) and the demo receiver
  (recv.certifier signs receipt, recv.operator completes and explains), so the three demo logins see the same loads
  and each has something to act on: a draft to sign, loads to pick up and deliver, loads to receive, a discrepancy
  to explain, loads to complete.
- About fifteen other generators with ACTIVE permits ship too. Their factories, transporters and receivers have no
  demo login: a stand-in of the right role and factory drafts, completes and explains (demo/permits.py
  FactoryActor, named "system:demo for <registration number>" in the audit trail), and the signatures, which name a
  database user, are given by non-login users of the right role created here ("demo-<registration no>-certifier",
  "demo-<registration no>-driver"; unusable passwords, no demo email, so `wastelink demo accounts` does not list
  them).
- Receipts with discrepancies: codes A and C explained by the receiver after receipt, code B (with the waste
  number actually received) and code A given at receipt, one left unexplained, two reviewed and closed by the
  officer of the route (officer.mtp, and diw.regulator for a factory outside the estates). Also a partly rejected
  load returned to its generator on a linked manifest, a correction by the generator and one by the transporter
  (version 2 with a reason), cancellations, completions by a method other than the permitted one (the mass
  balance flags them), and overdue loads for the officers (delivered but not received within the receipt
  deadline, in transit past the expected arrival).

The services stamp every step with the current time; afterwards the times are moved back with queryset updates (as
demo/permits.py moves applications back), so the loads spread over the last two months at daytime in Bangkok with
1-6 hour trips (the loads on the road right now are the exception when the demo is loaded at night). The permits
they ran under are moved back to before the first of them. The audit records keep the moment of loading, and the
document hashes of the signatures are those of the documents shown at loading.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from wastelink.accounts.models import User
from wastelink.audit import services as audit
from wastelink.core.manifest_rules import ManifestState
from wastelink.core.roles import Role
from wastelink.core.waste_codes import is_hazardous
from wastelink.manifests.models import Manifest, ManifestVersion, Signature
from wastelink.manifests.schemas import CompleteIn, CorrectionIn, ManifestIn, ReceiveIn, RerouteIn, SignIn
from wastelink.manifests.services import corrections, custody, oversight
from wastelink.manifests.services.document import document_hash
from wastelink.permits.models import ApplicationVersion, Permit, PermitApplication, PermitLine
from wastelink.registry.models import Driver, Establishment, ReceiverLicence, Vehicle, WasteCode

from . import names
from .permits import METHOD_TYPE, FactoryActor

if TYPE_CHECKING:
    from .load import DemoBuilder

M = ManifestState
OTHER_GENERATORS = 15
# How a container of each kind is filled, in kg (a 200 L drum, a 1,000 L IBC, a jumbo bag, a bin).
FILL_KG = {"drum": 180, "ibc": 900, "bag": 750, "bin": 250}
CONTAINERS = {"liquid": ["drum", "ibc"], "sludge": ["drum", "bag"], "solid": ["bag", "bin", "drum"],
              "mixed": ["bin", "bag"], "powder": ["bag"], "gas": ["drum"]}  # fmt: skip
CANCEL_REASONS = ["ผู้รับบำบัดแจ้งเลื่อนวันรับของ เนื่องจากเตาเผาปิดซ่อมบำรุง",
                  "ปริมาณของเสียยังไม่เต็มภาชนะ รวมกับรอบขนส่งถัดไป",
                  "รถขนส่งไม่พร้อมใช้งาน เปลี่ยนวันขนส่ง"]  # fmt: skip
REVIEW_NOTES = ["ตรวจสอบใบชั่งน้ำหนักของทั้งสองฝ่ายแล้ว ความคลาดเคลื่อนเกิดจากความชื้นของของเสีย ปิดเรื่อง",
                "ผู้ก่อกำเนิดชี้แจงว่าประมาณปริมาณจากจำนวนภาชนะ ให้ชั่งน้ำหนักก่อนออกใบกำกับในรอบถัดไป ปิดเรื่อง"]  # fmt: skip


@dataclass
class Lane:
    """An approved line of an ACTIVE permit: what a generator may send, to whom, carried by whom."""

    line: PermitLine
    generator: Establishment
    receiver: Establishment
    transporters: list[int]
    hazardous: bool
    form: str
    km: float
    budget: Decimal  # tonnes still to plan on this line (some of the permit is left for the demo users)


@dataclass
class Plan:
    end: str  # the state the load is left in
    day: int  # the day of the planned pickup, from today
    discrepancy: str = ""  # "", "A", "A-reviewed", "B", "C", "unexplained", "return"
    other_method: bool = False  # completed by a method other than the permitted one
    correction: str = ""  # "", "generator", "transporter"
    overdue: str = ""  # "", "receipt", "transit"
    cancel_from: str = ""  # "", "DRAFT", "SCHEDULED"
    gate: bool = False  # delivery marked by the receiver at the gate


@dataclass
class Trip:
    lane: Lane
    plan: Plan
    vehicle: Vehicle
    driver: Driver | None
    quantity_t: Decimal
    times: dict[str, datetime] = field(default_factory=dict)


def _q(value: float | Decimal, places: str = "0.001") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


class ManifestDemo:
    def __init__(self, builder: DemoBuilder) -> None:
        from .load import GEOD

        self.geod = GEOD
        self.rng = builder.rng
        self.actor = builder.actor
        self.now = timezone.now().replace(microsecond=0)
        self.today = timezone.localdate()
        self.tz = timezone.get_current_timezone()
        self.users = {u.username: u for u in User.objects.filter(email__endswith="@demo.invalid")}
        self.own_id = self.users["gen.preparer"].organisation.establishment_id
        self.demo_transporter_id = self.users["trans.driver"].organisation.establishment_id
        self.demo_receiver_id = self.users["recv.certifier"].organisation.establishment_id
        self.demo_driver = Driver.objects.filter(user=self.users["trans.driver"]).first()
        self.stand_ins: dict[tuple[int, str], Any] = {}
        self.counts: Counter[str] = Counter()
        self.tolerance = custody.tolerance()
        # The latest office-hours moment up to now: paperwork (drafting, signing, correcting) is done by then.
        local = timezone.localtime(self.now)
        if 8 <= local.hour < 18:
            self.office = self.now - timedelta(minutes=10)
        else:
            self.office = self.at(0 if local.hour >= 18 else -1, 17, 30)

    # -- who acts ----------------------------------------------------------------------------------------------
    def _non_login_user(self, est: Establishment, role: Role, suffix: str) -> User:
        """A database user of the factory who signs for it in the demo; nobody can sign in as it."""
        key = (est.id, role.value)
        if key not in self.stand_ins:
            user = User(username=f"demo-{est.registration_no}-{suffix}", first_name=self.rng.choice(names.FIRST_NAMES),
                        last_name=self.rng.choice(names.LAST_NAMES), email="", organisation=est.organisation,
                        role=role.value)  # fmt: skip
            user.set_unusable_password()
            user.save()
            audit.record(actor=self.actor, action="user.create", obj=user,
                         after={"username": user.username, "role": role.value, "organisation": est.organisation.id},
                         note="non-login demo user: signs manifests for a factory that has no demo account")  # fmt: skip
            self.stand_ins[key] = user
        return self.stand_ins[key]

    def _stand_in(self, est: Establishment, role: Role) -> FactoryActor:
        key = (est.id, f"stand-in:{role.value}")
        if key not in self.stand_ins:
            self.stand_ins[key] = FactoryActor(est, role)
        return self.stand_ins[key]

    def preparer(self, est: Establishment):
        return (
            self.users["gen.preparer"]
            if est.id == self.own_id
            else self._stand_in(est, Role.GENERATOR_PREPARER)
        )

    def generator_certifier(self, est: Establishment) -> User:
        if est.id == self.own_id:
            return self.users["gen.certifier"]
        return self._non_login_user(est, Role.GENERATOR_CERTIFIER, "certifier")

    def driver_user(self, est: Establishment) -> User:
        if est.id == self.demo_transporter_id:
            return self.users["trans.driver"]
        return self._non_login_user(est, Role.TRANSPORTER_DRIVER, "driver")

    def dispatcher(self, est: Establishment):
        if est.id == self.demo_transporter_id:
            return self.users["trans.dispatcher"]
        return self._stand_in(est, Role.TRANSPORTER_DISPATCHER)

    def receiver_certifier(self, est: Establishment) -> User:
        if est.id == self.demo_receiver_id:
            return self.users["recv.certifier"]
        return self._non_login_user(est, Role.RECEIVER_CERTIFIER, "certifier")

    def operator(self, est: Establishment):
        if est.id == self.demo_receiver_id:
            return self.users["recv.operator"]
        return self._stand_in(est, Role.RECEIVER_OPERATOR)

    def officer_for(self, est: Establishment) -> User:
        from .load import OFFICE_GROUPS

        if est.estate_id is None:
            return self.users["diw.regulator"]
        if est.estate.code in OFFICE_GROUPS["map-ta-phut"]:
            return self.users["officer.mtp"]
        if est.estate.code in OFFICE_GROUPS["bangpoo"]:
            return self.users["officer.bangpoo"]
        return self.users["hq.officer"]

    # -- what may be shipped -----------------------------------------------------------------------------------
    def lanes(self) -> dict[int, list[Lane]]:
        lines = (PermitLine.objects.filter(permit__state="ACTIVE", permit__valid_from__lte=self.today,
                                           permit__valid_until__gte=self.today, remaining_quantity_t__gt=0)
                 .select_related("permit", "stream", "waste_code", "receiver", "permit__generator__estate",
                                 "permit__generator__organisation")
                 .prefetch_related("transporters").order_by("permit_id", "index"))  # fmt: skip
        out: dict[int, list[Lane]] = defaultdict(list)
        for line in lines:
            gen, rcv = line.permit.generator, line.receiver
            _, _, metres = self.geod.inv(gen.lon, gen.lat, rcv.lon, rcv.lat)
            out[gen.id].append(Lane(line, gen, rcv, sorted(t.id for t in line.transporters.all()),
                                    is_hazardous(line.waste_code.mark), line.stream.physical_form, metres / 1000,
                                    line.remaining_quantity_t * Decimal("0.7")))  # fmt: skip
        return out

    def pick_lane(self, lanes: list[Lane], *, big: bool = False) -> Lane | None:
        usable = [ln for ln in lanes if ln.budget >= Decimal("0.1")]
        if not usable:
            return None
        if big:  # a load large enough for a weighed difference to show
            return max(usable, key=lambda ln: (ln.budget, -ln.line.id))
        weights = [float(ln.budget) * (1.0 if ln.km <= 300 else 0.05) for ln in usable]
        return self.rng.choices(usable, weights)[0]

    def vehicle(self, lane: Lane, plan: Plan) -> tuple[Vehicle, Driver | None]:
        carriers = list(lane.transporters)
        self.rng.shuffle(carriers)
        if self.demo_transporter_id in carriers and (
            lane.generator.id == self.own_id or self.rng.random() < 0.7
        ):
            carriers.remove(self.demo_transporter_id)
            carriers.insert(0, self.demo_transporter_id)
        for tid in carriers:
            vehicles = Vehicle.objects.filter(transporter_id=tid, active=True).order_by("id")
            if lane.hazardous:  # the service refuses hazardous waste on other vehicles
                vehicles = (
                    vehicles.filter(hazardous_approved=True)
                    .exclude(gps_device_id=None)
                    .exclude(gps_device_id="")
                )
            vehicles = list(vehicles)
            if vehicles:
                break
        else:
            raise RuntimeError(f"demo: no vehicle may carry permit line {lane.line}")
        if lane.form == "liquid":
            vehicles = [v for v in vehicles if v.kind == "tanker"] or vehicles
        vehicle = self.rng.choice(vehicles)
        drivers = list(Driver.objects.filter(transporter_id=tid).order_by("id"))
        if lane.hazardous:
            drivers = [d for d in drivers if d.hazardous_trained] or drivers
        if not drivers:
            return vehicle, None
        if plan.correction == "transporter":  # another driver starts; the demo driver takes over on the way
            return vehicle, next((d for d in drivers if d != self.demo_driver), drivers[0])
        mine = self.demo_driver if self.demo_driver in drivers and self.rng.random() < 0.75 else None
        return vehicle, mine or self.rng.choice(drivers)

    def trip(self, lane: Lane, plan: Plan) -> Trip:
        vehicle, driver = self.vehicle(lane, plan)
        share = lane.line.approved_quantity_t * _q(self.rng.uniform(0.07, 0.13), "0.01")
        cap = Decimal(vehicle.capacity_kg) * Decimal("0.95") / 1000
        qty = min(share, cap, lane.budget)
        qty = max(qty, min(Decimal("0.05"), lane.budget))
        qty = _q(qty, "0.01") if qty >= 1 else _q(qty, "0.001")
        lane.budget -= qty
        return Trip(lane, plan, vehicle, driver, qty)

    # -- times -------------------------------------------------------------------------------------------------
    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        return timezone.make_aware(
            datetime.combine(self.today + timedelta(days=day), time(hour, minute)), self.tz
        )

    def duration(self, lane: Lane) -> timedelta:
        hours = min(6.0, max(1.0, 0.5 + lane.km * 1.3 / 50))
        return timedelta(minutes=round(hours * 4) * 15)

    def minutes(self, low: int, high: int) -> timedelta:
        return timedelta(minutes=self.rng.randint(low, high))

    def timeline(self, trip: Trip) -> None:
        """The planned and actual times of a load, daytime in Bangkok, consistent with its state."""
        plan, rng, now = trip.plan, self.rng, self.now
        trip_time = self.duration(trip.lane)
        t: dict[str, datetime] = {}
        if plan.end == M.IN_TRANSIT and not plan.overdue:  # on the road now
            planned = now - self.minutes(40, 150)
            planned = planned.replace(minute=planned.minute - planned.minute % 5, second=0)
            expected = planned + max(trip_time, (now - planned) + self.minutes(30, 90))
        elif plan.end == M.DELIVERED and not plan.overdue:  # arrived within the receipt deadline
            arrived = self.at(0, rng.randint(14, 16), rng.randint(0, 59))
            if arrived > now - timedelta(minutes=10):  # later today: earlier today, or yesterday afternoon
                late = timezone.localtime(now).hour >= 9
                arrived = now - self.minutes(20, 90) if late else arrived - timedelta(days=1)
            planned = arrived - trip_time - self.minutes(0, 20)
            planned = planned.replace(minute=planned.minute - planned.minute % 15, second=0)
            expected = planned + trip_time
            t["delivered"] = arrived
        else:
            latest = max(7, int(17 - trip_time.total_seconds() / 3600))
            planned = self.at(plan.day, rng.randint(7, latest), rng.choice([0, 15, 30, 45]))
            expected = planned + trip_time
        t["planned"], t["expected"] = planned, expected
        created = self.at(plan.day - rng.randint(1, 3), rng.randint(8, 16), rng.randint(0, 59))
        t["created"] = min(created, self.office - self.minutes(30, 240), planned - self.minutes(60, 600))
        evening = timezone.localtime(t["created"]).replace(hour=18, minute=30)
        scheduled = min(
            t["created"] + self.minutes(20, 300), max(evening, t["created"] + timedelta(minutes=20))
        )
        t["scheduled"] = max(min(scheduled, planned - timedelta(minutes=30), self.office),
                             t["created"] + timedelta(minutes=5))  # fmt: skip
        if plan.end in (M.DRAFT, M.SCHEDULED) or plan.cancel_from:
            trip.times = t
            return
        t["picked"] = min(planned + self.minutes(-10, 30), now - timedelta(minutes=20))
        if plan.end == M.IN_TRANSIT:
            trip.times = t
            return
        if "delivered" not in t:
            t["delivered"] = t["picked"] + trip_time * rng.uniform(0.85, 1.2)
        if plan.end == M.DELIVERED:
            trip.times = t
            return
        t["received"] = min(t["delivered"] + self.minutes(15, 150), now - timedelta(minutes=10))
        t["delivered"] = min(t["delivered"], t["received"] - timedelta(minutes=10))
        if plan.end == M.RECEIVED:
            trip.times = t
            return
        received_day = timezone.localtime(t["received"]).date()
        last_day = self.today if timezone.localtime(now).hour >= 18 else self.today - timedelta(days=1)
        treated = max(min(received_day + timedelta(days=rng.randint(0, 6)), last_day), received_day)
        t["treated"] = timezone.make_aware(datetime.combine(treated, time(rng.randint(15, 17), rng.randint(0, 59))),
                                           self.tz)  # fmt: skip
        t["completed"] = max(
            min(t["treated"], now - timedelta(minutes=5)), t["received"] + timedelta(minutes=30)
        )
        trip.times = t

    # -- the route ---------------------------------------------------------------------------------------------
    def route(self, a: Establishment, b: Establishment) -> dict[str, Any] | None:
        """The planned route: a LineString from the generator to the receiver through a few points slightly off
        the straight line, as a road would run."""
        if None in (a.lat, a.lon, b.lat, b.lon):
            return None
        azimuth, _, metres = self.geod.inv(a.lon, a.lat, b.lon, b.lat)
        n = 3 if metres < 20_000 else 4 if metres < 80_000 else 5
        coords = [[round(a.lon, 6), round(a.lat, 6)]]
        for lon, lat in self.geod.npts(a.lon, a.lat, b.lon, b.lat, n):
            offset = self.rng.uniform(-1, 1) * min(2500.0, max(300.0, metres * 0.03))
            lon2, lat2, _ = self.geod.fwd(lon, lat, azimuth + 90, offset)
            coords.append([round(lon2, 6), round(lat2, 6)])
        coords.append([round(b.lon, 6), round(b.lat, 6)])
        return {"type": "LineString", "coordinates": coords}

    # -- running a load through the services -------------------------------------------------------------------
    @staticmethod
    def signed(number: str) -> SignIn:
        return SignIn(document_sha256=document_hash(Manifest.objects.get(number=number)))

    def container(self, trip: Trip) -> tuple[str, int]:
        kg = trip.quantity_t * 1000
        if trip.lane.form == "liquid" and trip.vehicle.kind == "tanker" and kg >= 3000:
            return "tank", 1
        if (
            trip.lane.form in ("solid", "sludge")
            and kg >= 8000
            and trip.vehicle.kind in ("roll_off", "semi_trailer")
        ):
            return "bulk", 1
        kind = self.rng.choice(CONTAINERS.get(trip.lane.form, ["drum"]))
        return kind, max(1, math.ceil(kg / FILL_KG[kind]))

    def weighed_kg(self, trip: Trip) -> Decimal:
        """What the weighbridge shows: within the tolerance, or clearly outside it for a discrepancy."""
        declared = trip.quantity_t * 1000
        allowed = self.tolerance.allowed_kg(declared)
        kind = trip.plan.discrepancy
        if kind in ("A", "A-reviewed", "unexplained", "B"):  # short
            diff = -min(max(declared * _q(self.rng.uniform(0.08, 0.15), "0.01"), allowed * Decimal("1.5")),
                        declared * Decimal("0.9"))  # fmt: skip
        elif kind == "C":  # heavier: rain water in open containers
            diff = max(declared * _q(self.rng.uniform(0.07, 0.12), "0.01"), allowed * Decimal("1.5"))
        elif kind == "return":  # the accepted part
            diff = -declared * _q(self.rng.uniform(0.18, 0.3), "0.01")
        else:  # a few per cent either way, well inside the tolerance
            diff = declared * _q(self.rng.uniform(-0.03, 0.025), "0.001")
            diff = max(min(diff, allowed * Decimal("0.7")), -allowed * Decimal("0.7"))
        step = Decimal(5) if declared >= 1000 else Decimal(1)
        return ((declared + diff) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step

    def other_method(self, lane: Lane) -> str:
        permitted = lane.line.method_id
        licensed = sorted(set(ReceiverLicence.objects.filter(receiver=lane.receiver, suspended=False)
                              .values_list("methods__code", flat=True)) - {permitted, None})  # fmt: skip
        same_type = [m for m in licensed if METHOD_TYPE.get(m) == METHOD_TYPE.get(permitted)]
        return (same_type or licensed or [permitted])[0]

    def run(self, trip: Trip) -> Manifest:
        lane, plan = trip.lane, trip.plan
        gen, rcv = lane.generator, lane.receiver
        transporter = trip.vehicle.transporter
        t = trip.times
        container, count = self.container(trip)
        unit, quantity = ("t", trip.quantity_t) if trip.quantity_t >= 1 else ("kg", trip.quantity_t * 1000)
        data = ManifestIn(
            permit_number=lane.line.permit.number, permit_line=lane.line.index, vehicle_id=trip.vehicle.id,
            driver_id=trip.driver.id if trip.driver else None, declared_quantity=_q(quantity), unit=unit,
            container_type=container, container_count=count, physical_form=lane.form,
            planned_pickup_at=t["planned"], expected_arrival_at=t["expected"], route=self.route(gen, rcv),
            corridor_width_m=500)  # fmt: skip
        m = custody.create_manifest(actor=self.preparer(gen), data=data, generator_id=gen.id)
        number = m.number
        if plan.cancel_from == M.DRAFT:
            custody.cancel(actor=self.preparer(gen), number=number, reason=self.rng.choice(CANCEL_REASONS))
            return self.backdate(m, trip)
        if plan.end == M.DRAFT:
            return self.backdate(m, trip)
        custody.schedule(actor=self.generator_certifier(gen), number=number, data=self.signed(number))
        if plan.correction == "generator" and container != "tank" and container != "bulk":
            recount = max(1, count - self.rng.randint(1, 3)) if count > 1 else count + 1
            corrections.correct(actor=self.preparer(gen), number=number, data=CorrectionIn(
                reason=f"นับจำนวนภาชนะใหม่ก่อนรถมารับ: {recount} ภาชนะ ไม่ใช่ {count} ภาชนะ",
                container_count=recount))  # fmt: skip
            self.counts["corrected"] += 1
        if plan.cancel_from == M.SCHEDULED:
            custody.cancel(actor=self.preparer(gen), number=number, reason=self.rng.choice(CANCEL_REASONS))
            return self.backdate(m, trip)
        if plan.end == M.SCHEDULED:
            return self.backdate(m, trip)
        driver_user = self.driver_user(transporter)
        custody.pickup(actor=driver_user, number=number, data=self.signed(number))
        if plan.correction == "transporter":
            self.transporter_correction(trip, number)
        if plan.end == M.IN_TRANSIT:
            return self.backdate(m, trip)
        custody.deliver(actor=self.operator(rcv) if plan.gate else driver_user, number=number)
        if plan.end == M.DELIVERED:
            return self.backdate(m, trip)
        self.receive(trip, number)
        if plan.end != M.RECEIVED:
            method = self.other_method(lane) if plan.other_method else lane.line.method_id
            custody.complete(actor=self.operator(rcv), number=number,
                             data=CompleteIn(final_method=method, treated_on=self.today))  # fmt: skip
        if plan.discrepancy == "return":
            self.return_load(trip, number)
        return self.backdate(m, trip)

    def transporter_correction(self, trip: Trip, number: str) -> None:
        """The transporter hands the load to another driver on the way, and gives the new arrival time."""
        m = Manifest.objects.get(number=number)
        drivers = [
            d
            for d in Driver.objects.filter(transporter_id=m.transporter_id).order_by("id")
            if d.id != m.driver_id
        ]
        if not drivers:
            return
        new = self.demo_driver if self.demo_driver in drivers else drivers[0]
        later = trip.times["expected"] + timedelta(minutes=45)
        corrections.correct(actor=self.dispatcher(trip.vehicle.transporter), number=number, data=CorrectionIn(
            reason="เปลี่ยนพนักงานขับรถที่จุดพักรถ เนื่องจากพนักงานขับรถคนเดิมป่วย เวลาถึงปลายทางเลื่อนออกไป 45 นาที",
            driver_id=new.id, expected_arrival_at=later))  # fmt: skip
        trip.times["expected"] = later
        self.counts["corrected"] += 1

    def receive(self, trip: Trip, number: str) -> None:
        kind = trip.plan.discrepancy
        rcv = trip.lane.receiver
        kg = self.weighed_kg(trip)
        extra: dict[str, Any] = {}
        if kind == "A-reviewed":  # explained at receipt
            extra = {"discrepancy_code": "A", "discrepancy_reason":
                     f"น้ำหนักจากเครื่องชั่งของผู้รับ {kg:,.0f} กก. น้อยกว่าที่แจ้ง ผู้ก่อกำเนิดประมาณปริมาณจากจำนวนภาชนะ"}  # fmt: skip
        elif kind == "B":
            code = trip.lane.line.waste_code_id
            new = (WasteCode.objects.filter(level="entry", code__startswith=code[:4]).exclude(code=code)
                   .order_by("code").values_list("code", flat=True).first())  # fmt: skip
            new = (
                new
                or WasteCode.objects.filter(level="entry").exclude(code=code).order_by("code").first().code
            )
            extra = {"discrepancy_code": "B", "new_waste_code": new, "discrepancy_reason":
                     f"ผลตรวจสอบที่หน้างานพบว่าเป็นของเสียรหัส {new} ไม่ใช่ {code} ตามที่แจ้ง รับไว้บำบัดตามใบอนุญาตของผู้รับ"}  # fmt: skip
        elif kind == "return":
            extra = {"discrepancy_code": "C", "discrepancy_reason":
                     "ภาชนะบรรจุรั่วซึมบางส่วน รับเฉพาะภาชนะที่อยู่ในสภาพดี ส่วนที่เหลือส่งคืนผู้ก่อกำเนิด"}  # fmt: skip
        acceptance = "partial" if kind == "return" else "full"
        _m, findings = custody.receive(actor=self.receiver_certifier(rcv), number=number, data=ReceiveIn(
            document_sha256=self.signed(number).document_sha256, weighed_quantity=kg, unit="kg", acceptance=acceptance,
            **extra))  # fmt: skip
        discrepant = any(f.rule == "MF-DISCREPANCY" for f in findings)
        if bool(kind) != discrepant:
            raise RuntimeError(
                f"demo: {number} was meant to be received {'with' if kind else 'without'} a discrepancy"
            )
        if kind == "C":
            oversight.explain_discrepancy(actor=self.operator(rcv), number=number, code="C", new_waste_code=None,
                                          reason="ภาชนะเปิดรอขนส่งกลางแจ้ง ของเสียดูดซับน้ำฝน น้ำหนักจึงมากกว่าที่แจ้ง")  # fmt: skip
        if kind == "A":
            oversight.explain_discrepancy(actor=self.operator(rcv), number=number, code="A", new_waste_code=None,
                                          reason="ผู้ก่อกำเนิดประมาณปริมาณจากจำนวนภาชนะ ภาชนะบรรจุไม่เต็ม น้ำหนักจริงน้อยกว่าที่แจ้ง")  # fmt: skip
        if kind == "A-reviewed":
            officer = self.officer_for(trip.lane.generator)
            oversight.review_discrepancy(actor=officer, number=number, note=self.rng.choice(REVIEW_NOTES))
            self.counts["reviewed"] += 1
        if kind:
            self.counts[f"discrepancy {kind}"] += 1

    def return_load(self, trip: Trip, number: str) -> None:
        """The refused part goes back to the generator on a linked manifest, to be collected tomorrow morning."""
        parent = Manifest.objects.get(number=number)
        refused_kg = parent.declared_t * 1000 - parent.received_kg
        planned = self.at(1, self.rng.randint(8, 10), self.rng.choice([0, 30]))
        child = corrections.reroute(actor=self.preparer(trip.lane.generator), number=number, data=RerouteIn(
            relation="return", vehicle_id=trip.vehicle.id, quantity_kg=_q(refused_kg), planned_pickup_at=planned,
            expected_arrival_at=planned + self.duration(trip.lane)))  # fmt: skip
        custody.schedule(actor=self.generator_certifier(trip.lane.generator), number=child.number,
                         data=self.signed(child.number))  # fmt: skip
        created = max(min(trip.times["received"] + self.minutes(60, 300), self.office - timedelta(minutes=30)),
                      trip.times["received"] + timedelta(minutes=10))  # fmt: skip
        scheduled = max(min(created + self.minutes(30, 240), self.office), created + timedelta(minutes=5))
        Manifest.objects.filter(id=child.id).update(created_at=created, scheduled_at=scheduled)
        Signature.objects.filter(manifest=child, role="generator").update(signed_at=scheduled)
        self.counts["returned"] += 1

    def backdate(self, m: Manifest, trip: Trip) -> Manifest:
        """Move the service's timestamps back to the load's own times."""
        t = trip.times
        m.refresh_from_db()
        fields: dict[str, Any] = {"created_at": t["created"]}
        for name, key in (("scheduled_at", "scheduled"), ("picked_up_at", "picked"), ("delivered_at", "delivered"),
                          ("received_at", "received"), ("completed_at", "completed")):  # fmt: skip
            if getattr(m, name) is not None and key in t:
                fields[name] = t[key]
        if m.treated_on is not None:
            fields["treated_on"] = timezone.localtime(t["treated"]).date()
        Manifest.objects.filter(id=m.id).update(**fields)
        for role, key in (("generator", "scheduled"), ("transporter", "picked"), ("receiver", "received")):
            if key in t:
                Signature.objects.filter(manifest=m, role=role).update(signed_at=t[key])
        if trip.plan.correction and m.version > 1:
            # the version as signed, then the correction: after the last signature, before now
            after = t.get("picked") or t["scheduled"]
            until = self.now if "picked" in t else max(self.office, after + timedelta(minutes=10))
            ManifestVersion.objects.filter(manifest=m, version=1).update(created_at=t["scheduled"])
            ManifestVersion.objects.filter(manifest=m, version=2).update(
                created_at=after + (until - after) * self.rng.uniform(0.3, 0.7)
            )
        return m

    # -- the plans ---------------------------------------------------------------------------------------------
    def own_plans(self) -> list[Plan]:
        """The demo generator: something in every state for each of the three demo parties."""
        plans = [Plan(M.COMPLETED, day) for day in (-56, -49, -42, -35, -28, -21, -14)]
        plans[2].other_method = True
        plans += [
            Plan(M.CANCELLED, -17, cancel_from=M.SCHEDULED),
            Plan(M.COMPLETED, -10),
            Plan(M.COMPLETED, -4, discrepancy="return"),  # partly refused; the rest comes back tomorrow
            Plan(M.RECEIVED, -6, discrepancy="A-reviewed"),  # closed by officer.mtp; recv.operator completes
            Plan(M.RECEIVED, -3, discrepancy="unexplained"),  # recv.* explain it
            Plan(M.RECEIVED, -2),  # recv.operator completes it
            Plan(
                M.DELIVERED, -3, overdue="receipt"
            ),  # recv.certifier has not signed: overdue for officer.mtp
            Plan(M.DELIVERED, 0, gate=True),  # arrived, marked at the gate by recv.operator
            Plan(M.IN_TRANSIT, 0, correction="transporter"),  # trans.driver delivers it
            Plan(M.SCHEDULED, 1, correction="generator"),  # trans.driver picks it up
            Plan(M.SCHEDULED, 2),
            Plan(M.DRAFT, 1),  # gen.certifier signs it
        ]
        return plans

    def other_plans(self, n: int) -> list[Plan]:
        rng = self.rng
        specials = [
            Plan(M.RECEIVED, -5, discrepancy="A"),
            Plan(M.RECEIVED, -4, discrepancy="C"),
            Plan(M.RECEIVED, -8, discrepancy="B"),
            Plan(M.COMPLETED, -12, discrepancy="A-reviewed"),
            Plan(M.COMPLETED, -rng.randint(15, 50), other_method=True),
            Plan(M.IN_TRANSIT, -1, overdue="transit"),
            Plan(M.DELIVERED, -2, overdue="receipt"),
            Plan(M.DELIVERED, 0),
            Plan(M.IN_TRANSIT, 0),
            Plan(M.IN_TRANSIT, 0),
            Plan(M.SCHEDULED, 1),
            Plan(M.SCHEDULED, 2),
            Plan(M.DRAFT, 1),
            Plan(M.DRAFT, 2),
            Plan(M.CANCELLED, -rng.randint(5, 30), cancel_from=M.DRAFT),
            Plan(M.CANCELLED, 1, cancel_from=M.SCHEDULED),
        ]
        rest = []
        while len(specials) + len(rest) < n:
            if rng.random() < 0.85:
                rest.append(Plan(M.COMPLETED, -rng.randint(4, 58)))
            else:
                rest.append(Plan(M.RECEIVED, -rng.randint(1, 4)))
        return specials + rest

    def other_generators(self, lanes: dict[int, list[Lane]]) -> list[int]:
        """About fifteen generators with ACTIVE permits: those sending to or through the demo parties first, one
        outside the estates (the regulator's), the rest at random."""
        ids = sorted(g for g in lanes if g != self.own_id)
        linked = [g for g in ids if any(self.demo_receiver_id == ln.receiver.id
                                        or self.demo_transporter_id in ln.transporters for ln in lanes[g])]  # fmt: skip
        chosen = linked[:5]
        outside = [g for g in ids if lanes[g][0].generator.estate_id is None and g not in chosen]
        chosen += outside[:1]
        rest = [g for g in ids if g not in chosen]
        chosen += self.rng.sample(rest, min(len(rest), OTHER_GENERATORS - len(chosen)))
        return chosen

    def build(self) -> dict[str, int]:
        lanes = self.lanes()
        trips: list[Trip] = []
        own = [ln for ln in lanes.get(self.own_id, []) if ln.receiver.id == self.demo_receiver_id
               and self.demo_transporter_id in ln.transporters] or lanes.get(self.own_id, [])  # fmt: skip
        for plan in self.own_plans():
            lane = self.pick_lane(own, big=plan.discrepancy in ("A-reviewed", "unexplained", "return"))
            if lane:
                trips.append(self.trip(lane, plan))

        generators = self.other_generators(lanes)
        plans = self.other_plans(n=60 - len(trips))
        # The discrepancies and the reviewed one first, on generators with the largest loads; the regulator
        # reviews the discrepancy of the factory outside the estates.
        outside = [g for g in generators if lanes[g][0].generator.estate_id is None]
        slots = self.rng.sample(generators, len(generators))
        if outside:
            slots.remove(outside[0])
            slots.insert(3, outside[0])  # the fourth plan is the reviewed discrepancy
        for i, plan in enumerate(plans):
            gen_id = slots[i % len(slots)]
            lane = self.pick_lane(lanes[gen_id], big=bool(plan.discrepancy))
            if lane is None:
                lane = next((ln for g in slots for ln in [self.pick_lane(lanes[g])] if ln), None)
            if lane:
                trips.append(self.trip(lane, plan))

        for trip in trips:
            self.timeline(trip)
        # Drafted in the order they were prepared, so the numbers run with time.
        for trip in sorted(trips, key=lambda tr: (tr.times["created"], tr.lane.line.id)):
            self.run(trip)
        self.move_permits_back(trips)
        self.counts["generators"] = len({tr.lane.generator.id for tr in trips})
        return dict(self.counts)

    def move_permits_back(self, trips: list[Trip]) -> None:
        """The permits the loads ran under were issued (today, by demo/permits.py) before the first of them: move
        each back, with its validity and its application, as demo/permits.py moves last year's permits back."""
        first: dict[int, datetime] = {}
        for trip in trips:
            pid = trip.lane.line.permit_id
            first[pid] = min(first.get(pid, trip.times["created"]), trip.times["created"])
        for pid in sorted(first):
            days = (self.today - timezone.localtime(first[pid]).date()).days + self.rng.randint(5, 30)
            shift = timedelta(days=days)
            permit = Permit.objects.select_related("application").get(id=pid)
            app = permit.application
            waited = timedelta(0) if app.auto_decided else timedelta(days=self.rng.randint(3, 10))
            Permit.objects.filter(id=pid).update(
                issued_at=permit.issued_at - shift, valid_from=permit.valid_from - shift,
                valid_until=permit.valid_until - shift)  # fmt: skip
            PermitApplication.objects.filter(id=app.id).update(
                created_at=app.created_at - shift - waited - timedelta(days=2),
                first_submitted_at=app.first_submitted_at - shift - waited,
                submitted_at=app.submitted_at - shift - waited, decided_at=app.decided_at - shift)  # fmt: skip
            ApplicationVersion.objects.filter(application=app).update(
                submitted_at=app.submitted_at - shift - waited
            )
            self.counts["permits moved back"] += 1


def build_manifests(builder: DemoBuilder) -> dict[str, int]:
    """Add the manifest part of the demo. Returns how many loads ended in each state (and the special cases)."""
    counts = ManifestDemo(builder).build()
    states = Counter(Manifest.objects.values_list("state", flat=True))
    counts.update(states)
    missing = {s.value for s in ManifestState} - set(states)
    if missing:
        raise RuntimeError(f"demo data: no manifest in state(s) {', '.join(sorted(missing))}")
    return counts
