"""Weighed receipts and discrepancies, corrections as versions, deadlines, and the mass balance, through the API.

The manifest world's permit line is 30 t of hazardous waste 160211 for gen_a; a 5 t load allows max(5 %, 50 kg) =
250 kg either way before the weight is a discrepancy.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from wastelink.audit.models import AuditRecord
from wastelink.manifests.models import Manifest, ManifestVersion, Signature
from wastelink.manifests.schemas import CompleteIn
from wastelink.manifests.services import custody
from wastelink.permits.models import PermitLine, WasteStream

from .conftest import new_manifest, receive, sign, to_delivered


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


def delivered(w, quantity="5", **over):
    m = new_manifest(w, quantity, **over)
    to_delivered(w, m)
    m.refresh_from_db()
    return m


def receive_api(w, m, kg, acceptance="full", **extra):
    rc = w.client("receiver_cert")
    return post(rc, f"/api/v1/manifests/{m.number}/receive", {
        "document_sha256": doc_hash(rc, m.number), "weighed_quantity": str(kg), "unit": "kg",
        "acceptance": acceptance, **extra})  # fmt: skip


def unchanged(m):
    return Manifest.objects.filter(id=m.id).values().get(), Signature.objects.filter(manifest=m).count(), \
        AuditRecord.objects.count()  # fmt: skip


# --- discrepancies --------------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("kg", ["5000", "5250", "4750"])
def test_a_receipt_within_tolerance_is_no_discrepancy(manifest_world, kg):
    w = manifest_world
    m = delivered(w)
    r = receive_api(w, m, kg)
    assert r.status_code == 200, r.json()
    assert r.json()["warnings"] == []
    assert r.json()["manifest"]["discrepancy"] is False
    assert Decimal(r.json()["manifest"]["received_kg"]) == Decimal(kg)
    m.refresh_from_db()
    assert not m.discrepancy and m.state == "RECEIVED"


@pytest.mark.django_db
@pytest.mark.parametrize("kg", ["5250.001", "4749.999", "4200", "0"])
def test_a_receipt_beyond_tolerance_is_a_discrepancy_asking_for_a_code(manifest_world, kg):
    w = manifest_world
    m = delivered(w)
    r = receive_api(w, m, kg)
    assert r.status_code == 200, r.json()  # a warning, not a refusal
    assert [f["rule"] for f in r.json()["warnings"]] == ["MF-DISCREPANCY", "MF-DISCREPANCY-EXPLAIN"]
    assert all(f["severity"] == "warning" for f in r.json()["warnings"])
    assert r.json()["manifest"]["discrepancy"] is True and r.json()["manifest"]["state"] == "RECEIVED"
    assert Manifest.objects.get(id=m.id).discrepancy


@pytest.mark.django_db
def test_a_discrepancy_explained_at_receipt_does_not_ask_again(manifest_world):
    w = manifest_world
    m = delivered(w)
    r = receive_api(w, m, "4500", discrepancy_code="A", discrepancy_reason="two drums were half full")
    assert [f["rule"] for f in r.json()["warnings"]] == ["MF-DISCREPANCY"]
    out = r.json()["manifest"]
    assert out["discrepancy"] is True and out["discrepancy_code"] == "A"
    assert out["discrepancy_reason"] == "two drums were half full"


@pytest.mark.django_db
@pytest.mark.parametrize("acceptance", ["partial", "rejected"])
def test_partial_or_rejected_acceptance_is_always_a_discrepancy(manifest_world, acceptance):
    w = manifest_world
    m = delivered(w)
    r = receive_api(w, m, "5000", acceptance=acceptance)  # the weight is exactly as declared
    assert r.status_code == 200
    assert "MF-DISCREPANCY" in [f["rule"] for f in r.json()["warnings"]]
    assert r.json()["manifest"]["discrepancy"] is True and r.json()["manifest"]["acceptance"] == acceptance


@pytest.mark.django_db
def test_code_b_needs_a_known_new_waste_code(manifest_world):
    w = manifest_world
    m = delivered(w)
    before = unchanged(m)
    r = receive_api(
        w, m, "5000", acceptance="partial", discrepancy_code="B", discrepancy_reason="not what was declared"
    )
    assert r.status_code == 400 and rules(r) == ["discrepancy.new_code"] and fields(r) == ["new_waste_code"]
    assert unchanged(m) == before
    r = receive_api(w, m, "5000", acceptance="partial", discrepancy_code="B", discrepancy_reason="not declared",
                    new_waste_code="999999")  # fmt: skip
    assert r.status_code == 400 and rules(r) == ["waste_code.unknown"]
    assert unchanged(m) == before
    r = receive_api(w, m, "5000", acceptance="partial", discrepancy_code="B", discrepancy_reason="not declared",
                    new_waste_code="not a code")  # fmt: skip
    assert r.status_code == 422 and fields(r) == ["new_waste_code"]
    assert unchanged(m) == before
    r = receive_api(w, m, "5000", acceptance="partial", discrepancy_code="B", discrepancy_reason="not declared",
                    new_waste_code="16 02 13")  # fmt: skip
    assert r.status_code == 200, r.json()
    m.refresh_from_db()
    assert m.discrepancy_code == "B" and m.discrepancy_new_code_id == "160213"


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   "])
def test_a_code_needs_a_reason(manifest_world, reason):
    w = manifest_world
    m = delivered(w)
    before = unchanged(m)
    r = receive_api(w, m, "4000", discrepancy_code="A", discrepancy_reason=reason)
    assert r.status_code == 400 and rules(r) == ["discrepancy.reason"] and fields(r) == ["discrepancy_reason"]
    assert unchanged(m) == before


@pytest.mark.django_db
def test_the_receiver_explains_and_the_estate_officer_closes_the_discrepancy(manifest_world):
    w = manifest_world
    m = delivered(w)
    receive_api(w, m, "4000")
    url = f"/api/v1/manifests/{m.number}/discrepancy"
    officer = w.client("officer_a")
    # Nothing to review before the receiver explains.
    r = post(officer, f"{url}/review", {"reason": "checked the weighbridge ticket"})
    assert r.status_code == 400 and rules(r) == ["discrepancy.unexplained"]
    # Only the receiver explains.
    for user, status in (("gen_a", 403), ("driver", 403), ("officer_a", 403), ("gen_b", 404)):
        r = post(
            w.client(user), f"{url}/explain", {"discrepancy_code": "A", "discrepancy_reason": "short load"}
        )
        assert r.status_code == status, user
    r = post(w.client("receiver"), f"{url}/explain", {"discrepancy_code": "B", "discrepancy_reason": "other waste",
                                                      "new_waste_code": "999999"})  # fmt: skip
    assert r.status_code == 400 and rules(r) == ["discrepancy.new_code"]
    r = post(
        w.client("receiver"), f"{url}/explain", {"discrepancy_code": "A", "discrepancy_reason": "short load"}
    )
    assert r.status_code == 200 and r.json()["discrepancy_code"] == "A"
    # The officer of the other estate does not see it; the regulator does not review estate factories.
    before = unchanged(m)
    assert post(w.client("officer_b"), f"{url}/review", {"reason": "fine"}).status_code == 404
    r = post(w.client("regulator"), f"{url}/review", {"reason": "fine"})
    assert r.status_code == 403
    assert unchanged(m) == before
    r = post(officer, f"{url}/review", {"reason": "weighbridge ticket matches"})
    assert r.status_code == 200 and r.json()["discrepancy_reviewed_by"] == "officer_a"
    m.refresh_from_db()
    assert m.discrepancy_review_note == "weighbridge ticket matches"
    # Closed: neither explained nor reviewed again.
    assert rules(post(officer, f"{url}/review", {"reason": "again"})) == ["discrepancy.none_open"]
    assert rules(post(w.client("receiver"), f"{url}/explain",
                      {"discrepancy_code": "C", "discrepancy_reason": "changed my mind"})) == ["discrepancy.none_open"]  # fmt: skip
    actions = list(AuditRecord.objects.filter(object_id=str(m.pk)).values_list("action", flat=True))
    assert actions[-2:] == ["manifest.discrepancy.explain", "manifest.discrepancy.review"]


@pytest.mark.django_db
def test_explaining_a_manifest_without_a_discrepancy_is_refused(manifest_world):
    w = manifest_world
    m = delivered(w)
    receive_api(w, m, "5000")
    r = post(w.client("receiver"), f"/api/v1/manifests/{m.number}/discrepancy/explain",
             {"discrepancy_code": "A", "discrepancy_reason": "nothing"})  # fmt: skip
    assert r.status_code == 400 and rules(r) == ["discrepancy.none_open"]


@pytest.mark.django_db
def test_officers_find_discrepancies_in_the_list(manifest_world):
    w = manifest_world
    off, ok = delivered(w), delivered(w)
    receive_api(w, off, "4000")
    receive_api(w, ok, "5000")
    for user in ("officer_a", "hq", "regulator"):
        r = w.client(user).get("/api/v1/manifests", {"discrepancy": "true"})
        assert [x["number"] for x in r.json()] == [off.number], user
        r = w.client(user).get("/api/v1/manifests", {"discrepancy": "false"})
        assert [x["number"] for x in r.json()] == [ok.number], user
    assert w.client("officer_b").get("/api/v1/manifests", {"discrepancy": "true"}).json() == []


# --- versions -------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_correction_after_signing_is_a_new_version_and_the_next_signer_signs_it(manifest_world):
    w = manifest_world
    m = new_manifest(w, "5")
    cert, driver = w.client("gen_a_cert"), w.client("driver")
    assert (
        post(
            cert, f"/api/v1/manifests/{m.number}/schedule", {"document_sha256": doc_hash(cert, m.number)}
        ).status_code
        == 200
    )
    seen_before = doc_hash(driver, m.number)
    later = (m.expected_arrival_at + timedelta(hours=2)).isoformat()
    r = post(w.client("gen_a"), f"/api/v1/manifests/{m.number}/correct",
             {"reason": "two more drums", "container_count": 22, "expected_arrival_at": later})  # fmt: skip
    assert r.status_code == 200, r.json()
    assert r.json()["version"] == 2 and r.json()["container_count"] == 22 and r.json()["state"] == "SCHEDULED"

    versions = w.client("gen_a").get(f"/api/v1/manifests/{m.number}/versions").json()
    assert [v["version"] for v in versions] == [1, 2]
    v1, v2 = versions
    assert v1["reason"] == "as signed" and v1["changed"] == []
    assert v1["content"]["version"] == 1 and v1["content"]["container"] == {"type": "drum", "count": 20}
    generator_sig = Signature.objects.get(manifest=m, role="generator")
    assert [s["sha256"] for s in v1["content"]["signatures"]] == [generator_sig.document_sha256]
    assert v2["reason"] == "two more drums" and v2["changed"] == ["container_count", "expected_arrival_at"]
    assert v2["content"]["version"] == 2 and v2["content"]["container"]["count"] == 22
    assert v2["created_by"] == "gen_a"

    # The driver looked before the correction: that signature is over the old document.
    before = unchanged(m)
    r = post(driver, f"/api/v1/manifests/{m.number}/pickup", {"document_sha256": seen_before})
    assert r.status_code == 409 and rules(r) == ["signature.document_changed"]
    assert unchanged(m) == before
    r = post(driver, f"/api/v1/manifests/{m.number}/pickup", {"document_sha256": doc_hash(driver, m.number)})
    assert r.status_code == 200
    assert Signature.objects.get(manifest=m, role="transporter").manifest_version == 2
    assert Signature.objects.get(manifest=m, role="generator").manifest_version == 1


@pytest.mark.django_db
def test_each_correction_adds_one_version_and_names_only_what_changed(manifest_world):
    w = manifest_world
    m = new_manifest(w, "5")
    to_delivered(w, m)
    gen = w.client("gen_a")
    r = post(gen, f"/api/v1/manifests/{m.number}/correct", {"reason": "it was sludge", "container_count": 20,
                                                            "physical_form": "sludge"})  # fmt: skip
    assert r.status_code == 200 and r.json()["version"] == 2
    r = post(
        gen, f"/api/v1/manifests/{m.number}/correct", {"reason": "bags, not drums", "container_type": "bag"}
    )
    assert r.status_code == 200 and r.json()["version"] == 3
    versions = ManifestVersion.objects.filter(manifest=m).order_by("version")
    assert [(v.version, v.changed) for v in versions] == [
        (1, []),
        (2, ["physical_form"]),
        (3, ["container_type"]),
    ]
    assert (
        versions[0].content["physical_form"] == "solid" and versions[2].content["container"]["type"] == "bag"
    )


@pytest.mark.django_db
def test_a_correction_that_changes_nothing_is_refused(manifest_world):
    w = manifest_world
    m = new_manifest(w, "5")
    custody.schedule(actor=w.users["gen_a_cert"], number=m.number, data=sign(m))
    m.refresh_from_db()
    before = unchanged(m)
    for payload in (
        {"reason": "nothing"},
        {"reason": "same again", "container_count": 20, "physical_form": "solid"},
    ):
        r = post(w.client("gen_a"), f"/api/v1/manifests/{m.number}/correct", payload)
        assert r.status_code == 400 and rules(r) == ["correction.empty"], payload
    assert unchanged(m) == before and not ManifestVersion.objects.filter(manifest=m).exists()


@pytest.mark.django_db
def test_the_declared_quantity_is_not_corrected_behind_the_permit(manifest_world):
    w = manifest_world
    m = new_manifest(w, "5")
    custody.schedule(actor=w.users["gen_a_cert"], number=m.number, data=sign(m))
    m.refresh_from_db()
    before = unchanged(m)
    r = post(
        w.client("gen_a"),
        f"/api/v1/manifests/{m.number}/correct",
        {"reason": "more", "declared_quantity": "25"},
    )
    assert r.status_code == 422 and fields(r) == ["declared_quantity"]
    assert unchanged(m) == before


@pytest.mark.django_db
def test_drafts_and_closed_manifests_are_not_corrected(manifest_world):
    w = manifest_world
    draft = new_manifest(w, "1")
    done = new_manifest(w, "5")
    to_delivered(w, done)
    receive(w, done, "5000")
    custody.complete(actor=w.users["receiver"], number=done.number,
                     data=CompleteIn(final_method="041", treated_on=timezone.localdate()))  # fmt: skip
    cancelled = new_manifest(w, "1")
    custody.cancel(actor=w.users["gen_a"], number=cancelled.number, reason="not needed")
    for m, user in ((draft, "gen_a"), (done, "officer_a"), (cancelled, "gen_a")):
        before = unchanged(m)
        r = post(
            w.client(user), f"/api/v1/manifests/{m.number}/correct", {"reason": "fix", "container_count": 3}
        )
        assert r.status_code == 400 and rules(r) == ["manifest.correct_state"], m.number
        assert unchanged(m) == before


@pytest.mark.django_db
def test_the_transporter_corrects_only_the_driver_and_the_arrival(manifest_world):
    w = manifest_world
    m = new_manifest(w, "5")
    custody.schedule(actor=w.users["gen_a_cert"], number=m.number, data=sign(m))
    m.refresh_from_db()
    disp = w.client("dispatcher")
    before = unchanged(m)
    r = post(
        disp, f"/api/v1/manifests/{m.number}/correct", {"reason": "counted again", "container_count": 30}
    )
    assert r.status_code == 403 and rules(r) == ["access.denied"]
    assert unchanged(m) == before
    later = (m.expected_arrival_at + timedelta(hours=3)).isoformat()
    r = post(
        disp, f"/api/v1/manifests/{m.number}/correct", {"reason": "traffic", "expected_arrival_at": later}
    )
    assert r.status_code == 200 and r.json()["version"] == 2


@pytest.mark.django_db
def test_the_generator_corrects_only_before_receipt(manifest_world):
    w = manifest_world
    m = delivered(w)
    receive(w, m, "5000")
    m.refresh_from_db()
    before = unchanged(m)
    r = post(
        w.client("gen_a"),
        f"/api/v1/manifests/{m.number}/correct",
        {"reason": "recount", "container_count": 19},
    )
    assert r.status_code == 403
    assert unchanged(m) == before
    r = post(
        w.client("officer_a"),
        f"/api/v1/manifests/{m.number}/correct",
        {"reason": "recount", "container_count": 19},
    )
    assert r.status_code == 200 and r.json()["version"] == 2


# --- deadlines ------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_overdue_lists_late_receipts_and_late_arrivals_only(manifest_world):
    w = manifest_world
    cfg = django_settings.WASTELINK
    receipt_h, grace_h = cfg["MANIFEST_RECEIPT_HOURS"], cfg["MANIFEST_TRANSIT_GRACE_HOURS"]
    now = timezone.now()

    late_receipt = delivered(w, "1")
    Manifest.objects.filter(id=late_receipt.id).update(delivered_at=now - timedelta(hours=receipt_h + 6))
    fresh_delivery = delivered(w, "1")
    Manifest.objects.filter(id=fresh_delivery.id).update(delivered_at=now - timedelta(hours=receipt_h - 1))
    received_late = delivered(w, "1")
    receive(w, received_late, "1000")
    Manifest.objects.filter(id=received_late.id).update(delivered_at=now - timedelta(hours=receipt_h + 30))

    def on_the_road(pickup_h_ago, arrival_h_ago):
        m = new_manifest(w, "1", planned_pickup_at=now - timedelta(hours=pickup_h_ago),
                         expected_arrival_at=now - timedelta(hours=arrival_h_ago))  # fmt: skip
        custody.schedule(actor=w.users["gen_a_cert"], number=m.number, data=sign(m))
        custody.pickup(actor=w.users["driver"], number=m.number, data=sign(m))
        return m

    late_arrival = on_the_road(10, grace_h + 1)
    within_grace = on_the_road(10, grace_h - 1)
    fresh_trip = new_manifest(w, "1")
    custody.schedule(actor=w.users["gen_a_cert"], number=fresh_trip.number, data=sign(fresh_trip))

    for user in ("officer_a", "receiver", "gen_a", "regulator"):
        r = w.client(user).get("/api/v1/manifests/overdue")
        assert r.status_code == 200
        rows = r.json()
        # the most overdue first: 6 h past the receipt deadline, then 1 h past the arrival window
        assert [x["number"] for x in rows] == [late_receipt.number, late_arrival.number], user
        assert [x["overdue"] for x in rows] == [["receipt"], ["transit"]]
    for user in ("gen_b", "officer_b"):
        assert w.client(user).get("/api/v1/manifests/overdue").json() == []
    # the detail page of a fresh one says it is not overdue
    for m in (fresh_delivery, within_grace, fresh_trip):
        assert w.client("officer_a").get(f"/api/v1/manifests/{m.number}").json()["overdue"] == []


# --- mass balance ---------------------------------------------------------------------------------------------
def balance(client, date_from, date_to, **extra):
    return client.get("/api/v1/mass-balance", {"date_from": str(date_from), "date_to": str(date_to), **extra})


def period():
    today = timezone.localdate()
    return today - timedelta(days=364), today  # 365 days: the declaration pro rata is the yearly figure


def completed(w, quantity, kg, method):
    m = delivered(w, quantity)
    receive(w, m, kg)
    custody.complete(actor=w.users["receiver"], number=m.number,
                     data=CompleteIn(final_method=method, treated_on=timezone.localdate()))  # fmt: skip
    return m


@pytest.mark.django_db
def test_mass_balance_by_hand(manifest_world):
    w = manifest_world
    now = timezone.now()
    completed(w, "5", "5000", "041")  # as permitted
    late = new_manifest(
        w, "4", planned_pickup_at=now - timedelta(hours=12), expected_arrival_at=now - timedelta(hours=5)
    )
    custody.schedule(actor=w.users["gen_a_cert"], number=late.number, data=sign(late))
    custody.pickup(actor=w.users["driver"], number=late.number, data=sign(late))  # in transit, overdue
    heavy = delivered(w, "3")
    receive(w, heavy, "3700")  # received, 700 kg more than declared
    completed(w, "2", "2000", "082")  # treated by another method than the permitted 041
    new_manifest(w, "1")  # a draft: not shipped
    scheduled = new_manifest(w, "1")
    custody.schedule(
        actor=w.users["gen_a_cert"], number=scheduled.number, data=sign(scheduled)
    )  # not shipped
    before_period = delivered(w, "1")  # picked up before the period
    date_from, date_to = period()
    Manifest.objects.filter(id=before_period.id).update(picked_up_at=now - timedelta(days=400))

    r = balance(w.client("officer_a"), date_from, date_to)
    assert r.status_code == 200, r.json()
    rows = {row["stream_id"]: row for row in r.json()}
    assert set(rows) == {w.stream_hz.id, w.stream_nh.id}
    hz = rows[w.stream_hz.id]
    assert hz["generator_id"] == w.gen_a.id and hz["waste_code"] == "160211"
    figures = {
        k: Decimal(str(hz[k])) for k in ("declared_t", "shipped_t", "received_t", "treated_t", "in_transit_t")
    }
    assert figures == {
        "declared_t": Decimal("100"),  # 100 t a year over 365 days
        "shipped_t": Decimal("14"),  # 5 + 4 + 3 + 2
        "received_t": Decimal("10.7"),  # 5 + 3.7 + 2
        "treated_t": Decimal("7"),  # 5 + 2
        "in_transit_t": Decimal("4"),
    }
    # 10.7 t received against 10 t declared for the received loads: 700 kg > max(500, 50) kg.
    assert sorted(hz["flags"]) == [
        "received_more_than_shipped",
        "shipped_not_received",
        "treated_other_method",
    ]
    nh = rows[w.stream_nh.id]
    assert Decimal(str(nh["declared_t"])) == Decimal("50") and Decimal(str(nh["shipped_t"])) == 0
    assert nh["flags"] == ["declared_not_shipped"]


@pytest.mark.django_db
def test_mass_balance_a_clean_stream_has_no_flags(manifest_world):
    w = manifest_world
    completed(w, "5", "5200", "041")  # within tolerance
    new_manifest(w, "4")
    on_time = delivered(w, "4")  # delivered a moment ago: not overdue
    date_from, date_to = period()
    hz = next(
        r for r in balance(w.client("gen_a"), date_from, date_to).json() if r["stream_id"] == w.stream_hz.id
    )
    assert Decimal(str(hz["shipped_t"])) == Decimal("9") and Decimal(str(hz["in_transit_t"])) == Decimal("4")
    assert Decimal(str(hz["received_t"])) == Decimal("5.2") and Decimal(str(hz["treated_t"])) == Decimal(
        "5.2"
    )
    assert hz["flags"] == []
    # once the receipt is a day late the gap is flagged
    Manifest.objects.filter(id=on_time.id).update(delivered_at=timezone.now() - timedelta(hours=30))
    hz = next(
        r for r in balance(w.client("gen_a"), date_from, date_to).json() if r["stream_id"] == w.stream_hz.id
    )
    assert hz["flags"] == ["shipped_not_received"]


@pytest.mark.django_db
def test_a_one_day_period_declares_the_daily_share(manifest_world):
    w = manifest_world
    today = timezone.localdate()
    rows = {r["stream_id"]: r for r in balance(w.client("gen_a"), today, today).json()}
    assert Decimal(str(rows[w.stream_hz.id]["declared_t"])) == Decimal("0.274")  # 100 / 365, to the kilogram
    assert Decimal(str(rows[w.stream_nh.id]["declared_t"])) == Decimal("0.137")


@pytest.mark.django_db
def test_mass_balance_period_must_be_in_order_and_bounded(manifest_world):
    w = manifest_world
    today = timezone.localdate()
    r = balance(w.client("officer_a"), today, today - timedelta(days=1))
    assert r.status_code == 400 and fields(r) == ["date_to"] and rules(r) == ["period.order"]
    r = balance(w.client("officer_a"), today - timedelta(days=4 * 366), today)
    assert r.status_code == 400 and fields(r) == ["date_to"]
    r = w.client("officer_a").get("/api/v1/mass-balance", {"date_from": "yesterday", "date_to": str(today)})
    assert r.status_code == 422 and fields(r) == ["date_from"]


@pytest.mark.django_db
def test_mass_balance_shows_each_party_only_its_streams(manifest_world):
    w = manifest_world
    completed(w, "5", "5000", "041")
    own_b = WasteStream.objects.create(generator=w.gen_b, waste_code_id="200101", name="กระดาษ B",
                                       source_process="office", physical_form="solid",
                                       annual_quantity_t=Decimal("10"))  # fmt: skip
    date_from, date_to = period()
    a_streams = {w.stream_hz.id, w.stream_nh.id}

    def streams(user, **extra):
        r = balance(w.client(user), date_from, date_to, **extra)
        assert r.status_code == 200, r.json()
        return {row["stream_id"] for row in r.json()}

    assert streams("gen_b") == {own_b.id}
    assert streams("gen_b", generator_id=w.gen_a.id) == set()
    assert streams("officer_b") == {own_b.id}
    assert streams("officer_a") == a_streams
    assert streams("gen_a") == a_streams
    assert streams("regulator") == a_streams | {own_b.id}
    assert streams("regulator", generator_id=w.gen_a.id) == a_streams
    assert streams("driver") == set() and streams("receiver") == set()
    assert PermitLine.objects.get(id=w.line.id).remaining_quantity_t == Decimal("25")
