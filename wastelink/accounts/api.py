from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema, Status

from wastelink.accounts.access import officer_estate_ids, role_of
from wastelink.accounts.models import ApiToken
from wastelink.accounts.services import create_token, revoke_token

router = Router(tags=["accounts"])


class OrganisationOut(Schema):
    id: int
    kind: str
    name_th: str
    name_en: str
    establishment_id: int | None


class MeOut(Schema):
    username: str
    full_name: str
    role: str | None
    organisation: OrganisationOut | None
    estates: list[str] | None = Field(description="estate codes an officer covers; null means all")


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(default_factory=lambda: ["read", "write"], min_length=1)
    days: int | None = Field(None, ge=0, le=3650, description="lifetime in days; 0 = no expiry")


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="the secret: shown once, store it now")


@router.get("/me", response=MeOut, summary="Who I am: role, organisation, estates")
def me(request):
    user = request.user
    estate_ids = officer_estate_ids(user)
    from wastelink.registry.models import Estate

    estates = (
        None
        if estate_ids is None
        else sorted(Estate.objects.filter(id__in=estate_ids).values_list("code", flat=True))
    )
    role = role_of(user)
    return {"username": user.username, "full_name": user.get_full_name(), "role": role.value if role else None,
            "organisation": user.organisation, "estates": estates}  # fmt: skip


@router.get("/tokens", response=list[TokenOut], summary="My API tokens")
def list_tokens(request):
    return list(ApiToken.objects.filter(user=request.user))


@router.post("/tokens", response={201: TokenCreated}, summary="Create an API token for myself")
def new_token(request, payload: TokenIn):
    issued = create_token(actor=request.user, user=request.user, name=payload.name, scopes=payload.scopes,
                          days=payload.days)  # fmt: skip
    t = issued.token
    return Status(201, {**TokenOut.model_validate(t).model_dump(), "token": issued.plaintext})


@router.delete("/tokens/{token_id}", response=TokenOut, summary="Revoke one of my API tokens")
def delete_token(request, token_id: int):
    return revoke_token(actor=request.user, token_id=token_id)
