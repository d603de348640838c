"""Every custody transition through the API: the refused ones answer 409 and change nothing, the wrong role
answers 403 (or 404 when the manifest is not visible at all), and drafting refuses what the permit, the vehicle or
the clock does not allow. Rejected loads are sent back on a linked manifest."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import make_establishment, make_user
from wastelink.audit.models import AuditRecord
from wastelink.core.findings import Conflict
from wastelink.core.manifest_rules import SignerRole
from wastelink.core.roles import Role
from wastelink.manifests.models import Manifest, Signature
from wastelink.manifests.schemas import CompleteIn
from wastelink.manifests.services import custody
from wastelink.permits.models import Permit, PermitLine
from wastelink.registry.models import Vehicle

from .conftest import manifest_in, new_manifest, receive, sign, to_delivered


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def post(client, url, data=None):
    return client.post(url, data=json.dumps(data or {}), content_type="application/json")


def doc_hash(client, number):
    r = client.get(f"/api/v1/manifests/{number}/document")
    assert r.status_code == 200, r.content
    return r.json()["sha256"]


def rules(r):
    return [e["rule"] for e in r.json()["errors"]]


def fields(r):
    return [e["field"] for e in r.json()["errors"]]


def remaining(w) -> Decimal:
    return PermitLine.objects.get(id=w.line.id).remaining_quantity_t


def snapshot(w, number):
    """Everything a refused transition must leave alone."""
    row = Manifest.objects.filter(number=number).values().get()
    sigs = list(Signature.objects.filter(manifest__number=number).values_list("role", "document_sha256"))
    return row, sigs, AuditRecord.objects.count(), remaining(w), Manifest.objects.count()


def in_state(w, state: str) -> Manifest:
    """A 5 t manifest of gen_a moved through the services to `state`."""
    m = new_manifest(w, "5")
    if state == "DRAFT":
        return m
    if state == "CANCELLED":
        custody.cancel(actor=w.users["gen_a"], number=m.number, reason="not needed")
        return m
    custody.schedule(actor=w.users["gen_a_cert"], number=m.number, data=sign(m))
    if state == "SCHEDULED":
        return m
    custody.pickup(actor=w.users["driver"], number=m.number, data=sign(m))
    if state == "IN_TRANSIT":
        return m
    custody.deliver(actor=w.users["driver"], number=m.number)
    if state == "DELIVERED":
        return m
    receive(w, m, "5000")
    if state == "RECEIVED":
        return m
    custody.complete(actor=w.users["receiver"], number=m.number,
                     data=CompleteIn(final_method="041", treated_on=timezone.localdate()))  # fmt: skip
    assert state == "COMPLETED"
    return m


# Each action with the user entitled to it, so that only the state can refuse it.
def _body(action, client, number):
    if action in ("schedule", "pickup"):
        return {"document_sha256": doc_hash(client, number)}
    if action == "receive":
        return {"document_sha256": doc_hash(client, number), "weighed_quantity": "5000", "unit": "kg",
                "acceptance": "full"}  # fmt: skip
    if action == "complete":
        return {"final_method": "041", "treated_on": str(timezone.localdate())}
    if action == "cancel":
        return {"reason": "no longer needed"}
    return {}


ACTOR = {"schedule": "gen_a_cert", "pickup": "driver", "deliver": "driver", "receive": "receiver_cert",
         "complete": "receiver", "cancel": "gen_a"}  # fmt: skip
ALLOWED_FROM = {"schedule": {"DRAFT"}, "pickup": {"SCHEDULED"}, "deliver": {"IN_TRANSIT"}, "receive": {"DELIVERED"},
                "complete": {"RECEIVED"}, "cancel": {"DRAFT", "SCHEDULED"}}  # fmt: skip
STATES = ["DRAFT", "SCHEDULED", "IN_TRANSIT", "DELIVERED", "RECEIVED", "COMPLETED", "CANCELLED"]
REFUSED = [(s, a) for a in ACTOR for s in STATES if s not in ALLOWED_FROM[a]]


@pytest.mark.django_db
@pytest.mark.parametrize(("state", "action"), REFUSED)
def test_a_refused_transition_answers_409_and_changes_nothing(manifest_world, state, action):
    w = manifest_world
    m = in_state(w, state)
    client = w.client(ACTOR[action])
    body = _body(action, client, m.number)
    before = snapshot(w, m.number)
    r = post(client, f"/api/v1/manifests/{m.number}/{action}", body)
    assert r.status_code == 409, (state, action, r.json())
    assert rules(r) == ["state.transition"]
    assert snapshot(w, m.number) == before


@pytest.mark.django_db
@pytest.mark.parametrize("action", list(ACTOR))
def test_every_allowed_transition_moves_the_manifest(manifest_world, action):
    w = manifest_world
    for start in sorted(ALLOWED_FROM[action]):
        m = in_state(w, start)
        client = w.client(ACTOR[action])
        r = post(client, f"/api/v1/manifests/{m.number}/{action}", _body(action, client, m.number))
        assert r.status_code == 200, (start, action, r.json())
        out = r.json()["manifest"] if action == "receive" else r.json()
        expected = {"schedule": "SCHEDULED", "pickup": "IN_TRANSIT", "deliver": "DELIVERED", "receive": "RECEIVED",
                    "complete": "COMPLETED", "cancel": "CANCELLED"}[action]  # fmt: skip
        assert out["state"] == expected
        assert Manifest.objects.get(number=m.number).state == expected


@pytest.mark.django_db
def test_scheduling_twice_is_refused_and_draws_once(manifest_world):
    w = manifest_world
    m = new_manifest(w, "5")
    cert = w.client("gen_a_cert")
    assert (
        post(
            cert, f"/api/v1/manifests/{m.number}/schedule", {"document_sha256": doc_hash(cert, m.number)}
        ).status_code
        == 200
    )
    before = snapshot(w, m.number)
    r = post(cert, f"/api/v1/manifests/{m.number}/schedule", {"document_sha256": doc_hash(cert, m.number)})
    assert r.status_code == 409 and rules(r) == ["state.transition"]
    assert snapshot(w, m.number) == before
    assert remaining(w) == Decimal("25")
    assert Signature.objects.filter(manifest=m, role="generator").count() == 1


@pytest.mark.django_db
def test_the_same_role_cannot_sign_twice(manifest_world):
    w = manifest_world
    m = in_state(w, "IN_TRANSIT")
    driver, dispatcher = w.client("driver"), w.client("dispatcher")
    # Neither the driver again nor a second user of the same transporter may add a transporter signature.
    for client in (driver, dispatcher):
        r = post(
            client, f"/api/v1/manifests/{m.number}/pickup", {"document_sha256": doc_hash(client, m.number)}
        )
        assert r.status_code == 409
    # Even below the state machine, the signature order refuses a second generator signature.
    m.refresh_from_db()
    with pytest.raises(Conflict) as info:
        custody._sign(w.users["gen_a_cert"], m, SignerRole.GENERATOR, sign(m))
    assert info.value.findings[0].rule == "signature.order"
    assert list(m.signatures.values_list("role", flat=True)) == ["generator", "transporter"]


@pytest.mark.django_db
def test_a_second_signature_in_the_same_role_is_a_conflict_even_if_the_order_check_is_passed(
    manifest_world, monkeypatch
):
    """Two signers racing past the order check meet the one-signature-per-role constraint: 409, not 500."""
    w = manifest_world
    m = in_state(w, "SCHEDULED")
    monkeypatch.setattr(custody, "signature_in_order", lambda signed, role: True)
    m.refresh_from_db()
    with pytest.raises(Conflict) as info:
        custody._sign(w.users["gen_a_cert"], m, SignerRole.GENERATOR, sign(m))
    assert info.value.findings[0].rule == "signature.duplicate"
    assert Signature.objects.filter(manifest=m, role="generator").count() == 1


@pytest.mark.django_db
def test_signatures_are_recorded_in_order_with_the_version_and_the_hash_shown(manifest_world):
    w = manifest_world
    m = new_manifest(w, "5")
    shown = []
    for action, user in (("schedule", "gen_a_cert"), ("pickup", "driver")):
        c = w.client(user)
        shown.append(doc_hash(c, m.number))
        assert (
            post(c, f"/api/v1/manifests/{m.number}/{action}", {"document_sha256": shown[-1]}).status_code
            == 200
        )
    assert post(w.client("driver"), f"/api/v1/manifests/{m.number}/deliver").status_code == 200
    rc = w.client("receiver_cert")
    shown.append(doc_hash(rc, m.number))
    r = post(rc, f"/api/v1/manifests/{m.number}/receive", {"document_sha256": shown[-1], "weighed_quantity": "5",
                                                           "unit": "t", "acceptance": "full"})  # fmt: skip
    assert r.status_code == 200, r.json()
    sigs = r.json()["manifest"]["signatures"]
    assert [s["role"] for s in sigs] == ["generator", "transporter", "receiver"]
    assert [s["document_sha256"] for s in sigs] == shown
    assert len(set(shown)) == 3  # each signer saw the signatures before theirs
    assert [s["manifest_version"] for s in sigs] == [1, 1, 1]
    assert [s["signer_name"] for s in sigs] == ["gen_a_cert", "driver", "receiver_cert"]


@pytest.mark.django_db
def test_a_signature_over_a_stale_document_is_refused(manifest_world):
    w = manifest_world
    m = in_state(w, "IN_TRANSIT")
    rc = w.client("receiver_cert")
    seen_in_transit = doc_hash(rc, m.number)  # the receiver looked before the truck arrived
    assert post(w.client("driver"), f"/api/v1/manifests/{m.number}/deliver").status_code == 200
    before = snapshot(w, m.number)
    r = post(rc, f"/api/v1/manifests/{m.number}/receive", {"document_sha256": seen_in_transit, "weighed_quantity": "5000",
                                                           "unit": "kg", "acceptance": "full"})  # fmt: skip
    assert (
        r.status_code == 409
        and rules(r) == ["signature.document_changed"]
        and fields(r) == ["document_sha256"]
    )
    assert snapshot(w, m.number) == before
    # The same for the generator: a hash of some other document.
    d = new_manifest(w, "1")
    before = snapshot(w, d.number)
    r = post(w.client("gen_a_cert"), f"/api/v1/manifests/{d.number}/schedule", {"document_sha256": "a" * 64})
    assert r.status_code == 409 and rules(r) == ["signature.document_changed"]
    assert snapshot(w, d.number) == before  # nothing drawn from the permit either


@pytest.mark.django_db
def test_wrong_roles_are_refused_with_403(manifest_world):
    w = manifest_world
    draft_m, scheduled, in_transit, delivered, received = (in_state(w, s) for s in
                                                           ("DRAFT", "SCHEDULED", "IN_TRANSIT", "DELIVERED", "RECEIVED"))  # fmt: skip
    cases = [
        ("gen_a", "schedule", draft_m),  # the preparer is not the certifier
        ("driver", "schedule", draft_m),
        ("receiver_cert", "pickup", scheduled),  # the receiver does not sign for the transporter
        ("gen_a_cert", "pickup", scheduled),
        ("gen_a_cert", "deliver", in_transit),
        ("receiver", "receive", delivered),  # the operator weighs but the certifier signs receipt
        ("driver", "receive", delivered),
        ("gen_a", "complete", received),
        ("driver", "complete", received),
        ("receiver", "cancel", scheduled),
        ("dispatcher", "cancel", scheduled),
    ]
    for user, action, m in cases:
        client = w.client(user)
        body = _body(action, client, m.number)
        before = snapshot(w, m.number)
        r = post(client, f"/api/v1/manifests/{m.number}/{action}", body)
        assert r.status_code == 403, (user, action, r.json())
        assert rules(r) == ["access.denied"]
        assert snapshot(w, m.number) == before, (user, action)


@pytest.mark.django_db
def test_the_receiver_may_mark_delivery_at_the_gate_and_the_dispatcher_may_sign_pickup(manifest_world):
    w = manifest_world
    m = in_state(w, "SCHEDULED")
    disp = w.client("dispatcher")
    assert (
        post(
            disp, f"/api/v1/manifests/{m.number}/pickup", {"document_sha256": doc_hash(disp, m.number)}
        ).status_code
        == 200
    )
    assert post(w.client("receiver"), f"/api/v1/manifests/{m.number}/deliver").json()["state"] == "DELIVERED"


@pytest.mark.django_db
def test_a_driver_of_another_transporter_does_not_see_the_load(manifest_world):
    w = manifest_world
    other = make_establishment("20000000000066", "Foxtrot Haulage", None, is_transporter=True)
    w.users["driver_x"] = make_user("driver_x", Role.TRANSPORTER_DRIVER, other.organisation)
    m = in_state(w, "SCHEDULED")
    real_hash = doc_hash(w.client("driver"), m.number)
    before = snapshot(w, m.number)
    x = w.client("driver_x")
    r = post(x, f"/api/v1/manifests/{m.number}/pickup", {"document_sha256": real_hash})
    assert r.status_code == 404
    assert x.get(f"/api/v1/manifests/{m.number}/document").status_code == 404
    assert snapshot(w, m.number) == before


# --- drafting refusals ----------------------------------------------------------------------------------------
def body(w, quantity="5", **over):
    data = manifest_in(w, quantity).model_dump(mode="json")
    data.update(over)
    return data


def refused_draft(w, data, status=400, user="gen_a"):
    count, audits = Manifest.objects.count(), AuditRecord.objects.count()
    r = post(w.client(user), "/api/v1/manifests", data)
    assert r.status_code == status, r.json()
    assert Manifest.objects.count() == count and AuditRecord.objects.count() == audits
    return r


@pytest.mark.django_db
def test_a_manifest_on_a_suspended_permit_is_refused(manifest_world):
    w = manifest_world
    Permit.objects.filter(id=w.permit.id).update(state="SUSPENDED")
    r = refused_draft(w, body(w))
    assert rules(r) == ["permit.not_active"] and fields(r) == ["permit_number"]


@pytest.mark.django_db
def test_scheduling_on_a_permit_suspended_after_drafting_is_refused(manifest_world):
    w = manifest_world
    m = new_manifest(w, "5")
    Permit.objects.filter(id=w.permit.id).update(state="SUSPENDED")
    cert = w.client("gen_a_cert")
    before = snapshot(w, m.number)
    r = post(cert, f"/api/v1/manifests/{m.number}/schedule", {"document_sha256": doc_hash(cert, m.number)})
    assert r.status_code == 400 and rules(r) == ["permit.not_active"]
    assert snapshot(w, m.number) == before


@pytest.mark.django_db
def test_an_expired_permit_is_refused(manifest_world):
    w = manifest_world
    Permit.objects.filter(id=w.permit.id).update(valid_until=timezone.localdate() - timedelta(days=1))
    assert rules(refused_draft(w, body(w))) == ["permit.not_active"]


@pytest.mark.django_db
def test_a_permit_line_of_another_factory_or_a_missing_line_is_refused(manifest_world):
    w = manifest_world
    assert rules(refused_draft(w, body(w, permit_line=2))) == ["permit_line.unknown"]
    assert rules(refused_draft(w, body(w, permit_number="KO1-0000-000000"))) == ["permit_line.unknown"]
    assert rules(refused_draft(w, body(w), user="gen_b")) == ["permit_line.unknown"]


@pytest.mark.django_db
def test_only_the_generators_users_draft(manifest_world):
    w = manifest_world
    for user in ("driver", "receiver", "officer_a", "regulator"):
        assert rules(refused_draft(w, body(w), status=403, user=user)) == ["access.denied"]


@pytest.mark.django_db
def test_a_vehicle_of_a_transporter_not_named_on_the_line_is_refused(manifest_world):
    w = manifest_world
    other = make_establishment("20000000000066", "Foxtrot Haulage", None, is_transporter=True)
    truck = Vehicle.objects.create(transporter=other, plate="709999", province="ระยอง", kind="truck_10w",
                                   capacity_kg=15000, gps_device_id="dev-x", hazardous_approved=True)  # fmt: skip
    r = refused_draft(w, body(w, vehicle_id=truck.id))
    assert rules(r) == ["vehicle.transporter"] and fields(r) == ["vehicle_id"]
    Vehicle.objects.filter(id=w.vehicle.id).update(active=False)
    assert rules(refused_draft(w, body(w))) == ["vehicle.unknown"]


@pytest.mark.django_db
def test_a_hazardous_load_needs_an_approved_vehicle_with_gps(manifest_world):
    w = manifest_world
    no_gps = Vehicle.objects.create(transporter=w.transporter, plate="702222", province="ระยอง", kind="truck_10w",
                                    capacity_kg=15000, gps_device_id=None, hazardous_approved=True)  # fmt: skip
    not_approved = Vehicle.objects.create(transporter=w.transporter, plate="703333", province="ระยอง",
                                          kind="truck_10w", capacity_kg=15000, gps_device_id="dev-3",
                                          hazardous_approved=False)  # fmt: skip
    for v in (no_gps, not_approved):
        r = refused_draft(w, body(w, vehicle_id=v.id))
        assert rules(r) == ["vehicle.hazardous"] and fields(r) == ["vehicle_id"]


@pytest.mark.django_db
def test_the_expected_arrival_must_follow_the_pickup(manifest_world):
    w = manifest_world
    now = timezone.now()
    for arrival in (now + timedelta(minutes=30), now + timedelta(hours=1)):  # before, and at the same moment
        r = refused_draft(w, body(w, planned_pickup_at=(now + timedelta(hours=1)).isoformat(),
                                  expected_arrival_at=arrival.isoformat()))  # fmt: skip
        assert rules(r) == ["manifest.window"] and fields(r) == ["expected_arrival_at"]


@pytest.mark.django_db
def test_naive_times_are_refused_naming_the_field(manifest_world):
    w = manifest_world
    r = refused_draft(w, body(w, planned_pickup_at="2030-01-01T08:00:00"), status=422)
    assert fields(r) == ["planned_pickup_at"] and rules(r) == ["validation"]
    r = refused_draft(w, body(w, expected_arrival_at="2030-01-01T12:00:00"), status=422)
    assert fields(r) == ["expected_arrival_at"]


@pytest.mark.django_db
def test_more_than_the_vehicle_carries_is_refused(manifest_world):
    w = manifest_world
    r = refused_draft(w, body(w, "17"))  # a 15 000 kg truck
    assert rules(r) == ["manifest.capacity"] and fields(r) == ["declared_quantity"]
    assert rules(refused_draft(w, body(w, "17000", unit="kg"))) == ["manifest.capacity"]
    assert (
        post(w.client("gen_a"), "/api/v1/manifests", body(w, "15")).status_code == 201
    )  # a full truck is fine


@pytest.mark.django_db
@pytest.mark.parametrize("route", [
    {"type": "Point", "coordinates": [101.15, 12.7]},
    {"type": "LineString", "coordinates": [[12.7, 101.15], [12.75, 101.2]]},  # latitude and longitude swapped
    {"type": "LineString", "coordinates": [[101.15, 12.7]]},  # one point
    {"type": "LineString", "coordinates": [["a", "b"], [101.2, 12.75]]},
    {"type": "LineString", "coordinates": 5},
    {"type": "LineString"},
    {"coordinates": [[101.15, 12.7], [101.2, 12.75]]},
    {"type": "LineString", "coordinates": [[2.35, 48.85], [2.36, 48.86]]},  # Paris
])  # fmt: skip
def test_a_bad_route_is_refused_naming_route(manifest_world, route):
    w = manifest_world
    r = refused_draft(w, body(w, route=route))
    assert fields(r) == ["route"] and rules(r) == ["route.invalid"]


@pytest.mark.django_db
@pytest.mark.parametrize("route", [
    {"type": "LineString", "coordinates": [[float("nan"), 12.7], [101.2, 12.75]]},
    {"type": "LineString", "coordinates": [[101.15, 12.7], [float("inf"), 12.75]]},
    {"type": "LineString", "coordinates": [[101.15, 12.7], [101.2, 12.75]], "properties": {"speed": float("nan")}},
])  # fmt: skip
def test_a_route_with_non_finite_numbers_is_refused(manifest_world, route):
    """Python's JSON reader accepts NaN and Infinity; such a route must be a 400, not a failed INSERT."""
    w = manifest_world
    count = Manifest.objects.count()
    data = json.dumps(body(w, route=route))
    assert "NaN" in data or "Infinity" in data
    r = w.client("gen_a").post("/api/v1/manifests", data=data, content_type="application/json")
    assert r.status_code == 400, r.content
    assert fields(r) == ["route"] and rules(r) == ["route.invalid"]
    assert Manifest.objects.count() == count


