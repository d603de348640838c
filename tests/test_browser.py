"""A person's first visit, in headless Chromium (the distribution's build, driven by Playwright)."""

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("WASTELINK_SCREENSHOTS", "test-results"))


@pytest.fixture
def page(live_server, monkeypatch):
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls in the test body are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])  # fmt: skip
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            pg = context.new_page()
            pg.set_default_timeout(15_000)
            yield pg
            browser.close()
        finally:
            # While that loop runs, django.db.connections (an asgiref Local) hands the test body its own connection,
            # not the thread's: close it here, in the loop's context. Left open it outlives the test and the session,
            # and PostgreSQL refuses to drop the test database ("being accessed by other users").
            connections.close_all()


def sign_in(page, base, username, password):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/")


def test_an_officer_signs_in_in_thai_switches_to_english_and_sees_the_estates_map(transactional_db, live_server, page):
    from conftest import PASSWORD, World  # noqa: F401
    from wastelink.accounts.models import Organisation, User
    from wastelink.registry.models import Estate
    from wastelink.registry.services.reference import load_reference_data

    if not Estate.objects.exists():  # a transactional test database starts empty
        load_reference_data()
    office = Organisation.objects.create(kind="estate_office", name_th="สำนักงานนิคมฯ มาบตาพุด", name_en="MTP Office")
    office.estates.set(Estate.objects.filter(code__in=["map-ta-phut", "padaeng"]))
    User.objects.create_user(username="somchai", password=PASSWORD, role="estate_officer", organisation=office,
                             first_name="สมชาย")  # fmt: skip
    base = live_server.url
    SHOTS.mkdir(exist_ok=True)

    sign_in(page, base, "somchai", PASSWORD)
    assert page.locator("html").get_attribute("lang") == "th"
    assert "ปีเป็นพุทธศักราช" in page.inner_text("footer")
    page.screenshot(path=str(SHOTS / "home-th.png"), full_page=True)

    page.click("button[name=language][value=en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Welcome" in page.inner_text("h1")

    page.goto(f"{base}/estates/")
    page.wait_for_selector("#map path.estate-boundary")
    assert page.locator("#map path.estate-boundary").count() == Estate.objects.count()
    assert page.locator("#map path.estate-marker").count() == Estate.objects.count()
    page.screenshot(path=str(SHOTS / "estates-map-en.png"), full_page=True)


def test_a_wrong_password_shows_an_error_and_no_session(transactional_db, live_server, page):
    from conftest import PASSWORD
    from wastelink.accounts.models import User

    User.objects.create_user(username="somsak", password=PASSWORD, role="regulator")
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "somsak")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit].primary")
    assert page.locator("p.error").is_visible()
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
