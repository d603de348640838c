"""Parallel schedules never over-issue a permit line: the drawdown is one conditional UPDATE.

Real transactions, one database connection per thread, all threads released together by a barrier. The permit
line holds 30 t; eight 5 t loads are scheduled at once, so exactly six fit. On PostgreSQL the conditional UPDATE is
re-checked after the row lock is released; on SQLite IMMEDIATE transactions queue the writers. Each schedule pauses
between reading the manifest and drawing from the permit line, so that every thread has read before any writes: a
read-then-write drawdown would over-issue here on PostgreSQL.

Run on both: `.venv/bin/pytest -q -p no:cacheprovider wastelink/manifests/tests/test_concurrent_drawdown.py` and
the same with DATABASE_URL=postgres://….
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import World, make_establishment, make_user, race
from wastelink.accounts.models import Organisation
from wastelink.audit.models import AuditRecord
from wastelink.audit.services import verify_chain
from wastelink.core.findings import Conflict, DomainError
from wastelink.core.roles import Role
from wastelink.manifests.models import Manifest, Signature
from wastelink.manifests.schemas import SignIn
from wastelink.manifests.services import custody
from wastelink.manifests.services.document import document_hash
from wastelink.permits.models import PermitLine, WasteStream
from wastelink.permits.schemas import DecisionIn
from wastelink.permits.services import applications as apps
from wastelink.permits.services import review
from wastelink.permits.tests.conftest import draft
from wastelink.registry.models import (
    Estate,
    FactoryType,
    ManagementMethod,
    ReceiverLicence,
    TransporterLicence,
    Vehicle,
    WasteCode,
)
from wastelink.registry.services.reference import load_reference_data

from .conftest import new_manifest, sign

PAUSE_S = 0.2
THREADS = 8

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _writers_queue(writers_queue):
    """SQLite's in-memory test database queues writers as the file database does (conftest.writers_queue)."""


@pytest.fixture
def cworld(transactional_db):
    """The manifest world on committed data: a transactional test database is emptied after every test, so the
    reference data is loaded again, then the shared world, the permit and the manifest setup are built on it."""
    load_reference_data()
    return _build_world()


def _build_world():
    """The same steps as the world, permit_world and manifest_world fixtures, called here after the reference data
    (a fixture would run before it)."""
    estate_a, estate_b = Estate.objects.get(code="map-ta-phut"), Estate.objects.get(code="bangpoo")
    gen_a = make_establishment("72000000000001", "Alpha Chemical", estate_a, is_generator=True)
    gen_b = make_establishment("72000000000002", "Bravo Steel", estate_b, is_generator=True)
    receiver = make_establishment("10000000000004", "Delta Recycling", None, is_receiver=True)
    transporter = make_establishment("20000000000005", "Echo Logistics", None, is_transporter=True)
    office_a = Organisation.objects.create(kind="estate_office", name_th="สำนักงาน A", name_en="Office A")
    office_a.estates.set([estate_a])
    users = {
        "gen_a": make_user("gen_a", Role.GENERATOR_PREPARER, gen_a.organisation),
        "gen_a_cert": make_user("gen_a_cert", Role.GENERATOR_CERTIFIER, gen_a.organisation),
        "driver": make_user("driver", Role.TRANSPORTER_DRIVER, transporter.organisation),
        "receiver": make_user("receiver", Role.RECEIVER_OPERATOR, receiver.organisation),
        "receiver_cert": make_user("receiver_cert", Role.RECEIVER_CERTIFIER, receiver.organisation),
        "officer_a": make_user("officer_a", Role.ESTATE_OFFICER, office_a),
    }
    w = World(estate_a, estate_b, gen_a, gen_b, None, receiver, transporter, users)
    _permit_setup(w)
    app = draft(w, (w.stream_hz, "40", "041"))
    apps.submit(actor=w.users["gen_a"], application_id=app.id)
    review.take(actor=w.users["officer_a"], application_id=app.id)
    review.decide(actor=w.users["officer_a"], application_id=app.id,
                  data=DecisionIn(lines=[{"index": 1, "approve": True, "approved_quantity_t": "30"}]))  # fmt: skip
    app.refresh_from_db()
    w.permit = app.permit
    w.line = app.permit.lines.get()
    w.vehicle = Vehicle.objects.get(gps_device_id="dev-1")
    return w


def _permit_setup(w):
    """permit_world's steps: the receiver's licence, the transporter's licence and vehicle, gen_a's streams."""
    today = timezone.localdate()
    w.receiver.factory_type = FactoryType.objects.get(number="106")
    w.receiver.save()
    lic = ReceiverLicence.objects.create(receiver=w.receiver, licence_no="RL-1", factory_type_id="106",
                                         annual_capacity_t=Decimal("1000"), valid_from=today - timedelta(days=30),
                                         valid_until=today + timedelta(days=700))  # fmt: skip
    lic.waste_codes.set(WasteCode.objects.filter(code__in=["160211", "200101"]))
    lic.methods.set(ManagementMethod.objects.filter(code__in=["041", "082", "011"]))
    TransporterLicence.objects.create(transporter=w.transporter, licence_no="TL-1", hazardous_approved=True,
                                      valid_from=date(2020, 1, 1), valid_until=today + timedelta(days=700))  # fmt: skip
    Vehicle.objects.create(transporter=w.transporter, plate="701234", province="ระยอง", kind="truck_10w",
                           capacity_kg=15000, gps_device_id="dev-1", hazardous_approved=True)  # fmt: skip
    w.stream_hz = WasteStream.objects.create(generator=w.gen_a, waste_code_id="160211", name="แผงวงจรเสีย",
                                             source_process="assembly", physical_form="solid",
                                             annual_quantity_t=Decimal("100"))  # fmt: skip