@pytest.mark.django_db
def test_a_good_route_is_kept(manifest_world):
    w = manifest_world
    route = {"type": "LineString", "coordinates": [[101.15, 12.7], [101.0, 13.0], [100.6, 13.6]]}
    r = post(w.client("gen_a"), "/api/v1/manifests", body(w, route=route))
    assert r.status_code == 201 and r.json()["route"] == route


# --- completion -----------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_completion_dates_must_lie_between_receipt_and_today(manifest_world):
    w = manifest_world
    m = in_state(w, "RECEIVED")
    rcv = w.client("receiver")
    today = timezone.localdate()
    for day in (today + timedelta(days=1), today - timedelta(days=1)):
        before = snapshot(w, m.number)
        r = post(
            rcv, f"/api/v1/manifests/{m.number}/complete", {"final_method": "041", "treated_on": str(day)}
        )
        assert r.status_code == 400 and rules(r) == ["manifest.treated_on"] and fields(r) == ["treated_on"]
        assert snapshot(w, m.number) == before
    r = post(rcv, f"/api/v1/manifests/{m.number}/complete", {"final_method": "999", "treated_on": str(today)})
    assert r.status_code == 400 and rules(r) == ["method.unknown"]
    assert post(rcv, f"/api/v1/manifests/{m.number}/complete",
                {"final_method": "041", "treated_on": str(today)}).status_code == 200  # fmt: skip


