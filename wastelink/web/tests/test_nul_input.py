"""NUL characters are refused with 400 everywhere (PostgreSQL cannot store them; they must never become a 500)."""

import json

import pytest

from wastelink.permits.tests.conftest import permit_world  # noqa: F401 - fixture


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url", "body"), [
    ("post", "/api/v1/establishments", {"registration_no": "72000000000009", "name_th": "a\u0000b", "roles": ["generator"],
                                         "estate": "map-ta-phut"}),
    ("get", "/api/v1/establishments?q=a%00b", None),
    ("post", "/api/v1/tokens", {"name": "x\u0000"}),
    ("get", "/api/v1/reference/waste-codes?q=%00", None),
])  # fmt: skip
def test_api_refuses_nul_with_400_naming_the_field(world, method, url, body):
    client = world.client("officer_a")
    if method == "post":
        r = client.post(url, data=json.dumps(body), content_type="application/json")
    else:
        r = client.get(url)
    assert r.status_code == 400
    assert r.json()["errors"][0]["rule"] == "input.nul"


@pytest.mark.django_db
def test_pages_refuse_nul_in_forms_and_queries(world):
    client = world.client("gen_a")
    assert client.get("/establishments/?q=a%00").status_code == 400
    assert client.post("/profile/", {"name": "t\x00k"}).status_code == 400


@pytest.mark.django_db
def test_binary_uploads_with_nul_bytes_are_not_refused(permit_world):  # noqa: F811
    from django.core.files.uploadedfile import SimpleUploadedFile

    from wastelink.permits.tests.conftest import draft

    app = draft(permit_world, (permit_world.stream_hz, "10", "041"))
    pdf = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n\x00\x01binary\n%%EOF\n", content_type="application/pdf")
    r = permit_world.client("gen_a").post(f"/api/v1/applications/{app.id}/documents", {"kind": "other", "file": pdf})
    assert r.status_code == 201


def test_a_form_posted_to_a_json_endpoint_is_refused_as_bad_input_not_a_500(world):
    """The NUL check reads form fields; a JSON endpoint sent a form must still be able to read the body."""
    r = world.client("gen_a").post("/api/v1/tokens", {"name": "phone", "scopes": "read"})
    assert r.status_code == 415 and r.json()["errors"][0]["field"] == "body", r.content
