"""Turning form posts into the same validated inputs the API takes, and refusals into readable messages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404
from django.utils.translation import get_language
from pydantic import BaseModel, ValidationError

from wastelink.core.findings import DomainError


def thai() -> bool:
    return (get_language() or "th").startswith("th")


def refusal_text(exc: DomainError | ValidationError) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "form"
            parts.append(f"{loc}: {err['msg'].removeprefix('Value error, ')}")
        prefix = "ข้อมูลไม่ถูกต้อง — " if thai() else "Invalid input — "
        return prefix + "; ".join(parts)
    return "; ".join(f.message_th if thai() else f.message_en for f in exc.findings)


def parse(schema: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """Validate form data with the API's schema; empty strings count as 'not given'."""
    clean = {k: v for k, v in data.items() if v not in ("", None)}
    return schema.model_validate(clean)


def attempt(request, fn, *, success: str | None = None):
    """Run a service call; on refusal put the reason in the messages and return None."""
    try:
        result = fn()
    except (DomainError, ValidationError) as exc:
        messages.error(request, refusal_text(exc))
        return None
    if success:
        messages.success(request, success)
    return result


def get_or_404(fn, /, *args, **kwargs):
    """Call a service getter; its refusal becomes a 404. The getters look only among what the actor may see,
    so a refusal means "no such thing for you", and a page has no form to show the reason on."""
    try:
        return fn(*args, **kwargs)
    except DomainError:
        raise Http404 from None