@pytest.mark.django_db
def test_a_rejected_load_is_not_completed(manifest_world):
    w = manifest_world
    m = new_manifest(w, "5")
    to_delivered(w, m)
    receive(w, m, "5000", acceptance="rejected", discrepancy_code="C", discrepancy_reason="leaking drums")
    before = snapshot(w, m.number)
    r = post(w.client("receiver"), f"/api/v1/manifests/{m.number}/complete",
             {"final_method": "041", "treated_on": str(timezone.localdate())})  # fmt: skip
    assert r.status_code == 400 and rules(r) == ["manifest.rejected"]
    assert snapshot(w, m.number) == before


# --- reroute --------------------------------------------------------------------------------------------------
def reroute_body(w, relation="return", kg="5000", **over):
    now = timezone.now()
    data = {"relation": relation, "vehicle_id": w.vehicle.id, "quantity_kg": kg,
            "planned_pickup_at": (now + timedelta(hours=1)).isoformat(),
            "expected_arrival_at": (now + timedelta(hours=5)).isoformat()}  # fmt: skip
    data.update(over)
    return data


def rejected_load(w):
    m = new_manifest(w, "5")
    to_delivered(w, m)
    receive(w, m, "5000", acceptance="rejected", discrepancy_code="C", discrepancy_reason="leaking drums")
    m.refresh_from_db()
    return m


