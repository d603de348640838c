"""One application from draft to certificate, as the generator and the officer would do it through the API."""

import io
import json
import unicodedata

import pytest
from django.test import Client
from pypdf import PdfReader

from wastelink.audit.models import AuditRecord
from wastelink.permits.models import Permit

from .conftest import draft


def post(client, url, data=None):
    return client.post(url, data=json.dumps(data or {}), content_type="application/json")


@pytest.mark.django_db
def test_apply_review_approve_and_print_certificate(permit_world, mailoutbox, django_capture_on_commit_callbacks):
    w = permit_world
    gen, officer = w.client("gen_a"), w.client("officer_a")
    app = draft(w, (w.stream_hz, "40", "041"), (w.stream_nh, "20", "011"))

    with django_capture_on_commit_callbacks(execute=True):
        r = post(gen, f"/api/v1/applications/{app.id}/submit")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "SUBMITTED" and r.json()["version"] == 1

    queue = officer.get("/api/v1/review-queue").json()
    assert [q["reference"] for q in queue] == [app.reference]
    assert w.client("officer_b").get("/api/v1/review-queue").json() == []  # routed to estate A's officers only

    assert post(officer, f"/api/v1/applications/{app.id}/take").json()["state"] == "UNDER_REVIEW"
    r = post(officer, f"/api/v1/applications/{app.id}/decide", {"lines": [
        {"index": 1, "approve": True, "approved_quantity_t": "30", "conditions": "ขนส่งในภาชนะปิด"},
        {"index": 2, "approve": False, "note": "ใช้วิธีรีไซเคิลแทน"}], "reason": "บางรายการ"})
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "PARTIALLY_APPROVED"
    number = r.json()["permit_number"]
    permit = Permit.objects.get(number=number)
    assert [(str(ln.approved_quantity_t), str(ln.remaining_quantity_t)) for ln in permit.lines.all()] == [("30.000", "30.000")]

    pdf = gen.get(f"/api/v1/permits/{number}/certificate.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    # NFKC: the PDF text layer carries SARA AM as its compatibility form NIKHAHIT + SARA AA (see the template).
    text = unicodedata.normalize("NFKC", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages))
    for expected in (number, "ใบอนุญาตให้นำสิ่งปฏิกูลหรือวัสดุที่ไม่ใช้แล้ว", "บริษัท Alpha Chemical จำกัด",
                     "ขนส่งในภาชนะปิด", "ผู้รับบำบัด/กำจัด", "พฤศจิกายน"):
        assert unicodedata.normalize("NFKC", expected) in text, expected

    verify = Client()  # the public: no session
    public = verify.get(f"/api/v1/verify/{number}?code={permit.verification_code}").json()
    assert public == {"number": number, "holder_th": "บริษัท Alpha Chemical จำกัด", "holder_en": "Alpha Chemical Co., Ltd.",
                      "valid_from": permit.valid_from.isoformat(), "valid_until": permit.valid_until.isoformat(),
                      "state": "ACTIVE"}
    assert verify.get(f"/api/v1/verify/{number}?code=wrongcode").status_code == 404
    assert AuditRecord.objects.filter(action__in=["application.submit", "application.take",
                                                  "application.partially_approve", "permit.issue"]).count() == 4
    # The estate officer was told by email that the application waits for review.
    assert [m.to for m in mailoutbox if app.reference in m.subject] == [["officer_a@example.test"]]
