import pytest
from django.test import Client
from openapi_spec_validator import validate


@pytest.mark.django_db
def test_openapi_document_is_valid_3_1_and_lists_the_registry():
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.1")
    validate(spec)  # raises on an invalid document
    for path in ("/api/v1/establishments", "/api/v1/estates/{code}/boundary", "/api/v1/tokens", "/api/v1/audit/verify"):
        assert path in spec["paths"], path
    assert "BearerToken" in spec["components"]["securitySchemes"]


@pytest.mark.django_db
def test_health_answers_without_auth():
    body = Client().get("/api/v1/health").json()
    assert body["status"] == "ok" and body["database"] in {"sqlite", "postgresql"}