@pytest.mark.django_db
def test_a_rejected_load_returns_to_the_generator_on_a_linked_manifest(manifest_world):
    w = manifest_world
    first = rejected_load(w)
    r = post(w.client("gen_a"), f"/api/v1/manifests/{first.number}/reroute", reroute_body(w))
    assert r.status_code == 201, r.json()
    child = r.json()
    assert child["parent"] == first.number and child["relation"] == "return"
    assert child["receiver_id"] == w.gen_a.id and child["generator_id"] == w.gen_a.id
    assert child["state"] == "DRAFT" and child["declared_quantity"] == "5000.000" and child["unit"] == "kg"
    assert Manifest.objects.get(number=child["number"]).parent_id == first.id
    assert list(first.children.values_list("number", flat=True)) == [child["number"]]
    child_pk = Manifest.objects.get(number=child["number"]).pk
    assert list(
        AuditRecord.objects.filter(action="manifest.reroute").values_list("object_id", flat=True)
    ) == [str(child_pk)]


@pytest.mark.django_db
def test_a_return_is_not_drawn_from_the_permit_again(manifest_world):
    w = manifest_world
    first = rejected_load(w)
    assert remaining(w) == Decimal("25")
    number = post(w.client("gen_a"), f"/api/v1/manifests/{first.number}/reroute", reroute_body(w)).json()[
        "number"
    ]
    cert = w.client("gen_a_cert")
    r = post(cert, f"/api/v1/manifests/{number}/schedule", {"document_sha256": doc_hash(cert, number)})
    assert r.status_code == 200, r.json()
    assert remaining(w) == Decimal("25")
    # and cancelling it gives nothing back that it never took
    assert (
        post(w.client("gen_a"), f"/api/v1/manifests/{number}/cancel", {"reason": "kept on site"}).status_code
        == 200
    )
    assert remaining(w) == Decimal("25")


