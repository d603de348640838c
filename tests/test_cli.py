"""The `wastelink` console command, run as a user would, against a throwaway SQLite file."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).with_name("wastelink")


@pytest.fixture
def workdir(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["WASTELINK_HOME"] = str(tmp_path)

    def run(*args, ok=True):
        proc = subprocess.run([str(BIN), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        if ok:
            assert proc.returncode == 0, proc.stderr
        return proc

    run.path = tmp_path
    return run


def test_demo_load_is_deterministic_idempotent_and_audited(workdir):
    first = workdir("demo", "load")
    assert "demo data loaded" in first.stdout
    again = workdir("demo", "load")
    assert "already present" in again.stdout
    accounts = json.loads(workdir("demo", "accounts", "--json").stdout)
    roles = {a["role"] for a in accounts}
    assert roles == {"generator_preparer", "generator_certifier", "transporter_dispatcher", "transporter_driver",
                     "receiver_operator", "receiver_certifier", "estate_officer", "hq_officer", "regulator", "admin"}
    db = sqlite3.connect(workdir.path / "wastelink.sqlite3")
    counts = dict(db.execute("SELECT 'est', count(*) FROM registry_establishment UNION ALL "
                             "SELECT 'veh', count(*) FROM registry_vehicle UNION ALL "
                             "SELECT 'rcv', count(*) FROM registry_establishment WHERE is_receiver UNION ALL "
                             "SELECT 'trn', count(*) FROM registry_establishment WHERE is_transporter").fetchall())
    assert counts == {"est": 340, "veh": 120, "rcv": 20, "trn": 15}
    regs = [r[0] for r in db.execute("SELECT registration_no FROM registry_establishment ORDER BY id LIMIT 5")]
    # Applications and permits in every state, one approved by the auto-approval table, an overdue queue at the
    # Map Ta Phut office.
    app_states = {r[0] for r in db.execute("SELECT DISTINCT state FROM permits_permitapplication")}
    assert app_states == {"DRAFT", "SUBMITTED", "UNDER_REVIEW", "INFO_REQUESTED", "APPROVED", "PARTIALLY_APPROVED",
                          "REJECTED"}  # fmt: skip
    permit_states = {r[0] for r in db.execute("SELECT DISTINCT state FROM permits_permit")}
    assert permit_states == {"ACTIVE", "SUSPENDED", "REVOKED", "EXPIRED"}
    assert db.execute("SELECT count(*) FROM permits_permitapplication WHERE auto_decided AND state = 'APPROVED'"
                      ).fetchone()[0] >= 1  # fmt: skip
    overdue_mtp = db.execute(
        "SELECT count(*) FROM permits_permitapplication a JOIN registry_estate e ON e.id = a.estate_id "
        "WHERE e.code LIKE '%map-ta-phut%' AND a.state IN ('SUBMITTED', 'UNDER_REVIEW') "
        "AND a.first_submitted_at < datetime('now', '-10 days')").fetchone()[0]  # fmt: skip
    assert overdue_mtp >= 1
    # Manifests in every state, with discrepancies open and reviewed, a load returned on a linked manifest, a
    # correction, and work waiting for the demo transporter's driver and the demo receiver's certifier.
    manifest_states = {r[0] for r in db.execute("SELECT DISTINCT state FROM manifests_manifest")}
    assert manifest_states == {"DRAFT", "SCHEDULED", "IN_TRANSIT", "DELIVERED", "RECEIVED", "COMPLETED",
                               "CANCELLED"}  # fmt: skip

    def manifests(where):
        return db.execute(f"SELECT count(*) FROM manifests_manifest WHERE {where}").fetchone()[0]

    assert manifests("1") >= 50
    assert manifests("discrepancy AND discrepancy_reviewed_by = ''") >= 1
    assert manifests("discrepancy AND discrepancy_reviewed_by != ''") >= 1
    assert manifests("parent_id IS NOT NULL AND relation = 'return'") >= 1
    assert manifests("version = 2") >= 1
    assert db.execute("SELECT count(*) FROM manifests_manifestversion WHERE version = 2 AND reason != ''"
                      ).fetchone()[0] >= 1  # fmt: skip
    # Every load that left has a trip with a recorded track; the open ones are still being followed.
    trips = dict(db.execute("SELECT state, count(*) FROM tracking_trip WHERE points > 0 GROUP BY state").fetchall())
    assert trips.get("open", 0) == manifests("state = 'IN_TRANSIT'") and trips.get("closed", 0) >= 30
    assert db.execute("SELECT count(*) FROM tracking_position WHERE trip_id IS NULL").fetchone()[0] == 0

    def actionable(username, party, states):
        return manifests(f"{party}_id IN (SELECT o.establishment_id FROM accounts_organisation o JOIN accounts_user u "
                         f"ON u.organisation_id = o.id WHERE u.username = '{username}') AND state IN ({states})")  # fmt: skip

    assert actionable("trans.driver", "transporter", "'SCHEDULED', 'IN_TRANSIT'") >= 1
    assert actionable("recv.certifier", "receiver", "'DELIVERED'") >= 1
    assert actionable("gen.certifier", "generator", "'DRAFT'") >= 1
    db.close()

    # The same seed in another folder gives the same data.
    other = workdir.path / "other"
    other.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    subprocess.run([str(BIN), "demo", "load"], cwd=other, env=env, check=True, capture_output=True, timeout=300)
    db2 = sqlite3.connect(other / "wastelink.sqlite3")
    assert [r[0] for r in db2.execute("SELECT registration_no FROM registry_establishment ORDER BY id LIMIT 5")] == regs
    db2.close()

    verify = workdir("audit", "verify")
    assert "intact" in verify.stdout


def test_audit_verify_names_a_tampered_record(workdir):
    workdir("demo", "load")
    db = sqlite3.connect(workdir.path / "wastelink.sqlite3")
    db.execute("UPDATE audit_auditrecord SET action = 'establishment.delete' WHERE seq = 42")
    db.commit()
    db.close()
    proc = workdir("audit", "verify", ok=False)
    assert proc.returncode == 1 and "#42" in proc.stderr


def test_token_create_prints_a_token_that_the_api_accepts(workdir):
    workdir("demo", "load")
    token = workdir("token", "create", "officer.mtp").stdout.strip()
    assert token.startswith("wl_")
    script = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'wastelink.settings'); django.setup(); "
        "from django.test import Client; "
        f"r = Client(HTTP_AUTHORIZATION='Bearer {token}').get('/api/v1/me'); print(r.status_code, r.json()['username'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    me = subprocess.run([sys.executable, "-c", script], cwd=workdir.path, env=env, capture_output=True, text=True)
    assert me.stdout.split() == ["200", "officer.mtp"], me.stderr
    unknown = workdir("token", "create", "nobody", ok=False)
    assert unknown.returncode != 0 and "no user named" in unknown.stderr


def test_commands_on_an_empty_database_say_what_to_do(workdir):
    proc = workdir("audit", "verify", ok=False)
    assert proc.returncode != 0 and "wastelink setup" in proc.stderr