@pytest.fixture
def widen_the_race(monkeypatch):
    """Pause after the manifest's state is read and before the permit line is drawn from."""
    original = custody.next_state_or_409

    def slow(m, action):
        original(m, action)
        time.sleep(PAUSE_S)

    monkeypatch.setattr(custody, "next_state_or_409", slow)


def remaining(w) -> Decimal:
    return PermitLine.objects.get(id=w.line.id).remaining_quantity_t


def drawn_t(w) -> Decimal:
    states = ["SCHEDULED", "IN_TRANSIT", "DELIVERED", "RECEIVED", "COMPLETED"]
    return sum(Manifest.objects.filter(permit_line=w.line, state__in=states).values_list("declared_t", flat=True),
               Decimal(0))  # fmt: skip


def shown(m: Manifest) -> str:
    """The hash of the document as stored, which is what a signer is shown."""
    m.refresh_from_db()
    return document_hash(m)


def schedule_call(w, number: str, sha: str):
    return lambda: custody.schedule(
        actor=w.users["gen_a_cert"], number=number, data=SignIn(document_sha256=sha)
    )


def test_parallel_schedules_never_over_issue_the_permit_line(cworld, widen_the_race):
    w = cworld
    assert remaining(w) == Decimal("30")
    drafts = [new_manifest(w, "5") for _ in range(THREADS)]
    hashes = [shown(m) for m in drafts]

    results = race(*(schedule_call(w, m.number, h) for m, h in zip(drafts, hashes, strict=True)))

    won = [r for r in results if isinstance(r, Manifest)]
    lost = [r for r in results if not isinstance(r, Manifest)]
    assert len(won) == 6, results
    assert len(lost) == 2 and all(isinstance(e, DomainError) for e in lost), lost
    for e in lost:
        assert isinstance(e, Conflict) or [f.rule for f in e.findings] == ["permit.quantity"], e.findings
    assert remaining(w) == Decimal("0")
    assert drawn_t(w) == Decimal("30")
    assert Manifest.objects.filter(state="SCHEDULED").count() == 6
    assert Manifest.objects.filter(state="DRAFT").count() == 2
    # The losers left nothing behind: no signature, no audit record, no quantity.
    assert Signature.objects.filter(role="generator").count() == 6
    assert set(Signature.objects.values_list("manifest__state", flat=True)) == {"SCHEDULED"}
    assert AuditRecord.objects.filter(action="manifest.schedule").count() == 6
    assert verify_chain().ok


def test_uneven_loads_fill_the_line_without_going_below_zero(cworld, widen_the_race):
    """7 + 7 + 7 + 7 + 5 + 4 + 3 + 2 t against 30 t: whichever commit first, the line never goes negative and
    what is drawn equals what the scheduled manifests declare."""
    w = cworld
    drafts = [new_manifest(w, q) for q in ("7", "7", "7", "7", "5", "4", "3", "2")]
    results = race(*(schedule_call(w, m.number, shown(m)) for m in drafts))
    won = [r for r in results if isinstance(r, Manifest)]
    assert all(isinstance(r, Manifest | DomainError) for r in results), results
    left = remaining(w)
    assert left >= 0
    assert drawn_t(w) == sum((m.declared_t for m in won), Decimal(0)) == Decimal("30") - left
    # Every refused load was refused because it no longer fitted, and it still does not fit now.
    for r in results:
        if isinstance(r, DomainError):
            assert [f.rule for f in r.findings] == ["permit.quantity"], r.findings
    for m in Manifest.objects.filter(state="DRAFT"):
        assert left < m.declared_t, (left, m.declared_t)
    assert len(won) + Manifest.objects.filter(state="DRAFT").count() == len(drafts)


def test_the_same_manifest_scheduled_at_once_is_drawn_once(cworld, widen_the_race):
    w = cworld
    m = new_manifest(w, "5")
    sha = shown(m)
    results = race(*(schedule_call(w, m.number, sha) for _ in range(4)))
    won = [r for r in results if isinstance(r, Manifest)]
    assert len(won) == 1, results
    assert all(isinstance(r, Conflict) for r in results if r not in won), results
    assert remaining(w) == Decimal("25")
    assert Signature.objects.filter(manifest=m).count() == 1
    assert AuditRecord.objects.filter(action="manifest.schedule").count() == 1


def test_schedules_and_cancels_in_parallel_keep_the_books_straight(cworld, widen_the_race):
    """Three scheduled loads are cancelled while seven new ones are scheduled: the quantity given back is
    available to the others, and the line always equals 30 t less what live manifests hold."""
    w = cworld
    first = [new_manifest(w, "5") for _ in range(3)]
    for m in first:
        custody.schedule(actor=w.users["gen_a_cert"], number=m.number, data=sign(m))
    assert remaining(w) == Decimal("15")
    fresh = [new_manifest(w, "5") for _ in range(7)]
    calls = [schedule_call(w, m.number, shown(m)) for m in fresh]
    calls += [(lambda n=m.number: custody.cancel(actor=w.users["gen_a"], number=n, reason="truck broke down"))
              for m in first]  # fmt: skip
    results = race(*calls)
    assert all(isinstance(r, Manifest | DomainError) for r in results), results
    assert all(isinstance(r, Manifest) for r in results[7:]), results[7:]  # every cancel went through
    left = remaining(w)
    assert left >= 0
    assert left == Decimal("30") - drawn_t(w)
    scheduled_now = Manifest.objects.filter(id__in=[m.id for m in fresh], state="SCHEDULED").count()
    # 15 t were free at the start and 15 t were given back during the race: at least 3 and at most 6 fit.
    assert 3 <= scheduled_now <= 6
