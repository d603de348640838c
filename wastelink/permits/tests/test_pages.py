"""The permit pages as people use them: forms in, readable pages out, refusals shown, nothing private leaked."""

import re

import pytest
from django.test import Client

from wastelink.permits.models import Permit, PermitApplication, WasteStream

from .conftest import HAZARDOUS


def make_app_via_forms(w):
    gen = w.client("gen_a")
    r = gen.post("/streams/", {"waste_code": "16 02 11", "name": "แผงวงจร", "source_process": "ประกอบ",
                               "physical_form": "solid", "annual_quantity_t": "80"})  # fmt: skip
    assert r.status_code == 302
    stream = WasteStream.objects.get(name="แผงวงจร")
    r = gen.post("/applications/", {"note": "ทดสอบ"})
    app = PermitApplication.objects.get(generator=w.gen_a)
    assert r.status_code == 302 and r["Location"] == f"/applications/{app.id}/"
    gen.post(f"/applications/{app.id}/", {"action": "add_line", "stream_id": stream.id, "quantity_t": "10",
                                         "method": "041", "receiver_id": w.receiver.id,
                                         "transporter_ids": [w.transporter.id]})  # fmt: skip
    return gen, app


@pytest.mark.django_db
def test_generator_declares_applies_and_submits_through_the_pages(permit_world):
    w = permit_world
    gen, app = make_app_via_forms(w)
    page = gen.get(f"/applications/{app.id}/").content.decode()
    assert "ผ่านการตรวจสอบอัตโนมัติทั้งหมด" in page or "All automatic checks pass." in page
    assert stream_code_shown(page)
    r = gen.post(f"/applications/{app.id}/", {"action": "submit"}, follow=True)
    app.refresh_from_db()
    assert app.state == "SUBMITTED" and app.version == 1
    assert "ส่งคำขอ" in r.content.decode() or "submitted" in r.content.decode()


def stream_code_shown(page: str) -> bool:
    return f"{HAZARDOUS[0:2]} {HAZARDOUS[2:4]} {HAZARDOUS[4:6]}" in page


@pytest.mark.django_db
def test_a_refused_line_shows_the_reason_and_writes_nothing(permit_world):
    w = permit_world
    gen, app = make_app_via_forms(w)
    before = app.lines.count()
    r = gen.post(f"/applications/{app.id}/", {"action": "add_line", "stream_id": w.stream_hz.id, "quantity_t": "-5",
                                             "method": "041", "receiver_id": w.receiver.id}, follow=True)  # fmt: skip
    assert r.status_code == 200
    assert "quantity_t" in r.content.decode()
    assert app.lines.count() == before


@pytest.mark.django_db
def test_officer_takes_and_decides_through_the_review_page(permit_world):
    w = permit_world
    gen, app = make_app_via_forms(w)
    gen.post(f"/applications/{app.id}/", {"action": "submit"})
    officer = w.client("officer_a")
    queue = officer.get("/review/").content.decode()
    assert app.reference in queue
    assert app.reference not in w.client("officer_b").get("/review/").content.decode()
    officer.post(f"/review/{app.id}/", {"action": "take"})
    officer.post(f"/review/{app.id}/", {"action": "decide", "approve_1": "on", "cap_1": "8", "conditions_1": "ปิดฝา"})
    app.refresh_from_db()
    assert app.state == "APPROVED"
    permit = Permit.objects.get(application=app)
    detail = gen.get(f"/permits/{permit.number}/").content.decode()
    assert "8.000" in detail and permit.number in detail
    assert gen.get(f"/permits/{permit.number}/certificate.pdf")["Content-Type"] == "application/pdf"
    assert w.client("gen_b").get(f"/permits/{permit.number}/").status_code == 404
    # The generator was notified of the decision.
    assert app.reference in gen.get("/notifications/").content.decode()


@pytest.mark.django_db
def test_public_verification_page_shows_only_public_facts(permit_world):
    w = permit_world
    gen, app = make_app_via_forms(w)
    gen.post(f"/applications/{app.id}/", {"action": "submit"})
    officer = w.client("officer_a")
    officer.post(f"/review/{app.id}/", {"action": "take"})
    officer.post(f"/review/{app.id}/", {"action": "decide", "approve_1": "on"})
    permit = Permit.objects.get(application=app)
    public = Client()
    page = public.get(f"/verify/{permit.number}/?code={permit.verification_code}").content.decode()
    assert permit.number in page and "Alpha Chemical" in page
    assert w.gen_a.registration_no not in page and "แผงวงจร" not in page  # no private details
    wrong = public.get(f"/verify/{permit.number}/?code=guess")
    assert wrong.status_code == 404
    assert re.search(r"<html lang=\"th\"", page)
