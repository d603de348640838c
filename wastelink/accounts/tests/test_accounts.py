"""Accounts: who am I (/api/v1/me), API tokens (API, CLI, storage), session sign-in and login throttling."""

from __future__ import annotations

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from wastelink.accounts.models import ApiToken
from wastelink.audit.models import AuditRecord

API = "/api/v1"
PASSWORD = "correct-horse-battery-9"  # the world's password (conftest.py)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The world creates eleven users; Argon2 for each would make every test take a second."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def post_json(client: Client, path: str, data=None, *, raw: str | None = None):
    return client.post(
        API + path, data=raw if raw is not None else json.dumps(data), content_type="application/json"
    )


def bearer(plaintext: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- /me ------------------------------------------------------------------------------------------------------
ME_EXPECTED = {
    # username: (role, organisation kind, estates)
    "gen_a": ("generator_preparer", "establishment", []),
    "gen_a_cert": ("generator_certifier", "establishment", []),
    "gen_b": ("generator_preparer", "establishment", []),
    "receiver": ("receiver_operator", "establishment", []),
    "dispatcher": ("transporter_dispatcher", "establishment", []),
    "driver": ("transporter_driver", "establishment", []),
    "officer_a": ("estate_officer", "estate_office", ["map-ta-phut"]),
    "officer_b": ("estate_officer", "estate_office", ["bangpoo"]),
    "hq": ("hq_officer", "ieat_hq", None),
    "regulator": ("regulator", "diw", None),
    "admin": ("admin", "platform", None),
}


@pytest.mark.parametrize(("username", "expected"), ME_EXPECTED.items())
def test_me_for_each_role(world, username, expected):
    role, kind, estates = expected
    r = world.client(username).get(API + "/me")
    assert r.status_code == 200
    data = r.json()
    assert data["username"] == username
    assert data["full_name"] == username  # first_name is the username in the test world
    assert data["role"] == role
    assert data["organisation"]["kind"] == kind
    assert data["estates"] == estates


def test_me_names_the_users_establishment(world):
    data = world.client("gen_a").get(API + "/me").json()
    assert data["organisation"]["establishment_id"] == world.gen_a.id
    data = world.client("dispatcher").get(API + "/me").json()
    assert data["organisation"]["establishment_id"] == world.transporter.id
    data = world.client("officer_a").get(API + "/me").json()
    assert data["organisation"]["establishment_id"] is None


def test_me_lists_every_estate_an_office_covers(world):
    office = world.users["officer_a"].organisation
    office.estates.add(world.estate_b)
    assert world.client("officer_a").get(API + "/me").json()["estates"] == ["bangpoo", "map-ta-phut"]


def test_me_with_a_token(world):
    r = world.token_client("officer_b", scopes=("read",)).get(API + "/me")
    assert r.status_code == 200
    assert r.json()["username"] == "officer_b"


def test_me_without_authentication_is_401(world):
    r = Client().get(API + "/me")
    assert r.status_code == 401
    assert r.json()["errors"][0]["rule"] == "auth.required"


# --- tokens through the API -----------------------------------------------------------------------------------
def test_create_token_shows_the_secret_once_and_stores_only_its_hash(world):
    c = world.client("gen_a")
    r = post_json(c, "/tokens", {"name": "ERP link", "scopes": ["read"], "days": 30})
    assert r.status_code == 201, r.content
    data = r.json()
    plaintext = data["token"]
    wl, prefix, secret = plaintext.split("_", 2)
    assert wl == "wl"
    assert prefix == data["prefix"]
    assert data["name"] == "ERP link"
    assert data["scopes"] == ["read"]
    assert data["expires_at"] is not None
    token = ApiToken.objects.get(id=data["id"])
    assert token.user == world.users["gen_a"]
    assert token.secret_hash == sha256(secret)
    stored = json.dumps([getattr(token, f.attname) for f in ApiToken._meta.concrete_fields], default=str)
    assert secret not in stored  # only the hash is kept
    # The audit record names the token but never holds its secret.
    rec = AuditRecord.objects.order_by("-seq").first()
    assert rec.action == "token.create"
    assert rec.object_id == str(token.id)
    assert rec.actor == "gen_a"
    assert secret not in json.dumps(rec.after)
    # Listing never shows the secret again.
    listing = c.get(API + "/tokens")
    assert listing.status_code == 200
    assert [t["id"] for t in listing.json()] == [token.id]
    assert "token" not in listing.json()[0]
    assert secret not in listing.content.decode()
    # And the secret works.
    me = bearer(plaintext).get(API + "/me")
    assert me.status_code == 200
    assert me.json()["username"] == "gen_a"


def test_create_token_defaults(world):
    r = post_json(world.client("hq"), "/tokens", {"name": "default"})
    assert r.status_code == 201
    assert r.json()["scopes"] == ["read", "write"]
    assert r.json()["expires_at"] is not None


def test_create_token_without_expiry(world):
    r = post_json(world.client("hq"), "/tokens", {"name": "forever", "days": 0})
    assert r.status_code == 201
    assert r.json()["expires_at"] is None
    assert ApiToken.objects.get(id=r.json()["id"]).expires_at is None


@pytest.mark.parametrize(("payload", "status", "field"), [
    ({"name": ""}, 422, "name"),
    ({"name": "x" * 101}, 422, "name"),
    ({"name": "t", "scopes": []}, 422, "scopes"),
    ({"name": "t", "scopes": ["root"]}, 400, "scopes"),
    ({"name": "t", "days": -1}, 422, "days"),
    ({"name": "t", "days": 3651}, 422, "days"),
    ({"scopes": ["read"]}, 422, "name"),
])  # fmt: skip
def test_create_token_bad_input_writes_nothing(world, payload, status, field):
    c = world.client("gen_a")
    audit_count = AuditRecord.objects.count()
    r = post_json(c, "/tokens", payload)
    assert r.status_code == status, r.content
    assert r.json()["errors"][0]["field"] == field
    assert not ApiToken.objects.exists()
    assert AuditRecord.objects.count() == audit_count


def test_create_token_malformed_json_is_400(world):
    r = post_json(world.client("gen_a"), "/tokens", raw="{name:")
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "body"
    assert not ApiToken.objects.exists()


def test_token_list_shows_only_my_tokens(world):
    post_json(world.client("gen_a"), "/tokens", {"name": "mine"})
    post_json(world.client("gen_b"), "/tokens", {"name": "theirs"})
    names = [t["name"] for t in world.client("gen_a").get(API + "/tokens").json()]
    assert names == ["mine"]


def test_revoke_my_token(world):
    c = world.client("gen_a")
    created = post_json(c, "/tokens", {"name": "to revoke"}).json()
    token_client = bearer(created["token"])
    assert token_client.get(API + "/me").status_code == 200
    r = c.delete(f"{API}/tokens/{created['id']}")
    assert r.status_code == 200
    assert r.json()["revoked_at"] is not None
    assert ApiToken.objects.get(id=created["id"]).revoked_at is not None
    rec = AuditRecord.objects.order_by("-seq").first()
    assert (rec.action, rec.object_id, rec.actor) == ("token.revoke", str(created["id"]), "gen_a")
    assert token_client.get(API + "/me").status_code == 401
    # Revoking twice is harmless and adds no second record.
    count = AuditRecord.objects.count()
    assert c.delete(f"{API}/tokens/{created['id']}").status_code == 200
    assert AuditRecord.objects.count() == count


def test_a_token_can_revoke_itself(world):
    created = post_json(world.client("gen_a"), "/tokens", {"name": "self"}).json()
    tc = bearer(created["token"])
    assert tc.delete(f"{API}/tokens/{created['id']}").status_code == 200
    assert tc.get(API + "/me").status_code == 401


def test_cannot_revoke_someone_elses_token(world):
    theirs = post_json(world.client("gen_b"), "/tokens", {"name": "theirs"}).json()
    audit_count = AuditRecord.objects.count()
    for username in ("gen_a", "officer_b", "hq", "regulator"):
        r = world.client(username).delete(f"{API}/tokens/{theirs['id']}")
        assert r.status_code == 404
    assert ApiToken.objects.get(id=theirs["id"]).revoked_at is None
    assert AuditRecord.objects.count() == audit_count
    assert bearer(theirs["token"]).get(API + "/me").status_code == 200


def test_admin_may_revoke_anyones_token(world):
    theirs = post_json(world.client("gen_b"), "/tokens", {"name": "theirs"}).json()
    r = world.client("admin").delete(f"{API}/tokens/{theirs['id']}")
    assert r.status_code == 200
    assert bearer(theirs["token"]).get(API + "/me").status_code == 401


def test_revoke_unknown_token_is_404(world):
    assert world.client("admin").delete(f"{API}/tokens/987654").status_code == 404


def test_read_only_token_cannot_create_tokens(world):
    tc = world.token_client("gen_a", scopes=("read",))
    before = ApiToken.objects.count()
    r = post_json(tc, "/tokens", {"name": "escalate", "scopes": ["read", "write"]})
    assert r.status_code == 403
    assert ApiToken.objects.count() == before


def test_token_endpoints_need_authentication(world):
    anon = Client()
    assert anon.get(API + "/tokens").status_code == 401
    assert post_json(anon, "/tokens", {"name": "x"}).status_code == 401
    assert anon.delete(f"{API}/tokens/1").status_code == 401
    assert not ApiToken.objects.exists()


def test_token_records_last_use(world):
    created = post_json(world.client("gen_a"), "/tokens", {"name": "used"}).json()
    assert ApiToken.objects.get(id=created["id"]).last_used_at is None
    bearer(created["token"]).get(API + "/me")
    assert ApiToken.objects.get(id=created["id"]).last_used_at is not None


# --- tokens on the command line -------------------------------------------------------------------------------
def test_cli_token_create_prints_a_working_token(world):
    out = StringIO()
    call_command("token", "create", "gen_a", stdout=out)
    plaintext = out.getvalue().strip()
    assert plaintext.startswith("wl_")
    token = ApiToken.objects.get(user=world.users["gen_a"])
    assert token.secret_hash == sha256(plaintext.split("_", 2)[2])
    r = bearer(plaintext).get(API + "/me")
    assert r.status_code == 200
    assert r.json()["username"] == "gen_a"
    rec = AuditRecord.objects.order_by("-seq").first()
    assert (rec.action, rec.actor) == ("token.create", "system:cli")


def test_cli_token_create_with_scope_and_name(world):
    out = StringIO()
    call_command("token", "create", "dispatcher", "--name", "gps gateway", "--scope", "telemetry", "--days", "0",
                 stdout=out)  # fmt: skip
    token = ApiToken.objects.get(user=world.users["dispatcher"])
    assert (token.name, token.scopes, token.expires_at) == ("gps gateway", ["telemetry"], None)
    # A telemetry-only token may not read the registry.
    assert bearer(out.getvalue().strip()).get(API + "/establishments").status_code == 403


def test_cli_token_list_and_revoke(world):
    out = StringIO()
    call_command("token", "create", "gen_b", "--name", "nightly", stdout=out)
    plaintext = out.getvalue().strip()
    token = ApiToken.objects.get()
    listing = StringIO()
    call_command("token", "list", "gen_b", stdout=listing)
    assert f"{token.id}\t{token.prefix}\tnightly" in listing.getvalue()
    assert "active" in listing.getvalue()
    assert plaintext.split("_", 2)[2] not in listing.getvalue()
    call_command("token", "revoke", str(token.id), stdout=StringIO())
    assert bearer(plaintext).get(API + "/me").status_code == 401
    listing = StringIO()
    call_command("token", "list", "gen_b", stdout=listing)
    assert "inactive" in listing.getvalue()


def test_cli_token_for_unknown_user_fails(world):
    with pytest.raises(CommandError, match="no user"):
        call_command("token", "create", "nobody", stdout=StringIO())
    assert not ApiToken.objects.exists()


def test_cli_revoke_needs_a_numeric_id(world):
    with pytest.raises(CommandError):
        call_command("token", "revoke", "abc", stdout=StringIO())


# --- session sign-in and throttling ---------------------------------------------------------------------------
def login(client: Client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_session_login_with_the_right_password(world):
    c = Client(REMOTE_ADDR="10.0.0.10")
    r = login(c, "gen_a", PASSWORD)
    assert r.status_code == 302
    assert r["Location"] == "/"
    assert is_signed_in(c)
    assert c.session["_auth_user_id"] == str(world.users["gen_a"].id)
    assert c.get("/").status_code == 200
    assert c.get(API + "/me").json()["username"] == "gen_a"


def test_session_login_with_a_wrong_password_fails(world):
    c = Client(REMOTE_ADDR="10.0.0.11")
    r = login(c, "gen_a", "wrong-password-1")
    assert r.status_code == 200  # the form again, with the error
    assert not is_signed_in(c)
    assert c.get(API + "/me").status_code == 401


def test_logout_ends_the_session(world):
    c = Client(REMOTE_ADDR="10.0.0.12")
    login(c, "gen_a", PASSWORD)
    r = c.post("/logout/")
    assert r.status_code == 302
    assert not is_signed_in(c)
    assert c.get(API + "/me").status_code == 401


def test_five_failures_lock_the_username_out_even_for_the_right_password(world):
    c = Client(REMOTE_ADDR="10.0.0.20")
    statuses = [login(c, "gen_a", f"wrong-{i}").status_code for i in range(5)]
    assert statuses[:4] == [200, 200, 200, 200]
    r = login(c, "gen_a", PASSWORD)
    assert r.status_code == 429
    assert not is_signed_in(c)
    assert "accounts/locked_out.html" in [t.name for t in r.templates]
    assert c.get(API + "/me").status_code == 401


def test_four_failures_do_not_lock(world):
    c = Client(REMOTE_ADDR="10.0.0.21")
    for i in range(4):
        login(c, "gen_a", f"wrong-{i}")
    r = login(c, "gen_a", PASSWORD)
    assert r.status_code == 302
    assert is_signed_in(c)


def test_lockout_is_per_username_and_address(world):
    attacker = Client(REMOTE_ADDR="10.0.0.30")
    for i in range(5):
        login(attacker, "gen_a", f"wrong-{i}")
    assert not is_signed_in(attacker) and login(attacker, "gen_a", PASSWORD).status_code == 429
    # Another user from the same address is not locked out...
    same_ip = Client(REMOTE_ADDR="10.0.0.30")
    assert login(same_ip, "gen_b", PASSWORD).status_code == 302
    assert is_signed_in(same_ip)
    # ...nor the same user from another address.
    office = Client(REMOTE_ADDR="10.0.0.31")
    assert login(office, "gen_a", PASSWORD).status_code == 302
    assert is_signed_in(office)


def test_the_lockout_page_is_shown(world):
    c = Client(REMOTE_ADDR="10.0.0.40")
    for i in range(5):
        login(c, "officer_a", f"wrong-{i}")
    r = login(c, "officer_a", PASSWORD)
    assert r.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in r.templates]
