"""The open API under /api/v1: one NinjaAPI, one router per bounded context, one error shape.

Every error answers {"errors": [{"rule", "severity", "field", "message_en", "message_th"}, ...]} with a 4xx
status, so a client can show the reason next to the field it names.
"""

from __future__ import annotations

from django.http import Http404
from django.http.request import HttpRequest, RawPostDataException
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, django_auth

from wastelink.accounts.services import authenticate_token
from wastelink.core.findings import DomainError, Forbidden, error

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class BearerToken(HttpBearer):
    """`Authorization: Bearer wl_…`: a scoped API token. Writes need the 'write' scope."""

    def authenticate(self, request: HttpRequest, token: str):
        api_token = authenticate_token(token)
        if api_token is None:
            return None
        telemetry = request.path.startswith("/api/v1/telemetry") and "telemetry" in api_token.scopes
        if request.method not in SAFE_METHODS and "write" not in api_token.scopes and not telemetry:
            raise Forbidden(error("token.scope", "Authorization", "this token may only read (no 'write' scope)",
                                  "โทเค็นนี้อ่านได้อย่างเดียว"))  # fmt: skip
        if request.method in SAFE_METHODS and not ({"read", "write"} & set(api_token.scopes)):
            raise Forbidden(error("token.scope", "Authorization", "this token has no 'read' scope",
                                  "โทเค็นนี้ไม่มีสิทธิ์อ่าน"))  # fmt: skip
        request.user = api_token.user
        request.api_token = api_token  # type: ignore[attr-defined]
        return api_token.user


api = NinjaAPI(
    title="wastelink API",
    version="1",
    description="Industrial-waste permits, e-manifests and transport tracking. Authenticate with a session "
    "(browser) or `Authorization: Bearer <token>` (create one with `wastelink token create USERNAME` or on your "
    "profile page). Errors are 4xx JSON naming the field and the reason.",
    urls_namespace="api",
    auth=[BearerToken(), django_auth],
)


def _errors(request, findings, status):
    return api.create_response(request, {"errors": [f.as_dict() for f in findings]}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    return _errors(request, exc.findings, exc.status)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    findings = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", [])]
        # ["body", "payload", "lat"] → "lat"; ["query", "limit"] → "limit": the name the client sent.
        if loc and loc[0] == "body" and len(loc) > 2:
            loc = loc[2:]
        elif loc and loc[0] in {"body", "query", "path", "form", "header", "file"} and len(loc) > 1:
            loc = loc[1:]
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        findings.append(error("validation", ".".join(loc) or "body", msg, f"ข้อมูลไม่ถูกต้อง: {msg}"))
    return _errors(request, findings, 422)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return _errors(request, [error("auth.required", "Authorization", "sign in or send a valid API token",
                                   "กรุณาเข้าสู่ระบบหรือส่งโทเค็นที่ถูกต้อง")], 401)  # fmt: skip


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _errors(request, [error("not_found", "path", "not found", "ไม่พบข้อมูล")], 404)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        finding = error("body.malformed", "body", "the request body is not valid JSON",
                        "เนื้อหาคำขอไม่ใช่ JSON ที่ถูกต้อง")  # fmt: skip
    else:
        finding = error("http", "request", str(exc), str(exc))
    return _errors(request, [finding], exc.status_code)


@api.exception_handler(RawPostDataException)
def on_form_to_json(request, exc):
    """A form (multipart or urlencoded) sent to an endpoint that reads a JSON body: its stream was parsed as a form
    already (CSRF and NUL checks read form fields), so the body cannot be read: say what the endpoint wants."""
    return _errors(request, [error("body.media_type", "body", "send the body as JSON (Content-Type: application/json)",
                                   "กรุณาส่งเนื้อหาคำขอเป็น JSON (Content-Type: application/json)")], 415)  # fmt: skip


@api.get("/health", auth=None, tags=["platform"], summary="Liveness and database check")
def health(request):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return {"status": "ok", "time": timezone.now().isoformat(), "database": connection.vendor}


def _mount() -> None:
    from wastelink.accounts.api import router as accounts_router
    from wastelink.audit.api import router as audit_router
    from wastelink.detection.api import router as detection_router
    from wastelink.manifests.api import router as manifests_router
    from wastelink.permits.api import public_router
    from wastelink.permits.api import router as permits_router
    from wastelink.registry.api import reference_router
    from wastelink.registry.api import router as registry_router
    from wastelink.tracking.api import router as tracking_router

    api.add_router("/", accounts_router)
    api.add_router("/", registry_router)
    api.add_router("/reference", reference_router)
    api.add_router("/audit", audit_router)
    api.add_router("/", permits_router)
    api.add_router("/", public_router)
    api.add_router("/", manifests_router)
    api.add_router("/", tracking_router)
    api.add_router("/", detection_router)


_mount()
