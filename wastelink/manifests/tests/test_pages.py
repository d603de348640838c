"""Manifest pages as each party uses them."""

import pytest

from wastelink.manifests.models import Manifest

from .conftest import new_manifest, to_delivered


@pytest.mark.django_db
def test_generator_drafts_on_the_page_and_the_certifier_signs(manifest_world):
    w = manifest_world
    gen = w.client("gen_a")
    page = gen.get("/manifests/new/").content.decode()
    assert w.permit.number in page
    r = gen.post("/manifests/new/", {"line": w.line.id, "vehicle_id": w.vehicle.id, "declared_quantity": "2", "unit": "t",
                                     "container_type": "drum", "container_count": "8", "physical_form": "solid",
                                     "planned_pickup_at": "2030-01-01T08:00", "expected_arrival_at": "2030-01-01T12:00"})  # fmt: skip
    m = Manifest.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/manifests/{m.number}/"
    assert m.planned_pickup_at.isoformat() == "2030-01-01T01:00:00+00:00"  # the form's time is Bangkok time
    cert = w.client("gen_a_cert")
    detail = cert.get(f"/manifests/{m.number}/").content.decode()
    import re

    sha = re.search(r'name="document_sha256" value="([0-9a-f]{64})"', detail).group(1)
    cert.post(f"/manifests/{m.number}/", {"action": "schedule", "document_sha256": sha})
    m.refresh_from_db()
    assert m.state == "SCHEDULED"
    # Another generator cannot open it.
    assert w.client("gen_b").get(f"/manifests/{m.number}/").status_code == 404


@pytest.mark.django_db
def test_the_gate_finds_an_arriving_load_by_plate_or_qr(manifest_world):
    w = manifest_world
    m = new_manifest(w)
    to_delivered(w, m)
    rcv = w.client("receiver")
    r = rcv.get("/gate/", {"q": "70-1234"})
    assert r.status_code == 302 and r["Location"] == f"/manifests/{m.number}/"
    r = rcv.get("/gate/", {"q": f"http://127.0.0.1:8000/gate/?q={m.number}"})
    assert r["Location"] == f"/manifests/{m.number}/"
    assert w.client("gen_b").get("/gate/", {"q": m.number}).status_code == 200  # not found for others: no redirect


@pytest.mark.django_db
def test_receipt_with_a_discrepancy_is_flagged_for_the_officer(manifest_world):
    w = manifest_world
    m = new_manifest(w, "5")
    to_delivered(w, m)
    from wastelink.manifests.services.document import document_hash

    m.refresh_from_db()
    rc = w.client("receiver_cert")
    r = rc.post(f"/manifests/{m.number}/", {"action": "receive", "document_sha256": document_hash(m),
                                            "weighed_quantity": "4200", "acceptance": "full"}, follow=True)  # fmt: skip
    m.refresh_from_db()
    assert m.state == "RECEIVED" and m.discrepancy
    assert "ชั่งได้ 4200 กก." in r.content.decode()  # the receiver sees the discrepancy warning, in Thai
    officer_page = w.client("officer_a").get("/manifests/overdue/").content.decode()
    assert m.number in officer_page
    for path in ("/manifests/", "/mass-balance/", "/manifests/overdue/", f"/manifests/{m.number}/pdf/"):
        assert w.client("officer_a").get(path).status_code == 200, path
