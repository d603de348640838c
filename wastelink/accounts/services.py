"""Account use cases: API tokens (create, authenticate, revoke)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from wastelink.audit import services as audit
from wastelink.core.findings import NotFound, error

from .models import ApiToken, User

TOKEN_PREFIX = "wl"
VALID_SCOPES = {s.value for s in ApiToken.Scope}


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str  # shown once; only its hash is stored


@transaction.atomic
def create_token(*, actor: User, user: User, name: str, scopes: list[str] | None = None,
                 days: int | None = None) -> IssuedToken:  # fmt: skip
    scopes = sorted(set(scopes or ["read", "write"]))
    unknown = set(scopes) - VALID_SCOPES
    if unknown:
        from wastelink.core.findings import DomainError

        raise DomainError(error("token.scope", "scopes", f"unknown scope(s): {', '.join(sorted(unknown))}",
                                f"ไม่รู้จักขอบเขต: {', '.join(sorted(unknown))}"))  # fmt: skip
    if days is None:
        days = settings.WASTELINK["TOKEN_DEFAULT_DAYS"]
    prefix = secrets.token_hex(5)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100] or "token",
        prefix=prefix,
        secret_hash=_hash(secret),
        scopes=scopes,
        expires_at=timezone.now() + timedelta(days=days) if days else None,
    )
    audit.record(actor=actor, action="token.create", obj=token,
                 after={"user": user.username, "name": token.name, "scopes": scopes, "prefix": prefix})  # fmt: skip
    return IssuedToken(token, f"{TOKEN_PREFIX}_{prefix}_{secret}")


def authenticate_token(raw: str) -> ApiToken | None:
    """The active token matching `raw`, or None. Constant-time comparison of the hash."""
    parts = (raw or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = ApiToken.objects.select_related("user", "user__organisation").filter(prefix=parts[1]).first()
    if token is None or not token.active or not token.user.is_active:
        return None
    if not hmac.compare_digest(token.secret_hash, _hash(parts[2])):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(id=token.id).update(last_used_at=now)  # coarse, to avoid a write per request
    return token


@transaction.atomic
def revoke_token(*, actor: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(id=token_id).first()
    if token is None or (token.user_id != actor.id and not actor.is_superuser and actor.role != "admin"):
        raise NotFound(error("token.not_found", "token_id", "no such token", "ไม่พบโทเค็นนี้"))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor, action="token.revoke", obj=token, after={"prefix": token.prefix, "revoked": True}
        )
    return token