@pytest.mark.django_db
def test_an_alternate_reroute_needs_a_permit_line(manifest_world):
    w = manifest_world
    first = rejected_load(w)
    count = Manifest.objects.count()
    r = post(w.client("gen_a"), f"/api/v1/manifests/{first.number}/reroute", reroute_body(w, "alternate"))
    assert r.status_code == 400 and rules(r) == ["reroute.permit"]
    assert Manifest.objects.count() == count


@pytest.mark.django_db
def test_only_rejected_loads_are_rerouted(manifest_world):
    w = manifest_world
    accepted = in_state(w, "RECEIVED")
    completed = in_state(w, "COMPLETED")
    delivered = in_state(w, "DELIVERED")
    count, audits = Manifest.objects.count(), AuditRecord.objects.count()
    for m in (accepted, completed, delivered):
        r = post(w.client("gen_a"), f"/api/v1/manifests/{m.number}/reroute", reroute_body(w))
        assert r.status_code == 400 and rules(r) == ["reroute.not_rejected"], m.state
    assert Manifest.objects.count() == count and AuditRecord.objects.count() == audits


@pytest.mark.django_db
def test_only_the_generator_reroutes(manifest_world):
    w = manifest_world
    first = rejected_load(w)
    count = Manifest.objects.count()
    for user, status in (("receiver", 403), ("driver", 403), ("officer_a", 403), ("gen_b", 404)):
        r = post(w.client(user), f"/api/v1/manifests/{first.number}/reroute", reroute_body(w))
        assert r.status_code == status, (user, r.json())
    assert Manifest.objects.count() == count
