"""Shared fixtures: reference data loaded once per test database; a small world of organisations and users.

The world has two estate offices (A covers map-ta-phut, B covers bangpoo), a generator in each, a receiver and a
transporter, and a user for every role, so nearly every endpoint test can also check the access boundary.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client

from wastelink.accounts.models import Organisation, User
from wastelink.accounts.services import create_token
from wastelink.core.roles import Role
from wastelink.registry.models import Establishment, Estate

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded documents of a test go to its own temporary folder, never into the working tree."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from wastelink.registry.services.reference import load_reference_data

    with django_db_blocker.unblock():
        load_reference_data()


def make_establishment(reg: str, name: str, estate: Estate | None, **roles: bool) -> Establishment:
    est = Establishment.objects.create(registration_no=reg, name_th=f"บริษัท {name} จำกัด", name_en=f"{name} Co., Ltd.",
                                       estate=estate, province="Rayong", **roles)  # fmt: skip
    Organisation.objects.create(
        kind="establishment", name_th=est.name_th, name_en=est.name_en, establishment=est
    )
    return est


def make_user(username: str, role: Role, org: Organisation | None) -> User:
    return User.objects.create_user(username=username, password=PASSWORD, role=role.value, organisation=org,
                                    first_name=username, email=f"{username}@example.test", is_superuser=role == Role.ADMIN, is_staff=role == Role.ADMIN)  # fmt: skip


@dataclass
class World:
    estate_a: Estate
    estate_b: Estate
    gen_a: Establishment
    gen_b: Establishment
    gen_outside: Establishment
    receiver: Establishment
    transporter: Establishment
    users: dict[str, User]

    def client(self, username: str) -> Client:
        c = Client()
        c.force_login(self.users[username])
        return c

    def token_client(self, username: str, scopes=("read", "write")) -> Client:
        issued = create_token(
            actor=self.users[username], user=self.users[username], name="t", scopes=list(scopes)
        )
        return Client(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")


@pytest.fixture
def world(db) -> World:
    estate_a = Estate.objects.get(code="map-ta-phut")
    estate_b = Estate.objects.get(code="bangpoo")
    gen_a = make_establishment("72000000000001", "Alpha Chemical", estate_a, is_generator=True)
    gen_b = make_establishment("72000000000002", "Bravo Steel", estate_b, is_generator=True)
    gen_outside = make_establishment("10000000000003", "Charlie Foods", None, is_generator=True)
    receiver = make_establishment("10000000000004", "Delta Recycling", None, is_receiver=True)
    transporter = make_establishment("20000000000005", "Echo Logistics", None, is_transporter=True)
    office_a = Organisation.objects.create(kind="estate_office", name_th="สำนักงาน A", name_en="Office A")
    office_a.estates.set([estate_a])
    office_b = Organisation.objects.create(kind="estate_office", name_th="สำนักงาน B", name_en="Office B")
    office_b.estates.set([estate_b])
    hq = Organisation.objects.create(kind="ieat_hq", name_th="สำนักงานใหญ่", name_en="HQ")
    diw = Organisation.objects.create(kind="diw", name_th="กรอ.", name_en="DIW")
    platform = Organisation.objects.create(kind="platform", name_th="ผู้ดูแล", name_en="Platform")
    users = {
        "gen_a": make_user("gen_a", Role.GENERATOR_PREPARER, gen_a.organisation),
        "gen_a_cert": make_user("gen_a_cert", Role.GENERATOR_CERTIFIER, gen_a.organisation),
        "gen_b": make_user("gen_b", Role.GENERATOR_PREPARER, gen_b.organisation),
        "receiver": make_user("receiver", Role.RECEIVER_OPERATOR, receiver.organisation),
        "dispatcher": make_user("dispatcher", Role.TRANSPORTER_DISPATCHER, transporter.organisation),
        "driver": make_user("driver", Role.TRANSPORTER_DRIVER, transporter.organisation),
        "officer_a": make_user("officer_a", Role.ESTATE_OFFICER, office_a),
        "officer_b": make_user("officer_b", Role.ESTATE_OFFICER, office_b),
        "hq": make_user("hq", Role.HQ_OFFICER, hq),
        "regulator": make_user("regulator", Role.REGULATOR, diw),
        "admin": make_user("admin", Role.ADMIN, platform),
    }
    return World(estate_a, estate_b, gen_a, gen_b, gen_outside, receiver, transporter, users)


# --- concurrency tests: real transactions, one connection per thread -------------------------------------------


@pytest.fixture
def writers_queue(monkeypatch):
    """Make the test runner's in-memory SQLite queue writers as the platform's file database does.

    The test database is an in-memory database in shared-cache mode, where a second BEGIN IMMEDIATE fails at once
    with "database table is locked" (SQLITE_LOCKED, which busy_timeout does not retry). On the platform's file
    database busy_timeout makes that BEGIN wait for the writer ahead. The wait is added here at that one place: a
    failed BEGIN started nothing, so retrying it is what busy_timeout does. Nothing else, and no other database, is
    touched.
    """
    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        return
    from django.db.backends.sqlite3.base import DatabaseWrapper

    begin = DatabaseWrapper._start_transaction_under_autocommit

    def begin_waiting(self):
        deadline = time.monotonic() + 30
        while True:
            try:
                return begin(self)
            except OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.005)

    monkeypatch.setattr(DatabaseWrapper, "_start_transaction_under_autocommit", begin_waiting)


@pytest.fixture
def reference_data(transactional_db):
    """A transactional test database is emptied after every test: load the code lists and estates again."""
    from wastelink.registry.services.reference import load_reference_data

    load_reference_data()


def race(*calls: Callable[[], Any], timeout: float = 120) -> list[Any]:
    """Run the calls in threads released together; each result is the return value or the exception raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001 - judged by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results
