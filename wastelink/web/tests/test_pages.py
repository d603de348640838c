"""Server-rendered pages: who may open which page, what it shows them, Thai first with an English switch,
Buddhist-era years in Thai, and the profile page's API tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.utils import timezone, translation

from wastelink.accounts.models import ApiToken, User
from wastelink.accounts.services import create_token
from wastelink.audit.models import AuditRecord
from wastelink.registry.models import Establishment, Vehicle

ALL_USERS = ["gen_a", "gen_a_cert", "gen_b", "receiver", "dispatcher", "driver", "officer_a", "officer_b", "hq",
             "regulator", "admin"]  # fmt: skip
AUDITORS = {"hq", "regulator", "admin"}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The world creates eleven users; Argon2 for each would make every test take a second."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "no <html lang=...>"
    return match.group(1)


def without_csrf(body: str) -> str:
    """The page minus its random CSRF tokens, so a search for a year cannot hit one by chance."""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", body)


def thai_catalogue_compiled() -> bool:
    with translation.override("th"):
        return translation.gettext("Sign in") != "Sign in"


def common_pages(world) -> list[str]:
    return ["/", "/profile/", "/estates/", "/estates/map-ta-phut/", "/establishments/",
            f"/establishments/{world.receiver.id}/", "/vehicles/", "/waste-codes/"]  # fmt: skip


# --- who may open what ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("username", ALL_USERS)
def test_every_role_opens_the_common_pages(world, username):
    c = world.client(username)
    for path in common_pages(world):
        r = c.get(path)
        assert r.status_code == 200, path
        assert "<html" in r.content.decode()


@pytest.mark.parametrize("username", ALL_USERS)
def test_audit_page_only_for_hq_regulator_and_admin(world, username):
    create_token(actor=world.users["gen_a"], user=world.users["gen_a"], name="makes an audit record")
    r = world.client(username).get("/audit/")
    if username in AUDITORS:
        assert r.status_code == 200
        assert "token.create" in r.content.decode()
    else:
        assert r.status_code == 404
        assert "token.create" not in r.content.decode()


@pytest.mark.parametrize("username", ALL_USERS)
def test_navigation_links_the_audit_trail_only_for_auditors(world, username):
    body = world.client(username).get("/").content.decode()
    assert ('href="/audit/"' in body) is (username in AUDITORS)


def test_anonymous_users_are_sent_to_login(world):
    anon = Client()
    paths = common_pages(world) + ["/audit/", f"/establishments/{world.gen_a.id}/", "/estates/bangpoo/"]
    for path in paths:
        r = anon.get(path)
        assert r.status_code == 302, path
        assert r["Location"] == f"/login/?next={path}", path


def test_anonymous_cannot_revoke_or_create_tokens(world):
    token = create_token(actor=world.users["gen_a"], user=world.users["gen_a"], name="x").token
    anon = Client()
    assert anon.post(f"/profile/tokens/{token.id}/revoke/").status_code == 302
    assert anon.post("/profile/", {"name": "sneaky"}).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is None
    assert ApiToken.objects.count() == 1


def test_login_page_renders_for_anonymous(world):
    r = Client().get("/login/")
    assert r.status_code == 200
    assert 'name="username"' in r.content.decode()


# --- establishments -------------------------------------------------------------------------------------------
@pytest.fixture
def private_details(world):
    for est in (world.gen_a, world.gen_b, world.receiver, world.transporter):
        est.address = f"{est.registration_no} Secret Road"
        est.save()
    Vehicle.objects.create(transporter=world.transporter, plate="701111", province="Rayong", kind="tanker",
                           capacity_kg=20000, gps_device_id="GPS-PRIVATE")  # fmt: skip


def test_generator_cannot_open_another_generators_page(world, private_details):
    c = world.client("gen_a")
    r = c.get(f"/establishments/{world.gen_b.id}/")
    assert r.status_code == 404
    assert "Bravo" not in r.content.decode()
    assert c.get(f"/establishments/{world.gen_outside.id}/").status_code == 404
    assert c.get("/establishments/999999/").status_code == 404


def test_generator_sees_its_own_full_record(world, private_details):
    r = world.client("gen_a").get(f"/establishments/{world.gen_a.id}/")
    assert r.status_code == 200
    body = r.content.decode()
    assert world.gen_a.registration_no in body
    assert "72000000000001 Secret Road" in body


def test_public_entry_hides_private_details(world, private_details):
    body = world.client("gen_a").get(f"/establishments/{world.transporter.id}/").content.decode()
    assert "Echo Logistics" in body or "บริษัท Echo Logistics จำกัด" in body
    assert "Secret Road" not in body
    assert "701111" not in body and "GPS-PRIVATE" not in body


@pytest.mark.parametrize("username", ["dispatcher", "driver", "regulator", "admin"])
def test_fleet_and_authorities_see_the_transporters_vehicles(world, private_details, username):
    body = world.client(username).get(f"/establishments/{world.transporter.id}/").content.decode()
    assert "701111" in body
    assert "20000000000005 Secret Road" in body


@pytest.mark.parametrize(("username", "shown", "hidden"), [
    ("officer_a", {"gen_a"}, {"gen_b", "gen_outside"}),
    ("officer_b", {"gen_b"}, {"gen_a", "gen_outside"}),
    ("hq", {"gen_a", "gen_b"}, {"gen_outside"}),
    ("regulator", {"gen_a", "gen_b", "gen_outside"}, set()),
    ("gen_a", {"gen_a"}, {"gen_b", "gen_outside"}),
])  # fmt: skip
def test_establishment_officer_pages_follow_estate_scope(world, username, shown, hidden):
    c = world.client(username)
    body = c.get("/establishments/").content.decode()
    for target in shown:
        est = getattr(world, target)
        assert est.registration_no in body
        assert c.get(f"/establishments/{est.id}/").status_code == 200
    for target in hidden:
        est = getattr(world, target)
        assert est.registration_no not in body
        assert c.get(f"/establishments/{est.id}/").status_code == 404
    # receivers and transporters are in everyone's directory
    assert world.receiver.registration_no in body and world.transporter.registration_no in body


def test_establishments_htmx_request_gets_only_the_rows(world):
    c = world.client("officer_a")
    full = c.get("/establishments/", {"q": "Alpha"})
    partial = c.get("/establishments/", {"q": "Alpha"}, HTTP_HX_REQUEST="true")
    assert full.status_code == partial.status_code == 200
    assert "<html" in full.content.decode()
    rows = partial.content.decode()
    assert "<html" not in rows and "<body" not in rows
    assert rows.lstrip().startswith("<tr>")
    assert world.gen_a.registration_no in rows
    assert world.receiver.registration_no not in rows  # the search filtered it out
    assert "web/_establishment_rows.html" in [t.name for t in partial.templates]


def test_establishments_filters(world):
    c = world.client("admin")
    rows = c.get("/establishments/", {"role": "receiver"}, HTTP_HX_REQUEST="true").content.decode()
    assert world.receiver.registration_no in rows and world.gen_a.registration_no not in rows
    rows = c.get("/establishments/", {"estate": "bangpoo"}, HTTP_HX_REQUEST="true").content.decode()
    assert world.gen_b.registration_no in rows and world.gen_a.registration_no not in rows
    rows = c.get("/establishments/", {"q": "zzz-nothing"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<tr>" in rows and world.gen_a.registration_no not in rows


def test_htmx_partial_respects_access(world):
    rows = (
        world.client("gen_a").get("/establishments/", {"q": "Bravo"}, HTTP_HX_REQUEST="true").content.decode()
    )
    assert world.gen_b.registration_no not in rows


# --- estates --------------------------------------------------------------------------------------------------
def test_estates_map_lists_every_estate(world):
    body = world.client("gen_a").get("/estates/").content.decode()
    assert 'href="/estates/map-ta-phut/"' in body
    assert 'href="/estates/bangpoo/"' in body
    assert body.count('href="/estates/') >= 41
    assert "/api/v1/estates.geojson" in body


def test_officer_sees_own_estates_marked_on_the_map_page(world):
    body = world.client("officer_a").get("/estates/").content.decode()
    assert body.count('class="mine"') == 1


def test_estate_detail_lists_only_establishments_the_user_may_find(world):
    assert world.client("officer_b").get("/estates/bangpoo/").status_code == 200
    assert world.gen_b.registration_no in world.client("officer_b").get("/estates/bangpoo/").content.decode()
    body = world.client("gen_a").get("/estates/bangpoo/").content.decode()
    assert world.gen_b.registration_no not in body
    body = world.client("officer_a").get("/estates/bangpoo/").content.decode()
    assert world.gen_b.registration_no not in body


def test_unknown_estate_page_is_404(world):
    assert world.client("admin").get("/estates/atlantis/").status_code == 404


# --- vehicles and waste codes ---------------------------------------------------------------------------------
def test_vehicles_page_shows_only_visible_vehicles(world, private_details):
    assert "701111" in world.client("dispatcher").get("/vehicles/").content.decode()
    assert "701111" in world.client("regulator").get("/vehicles/").content.decode()
    for username in ("gen_a", "officer_a", "hq", "receiver"):
        r = world.client(username).get("/vehicles/")
        assert r.status_code == 200
        assert "701111" not in r.content.decode(), username


def test_vehicles_page_search(world, private_details):
    Vehicle.objects.create(transporter=world.transporter, plate="702222", province="Rayong", kind="pickup",
                           capacity_kg=1000)  # fmt: skip
    body = world.client("dispatcher").get("/vehicles/", {"q": "70-22"}).content.decode()
    assert "702222" in body and "701111" not in body


def test_waste_codes_page_lists_entries_and_searches(world):
    c = world.client("gen_a")
    body = c.get("/waste-codes/").content.decode()
    assert "01 01 01" in body
    body = c.get("/waste-codes/", {"q": "01 03 04"}).content.decode()
    assert "01 03 04" in body and "01 01 01" not in body


# --- language -------------------------------------------------------------------------------------------------
def test_pages_are_thai_by_default(world):
    r = Client().get("/login/")
    assert html_lang(r) == "th"
    if thai_catalogue_compiled():
        assert "เข้าสู่ระบบ" in r.content.decode()
    assert html_lang(world.client("gen_a").get("/")) == "th"


def test_thai_even_for_an_english_browser(world):
    r = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get("/login/")
    assert html_lang(r) == "th"


def test_switching_to_english(world):
    c = world.client("gen_a")
    r = c.post("/i18n/setlang/", {"language": "en", "next": "/profile/"})
    assert r.status_code == 302
    assert r["Location"] == "/profile/"
    page = c.get("/profile/")
    assert html_lang(page) == "en"
    assert "Profile" in page.content.decode()
    login_page = c.get("/login/")
    assert html_lang(login_page) == "en"
    assert "Sign in" in login_page.content.decode()
    # and back
    c.post("/i18n/setlang/", {"language": "th", "next": "/"})
    assert html_lang(c.get("/profile/")) == "th"


def test_anonymous_switch_to_english(world):
    c = Client()
    c.post("/i18n/setlang/", {"language": "en"})
    assert html_lang(c.get("/login/")) == "en"


def test_language_choice_is_remembered_on_the_profile(world):
    world.client("gen_a").post("/i18n/setlang/", {"language": "en"})
    world.users["gen_a"].refresh_from_db()
    assert world.users["gen_a"].preferred_language == "en"
    fresh = world.client("gen_a")  # a new browser: no language cookie
    assert html_lang(fresh.get("/")) == "en"


def test_unknown_language_is_ignored(world):
    c = world.client("gen_a")
    c.post("/i18n/setlang/", {"language": "xx"})
    assert html_lang(c.get("/")) == "th"


def test_setlang_needs_post(world):
    assert world.client("gen_a").get("/i18n/setlang/", {"language": "en"}).status_code == 405


# --- Buddhist era ---------------------------------------------------------------------------------------------
@pytest.fixture
def dated_token(world) -> ApiToken:
    token = create_token(actor=world.users["gen_a"], user=world.users["gen_a"], name="dated").token
    # 15 March 2024 10:00 UTC is 17:00 in Bangkok; fixed dates and prefix so nothing else can contain the years.
    ApiToken.objects.filter(id=token.id).update(created_at=datetime(2024, 3, 15, 10, 0, tzinfo=UTC),
                                                expires_at=datetime(2030, 1, 2, 3, 0, tzinfo=UTC), prefix="abcdefabcd")  # fmt: skip
    return token


def test_profile_shows_buddhist_era_years_in_thai(world, dated_token):
    body = without_csrf(world.client("gen_a").get("/profile/").content.decode())
    assert "15 มี.ค. 2567 17:00 น." in body  # 2024 + 543
    assert "2 ม.ค. 2573" in body  # 2030 + 543, in Bangkok time
    assert "2024" not in body


def test_profile_shows_common_era_years_in_english(world, dated_token):
    c = world.client("gen_a")
    c.post("/i18n/setlang/", {"language": "en"})
    body = without_csrf(c.get("/profile/").content.decode())
    assert "15 Mar 2024 17:00" in body
    assert "2567" not in body


def test_last_sign_in_year_is_buddhist_era(world):
    body = world.client("gen_a").get("/profile/").content.decode()
    last_login = timezone.localtime(User.objects.get(username="gen_a").last_login)
    assert f"{last_login.day} " in body
    assert str(last_login.year + 543) in body


def test_receiver_licence_dates_are_buddhist_era_on_the_receivers_page(world):
    from wastelink.registry.models import ReceiverLicence

    ReceiverLicence.objects.create(receiver=world.receiver, licence_no="RL-BE-1", factory_type_id="105",
                                   annual_capacity_t="100", valid_from="2025-01-01", valid_until="2027-06-30")  # fmt: skip
    c = world.client("gen_a")  # a generator choosing a receiver sees its licences
    body = c.get(f"/establishments/{world.receiver.id}/").content.decode()
    assert "RL-BE-1" in body
    assert "1 ม.ค. 2568" in body and "30 มิ.ย. 2570" in body
    c.post("/i18n/setlang/", {"language": "en"})
    body = c.get(f"/establishments/{world.receiver.id}/").content.decode()
    assert "1 Jan 2025" in body and "30 Jun 2027" in body


# --- profile: tokens ------------------------------------------------------------------------------------------
def test_profile_offers_every_scope(world):
    body = world.client("gen_a").get("/profile/").content.decode()
    for scope in ("read", "write", "telemetry"):
        assert f'name="scopes" value="{scope}"' in body


def test_profile_creates_a_token_and_shows_it_once(world):
    c = world.client("gen_a")
    audit_count = AuditRecord.objects.count()
    r = c.post("/profile/", {"name": "spreadsheet", "scopes": ["read", "write"]})
    assert r.status_code == 200
    body = r.content.decode()
    match = re.search(r'<code id="new-token">(wl_[^<]+)</code>', body)
    assert match, "the new token is shown"
    plaintext = match.group(1)
    token = ApiToken.objects.get(user=world.users["gen_a"])
    assert (token.name, token.scopes) == ("spreadsheet", ["read", "write"])
    assert AuditRecord.objects.count() == audit_count + 1
    # it works on the API
    me = Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}").get("/api/v1/me")
    assert me.json()["username"] == "gen_a"
    # and is not shown again
    again = c.get("/profile/").content.decode()
    assert plaintext not in again
    assert plaintext.split("_", 2)[2] not in again
    assert token.prefix in again


def test_profile_token_defaults_to_read_only(world):
    world.client("gen_a").post("/profile/", {"name": "reader"})
    assert ApiToken.objects.get().scopes == ["read"]


def test_profile_refuses_a_token_without_a_name(world):
    r = world.client("gen_a").post("/profile/", {"name": "  "})
    assert r.status_code == 200
    assert not ApiToken.objects.exists()
    assert 'id="new-token"' not in r.content.decode()


def test_profile_refuses_an_unknown_scope(world):
    r = world.client("gen_a").post("/profile/", {"name": "bad", "scopes": ["root"]})
    assert r.status_code == 200
    assert not ApiToken.objects.exists()
    body = r.content.decode()
    assert 'id="new-token"' not in body
    assert "ไม่รู้จักขอบเขต: root" in body  # the message, in Thai, names the refused scope


def test_profile_revokes_a_token(world):
    c = world.client("gen_a")
    c.post("/profile/", {"name": "short-lived"})
    token = ApiToken.objects.get()
    r = c.post(f"/profile/tokens/{token.id}/revoke/")
    assert r.status_code == 302
    assert r["Location"] == "/profile/"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditRecord.objects.order_by("-seq").first().action == "token.revoke"
    body = c.get("/profile/").content.decode()
    assert f"/profile/tokens/{token.id}/revoke/" not in body  # no revoke button for a revoked token


def test_profile_cannot_revoke_someone_elses_token(world):
    token = create_token(actor=world.users["gen_b"], user=world.users["gen_b"], name="theirs").token
    r = world.client("gen_a").post(f"/profile/tokens/{token.id}/revoke/")
    assert r.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoke_needs_post(world):
    token = create_token(actor=world.users["gen_a"], user=world.users["gen_a"], name="x").token
    assert world.client("gen_a").get(f"/profile/tokens/{token.id}/revoke/").status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_profile_lists_only_my_tokens(world):
    create_token(actor=world.users["gen_b"], user=world.users["gen_b"], name="bravo-secret-name")
    create_token(actor=world.users["gen_a"], user=world.users["gen_a"], name="alpha-token")
    body = world.client("gen_a").get("/profile/").content.decode()
    assert "alpha-token" in body and "bravo-secret-name" not in body


def test_home_shows_own_establishment(world):
    body = world.client("gen_a").get("/").content.decode()
    assert f'href="/establishments/{world.gen_a.id}/"' in body
    assert Establishment.objects.count() == 5


def test_a_page_that_is_not_there_or_not_yours_is_a_404_in_the_platform_layout(world):
    r = world.client("gen_a").get("/alerts/987654/")
    body = r.content.decode()
    assert r.status_code == 404 and "ไม่พบหน้านี้" in body and 'href="/"' in body and "<nav" in body
