"""A load's custody end to end through the API, and the refusals along the way."""

import io
import json
import unicodedata
from decimal import Decimal

import pytest
from pypdf import PdfReader

from wastelink.audit.models import AuditRecord
from wastelink.permits.models import PermitLine

from .conftest import manifest_in


def post(client, url, data=None):
    return client.post(url, data=json.dumps(data or {}), content_type="application/json")


def doc_hash(client, number):
    return client.get(f"/api/v1/manifests/{number}/document").json()["sha256"]


@pytest.mark.django_db
def test_three_signatures_in_order_weighed_receipt_and_completion(manifest_world):
    w = manifest_world
    gen, cert, driver = w.client("gen_a"), w.client("gen_a_cert"), w.client("driver")
    rcv_cert, rcv_op = w.client("receiver_cert"), w.client("receiver")
    body = manifest_in(w, "5").model_dump(mode="json")
    r = post(gen, "/api/v1/manifests", body)
    assert r.status_code == 201, r.json()
    number = r.json()["number"]
    assert r.json()["state"] == "DRAFT" and r.json()["waste_code"] == "160211"

    # The transporter may not sign before the generator: 409, nothing recorded.
    r = post(driver, f"/api/v1/manifests/{number}/pickup", {"document_sha256": doc_hash(driver, number)})
    assert r.status_code == 409
    # A signature over a stale document is refused.
    r = post(cert, f"/api/v1/manifests/{number}/schedule", {"document_sha256": "0" * 64})
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "signature.document_changed"
    # The preparer is not the certifier.
    assert post(gen, f"/api/v1/manifests/{number}/schedule", {"document_sha256": doc_hash(gen, number)}).status_code == 403

    r = post(cert, f"/api/v1/manifests/{number}/schedule", {"document_sha256": doc_hash(cert, number)})
    assert r.status_code == 200 and r.json()["state"] == "SCHEDULED"
    assert PermitLine.objects.get(id=w.line.id).remaining_quantity_t == Decimal("25.000")

    r = post(driver, f"/api/v1/manifests/{number}/pickup", {"document_sha256": doc_hash(driver, number)})
    assert r.status_code == 200 and r.json()["state"] == "IN_TRANSIT"
    assert post(driver, f"/api/v1/manifests/{number}/deliver").json()["state"] == "DELIVERED"

    r = post(rcv_cert, f"/api/v1/manifests/{number}/receive", {"document_sha256": doc_hash(rcv_cert, number),
                                                             "weighed_quantity": "5030", "unit": "kg",
                                                             "acceptance": "full"})  # fmt: skip
    assert r.status_code == 200, r.json()
    assert r.json()["manifest"]["state"] == "RECEIVED" and r.json()["warnings"] == []  # 30 kg is within 5 %
    sigs = r.json()["manifest"]["signatures"]
    assert [s["role"] for s in sigs] == ["generator", "transporter", "receiver"]
    assert all(len(s["document_sha256"]) == 64 for s in sigs)

    r = post(rcv_op, f"/api/v1/manifests/{number}/complete", {"final_method": "041", "treated_on": str(__import__("django.utils.timezone", fromlist=["x"]).localdate())})
    assert r.status_code == 200 and r.json()["state"] == "COMPLETED"
    assert AuditRecord.objects.filter(object_type="manifests.manifest").count() == 6

    pdf = gen.get(f"/api/v1/manifests/{number}/pdf")
    text = unicodedata.normalize("NFKC", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages))
    assert number in text and unicodedata.normalize("NFKC", "เอกสารกำกับการขนส่งของเสีย") in text


@pytest.mark.django_db
def test_scheduling_more_than_the_permit_line_has_left_is_refused(manifest_world):
    w = manifest_world
    cert = w.client("gen_a_cert")
    gen = w.client("gen_a")
    big = post(gen, "/api/v1/manifests", manifest_in(w, "14").model_dump(mode="json")).json()["number"]
    again = post(gen, "/api/v1/manifests", manifest_in(w, "14").model_dump(mode="json")).json()["number"]
    third = post(gen, "/api/v1/manifests", manifest_in(w, "3").model_dump(mode="json")).json()["number"]
    for n in (big, again):
        assert post(cert, f"/api/v1/manifests/{n}/schedule", {"document_sha256": doc_hash(cert, n)}).status_code == 200
    r = post(cert, f"/api/v1/manifests/{third}/schedule", {"document_sha256": doc_hash(cert, third)})
    assert r.status_code == 400 and r.json()["errors"][0]["rule"] == "permit.quantity"
    assert PermitLine.objects.get(id=w.line.id).remaining_quantity_t == Decimal("2.000")
    # Cancelling a scheduled manifest gives its quantity back.
    assert post(gen, f"/api/v1/manifests/{big}/cancel", {"reason": "รถเสีย"}).json()["state"] == "CANCELLED"
    assert PermitLine.objects.get(id=w.line.id).remaining_quantity_t == Decimal("16.000")
