"""The access boundary of every manifest endpoint, and the bulk CSV upload.

gen_a's manifests are seen by gen_a, the transporter that carries them, the receiver they are consigned to, the
officer of estate A, HQ and the regulator. Another generator, another transporter's users, another receiver's users
and the officer of estate B see nothing: 404 on every manifest URL, absent from every list, and a refused write
leaves no row and no audit record behind.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from conftest import make_establishment, make_user
from wastelink.accounts.models import Notification
from wastelink.audit.models import AuditRecord
from wastelink.core.roles import Role
from wastelink.manifests.models import Manifest, ManifestVersion, Signature
from wastelink.manifests.schemas import CompleteIn
from wastelink.manifests.services import custody, oversight
from wastelink.manifests.services.document import document_hash
from wastelink.permits.models import PermitLine
from wastelink.registry.models import Vehicle

from .conftest import new_manifest, receive, sign, to_delivered

OUTSIDERS = ["gen_b", "gen_b_cert", "dispatcher_x", "driver_x", "receiver_x", "receiver_x_cert", "officer_b"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def aw(manifest_world):
    """gen_a's manifests in every state that some endpoint acts on, and the users of three other parties."""
    w = manifest_world
    w.users["gen_b_cert"] = make_user("gen_b_cert", Role.GENERATOR_CERTIFIER, w.gen_b.organisation)
    carrier = make_establishment("20000000000066", "Foxtrot Haulage", None, is_transporter=True)
    w.users["dispatcher_x"] = make_user("dispatcher_x", Role.TRANSPORTER_DISPATCHER, carrier.organisation)
    w.users["driver_x"] = make_user("driver_x", Role.TRANSPORTER_DRIVER, carrier.organisation)
    Vehicle.objects.create(transporter=carrier, plate="709999", province="ระยอง", kind="truck_10w", capacity_kg=15000,
                           gps_device_id="dev-x", hazardous_approved=True)  # fmt: skip
    plant = make_establishment("10000000000077", "Golf Waste", None, is_receiver=True)
    w.users["receiver_x"] = make_user("receiver_x", Role.RECEIVER_OPERATOR, plant.organisation)
    w.users["receiver_x_cert"] = make_user("receiver_x_cert", Role.RECEIVER_CERTIFIER, plant.organisation)

    ms = {"draft": new_manifest(w, "1")}
    ms["scheduled"] = new_manifest(w, "5")
    custody.schedule(actor=w.users["gen_a_cert"], number=ms["scheduled"].number, data=sign(ms["scheduled"]))
    ms["in_transit"] = new_manifest(w, "5")
    custody.schedule(actor=w.users["gen_a_cert"], number=ms["in_transit"].number, data=sign(ms["in_transit"]))
    custody.pickup(actor=w.users["driver"], number=ms["in_transit"].number, data=sign(ms["in_transit"]))
    ms["delivered"] = new_manifest(w, "5")
    to_delivered(w, ms["delivered"])
    Manifest.objects.filter(id=ms["delivered"].id).update(
        delivered_at=timezone.now() - timedelta(hours=48)
    )  # overdue
    ms["received"] = new_manifest(w, "5")
    to_delivered(w, ms["received"])
    receive(w, ms["received"], "4000", discrepancy_code="A", discrepancy_reason="short load")  # explained
    ms["rejected"] = new_manifest(w, "5")
    to_delivered(w, ms["rejected"])
    receive(w, ms["rejected"], "5000", acceptance="rejected")
    ms["completed"] = new_manifest(w, "4")
    to_delivered(w, ms["completed"])
    receive(w, ms["completed"], "4000")
    custody.complete(actor=w.users["receiver"], number=ms["completed"].number,
                     data=CompleteIn(final_method="041", treated_on=timezone.localdate()))  # fmt: skip
    for m in ms.values():
        m.refresh_from_db()
    w.ms = ms
    return w


def post(client, url, data=None):
    return client.post(url, data=json.dumps(data or {}), content_type="application/json")


def world_state():
    """Every row the manifest endpoints write, and the audit log."""
    return (list(Manifest.objects.order_by("id").values()), Signature.objects.count(), ManifestVersion.objects.count(),
            AuditRecord.objects.count(), Notification.objects.count(),
            list(PermitLine.objects.order_by("id").values_list("remaining_quantity_t", flat=True)))  # fmt: skip


def current_hash(m):
    m.refresh_from_db()
    return document_hash(m)


def writes(w):
    """Each write with the manifest it targets and a body that would be valid for the right party."""
    ms, now = w.ms, timezone.now()
    later = (now + timedelta(hours=9)).isoformat()
    return [
        ("schedule", ms["draft"], {"document_sha256": current_hash(ms["draft"])}),
        ("pickup", ms["scheduled"], {"document_sha256": current_hash(ms["scheduled"])}),
        ("deliver", ms["in_transit"], {}),
        ("receive", ms["delivered"], {"document_sha256": current_hash(ms["delivered"]), "weighed_quantity": "5000",
                                      "unit": "kg", "acceptance": "full"}),
        ("complete", ms["received"], {"final_method": "041", "treated_on": str(timezone.localdate())}),
        ("cancel", ms["draft"], {"reason": "not needed"}),
        ("cancel", ms["scheduled"], {"reason": "not needed"}),
        ("discrepancy/explain", ms["rejected"], {"discrepancy_code": "C", "discrepancy_reason": "leaking drums"}),
        ("discrepancy/review", ms["received"], {"reason": "weighbridge ticket matches"}),
        ("correct", ms["scheduled"], {"reason": "traffic", "expected_arrival_at": later}),
        ("correct", ms["in_transit"], {"reason": "recount", "container_count": 21}),
        ("reroute", ms["rejected"], {"relation": "return", "vehicle_id": w.vehicle.id, "quantity_kg": "5000",
                                     "planned_pickup_at": (now + timedelta(hours=1)).isoformat(),
                                     "expected_arrival_at": (now + timedelta(hours=5)).isoformat()}),
    ]  # fmt: skip


READS = ["", "/document", "/pdf", "/versions"]


def numbers(r):
    assert r.status_code == 200, r.content
    return {x["number"] for x in r.json()}


# --- outsiders ------------------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("user", OUTSIDERS)
def test_outsiders_see_nothing_of_gen_as_manifests(aw, user):
    w = aw
    c = w.client(user)
    assert numbers(c.get("/api/v1/manifests")) == set()
    assert numbers(c.get("/api/v1/manifests", {"discrepancy": "true"})) == set()
    assert numbers(c.get("/api/v1/manifests", {"plate": "70-1234"})) == set()
    assert numbers(c.get("/api/v1/manifests/overdue")) == set()
    today = timezone.localdate()
    r = c.get("/api/v1/mass-balance", {"date_from": str(today - timedelta(days=30)), "date_to": str(today)})
    assert r.status_code == 200 and [row for row in r.json() if row["generator_id"] == w.gen_a.id] == []
    for m in w.ms.values():
        for suffix in READS:
            r = c.get(f"/api/v1/manifests/{m.number}{suffix}")
            assert r.status_code == 404, (user, m.state, suffix)
            assert m.number.encode() not in r.content


@pytest.mark.django_db
@pytest.mark.parametrize("user", OUTSIDERS)
def test_outsiders_cannot_write_and_leave_no_trace(aw, user):
    w = aw
    c = w.client(user)
    before = world_state()
    for action, m, body in writes(w):
        r = post(c, f"/api/v1/manifests/{m.number}/{action}", body)
        assert r.status_code == 404, (user, action, m.state, r.json())
        assert r.json()["errors"][0]["rule"] == "number.not_found"
    assert world_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize("user", ["gen_b", "dispatcher_x", "receiver_x_cert", "officer_b", "regulator"])
def test_nobody_drafts_on_gen_as_permit(aw, user):
    w = aw
    body = {"permit_number": w.permit.number, "permit_line": 1, "vehicle_id": w.vehicle.id, "declared_quantity": "1",
            "unit": "t", "container_type": "drum", "container_count": 2, "physical_form": "solid",
            "planned_pickup_at": (timezone.now() + timedelta(hours=1)).isoformat(),
            "expected_arrival_at": (timezone.now() + timedelta(hours=3)).isoformat()}  # fmt: skip
    before = world_state()
    r = post(w.client(user), "/api/v1/manifests", body)
    # another generator is told there is no such line on its permits; everyone else may not draft at all
    assert (r.status_code, r.json()["errors"][0]["rule"]) in {
        (400, "permit_line.unknown"),
        (403, "access.denied"),
    }
    assert (r.status_code == 400) == (user == "gen_b")
    assert world_state() == before


# --- the parties and the officers -----------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("user", ["gen_a", "gen_a_cert", "driver", "dispatcher", "receiver", "receiver_cert",
                                  "officer_a", "hq", "regulator", "admin"])  # fmt: skip
def test_the_parties_and_the_officers_read_every_manifest(aw, user):
    w = aw
    c = w.client(user)
    all_numbers = {m.number for m in w.ms.values()}
    assert numbers(c.get("/api/v1/manifests")) == all_numbers
    assert numbers(c.get("/api/v1/manifests", {"discrepancy": "true"})) == {w.ms["received"].number,
                                                                          w.ms["rejected"].number}  # fmt: skip
    assert numbers(c.get("/api/v1/manifests/overdue")) == {w.ms["delivered"].number}
    for m in w.ms.values():
        for suffix in READS:
            r = c.get(f"/api/v1/manifests/{m.number}{suffix}")
            assert r.status_code == 200, (user, m.state, suffix)
        assert c.get(f"/api/v1/manifests/{m.number}/document").json()["sha256"] == current_hash(m)


OFFICER_MAY = {"officer_a": {"discrepancy/review", "correct"}, "hq": {"discrepancy/review", "correct"},
               "regulator": set()}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("user", list(OFFICER_MAY))
def test_officers_only_review_and_correct_and_the_regulator_only_reads(aw, user):
    w = aw
    c = w.client(user)
    for action, m, body in writes(w):
        if action in OFFICER_MAY[user]:
            continue
        before = world_state()
        r = post(c, f"/api/v1/manifests/{m.number}/{action}", body)
        assert r.status_code == 403, (user, action, r.json())
        assert world_state() == before, (user, action)
    for action in OFFICER_MAY[user]:
        m = w.ms["received"]
        body = (
            {"reason": "checked"}
            if action == "discrepancy/review"
            else {"reason": "recount", "container_count": 3}
        )
        assert post(c, f"/api/v1/manifests/{m.number}/{action}", body).status_code == 200, (user, action)


@pytest.mark.django_db
def test_the_carrier_and_the_receiver_act_only_on_their_own_steps(aw):
    w = aw
    forbidden = {
        "driver": {
            "schedule",
            "receive",
            "complete",
            "cancel",
            "discrepancy/explain",
            "discrepancy/review",
            "reroute",
        },
        "receiver": {"schedule", "pickup", "receive", "cancel", "discrepancy/review", "correct", "reroute"},
        "receiver_cert": {"schedule", "pickup", "cancel", "discrepancy/review", "correct", "reroute"},
        "gen_a": {"pickup", "deliver", "receive", "complete", "discrepancy/explain", "discrepancy/review"},
    }
    for user, refused in forbidden.items():
        c = w.client(user)
        for action, m, body in writes(w):
            if action not in refused:
                continue
            before = world_state()
            r = post(c, f"/api/v1/manifests/{m.number}/{action}", body)
            assert r.status_code == 403, (user, action, r.json())
            assert world_state() == before, (user, action)


@pytest.mark.django_db
def test_signing_in_is_required_everywhere(aw):
    w = aw
    anon = Client()
    m = w.ms["draft"]
    today = str(timezone.localdate())
    gets = [
        "/api/v1/manifests",
        "/api/v1/manifests/overdue",
        f"/api/v1/mass-balance?date_from={today}&date_to={today}",
    ]
    gets += [f"/api/v1/manifests/{m.number}{s}" for s in READS]
    for url in gets:
        assert anon.get(url).status_code == 401, url
    before = world_state()
    for action, target, body in writes(w):
        assert post(anon, f"/api/v1/manifests/{target.number}/{action}", body).status_code == 401, action
    assert post(anon, "/api/v1/manifests", {}).status_code == 401
    assert anon.post("/api/v1/manifests/bulk", {"file": SimpleUploadedFile("m.csv", b"x")}).status_code == 401
    assert world_state() == before


@pytest.mark.django_db
def test_a_read_only_token_cannot_sign(aw):
    w = aw
    c = w.token_client("gen_a_cert", scopes=("read",))
    m = w.ms["draft"]
    assert c.get(f"/api/v1/manifests/{m.number}").status_code == 200
    before = world_state()
    r = post(c, f"/api/v1/manifests/{m.number}/schedule", {"document_sha256": current_hash(m)})
    assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "token.scope"
    assert world_state() == before


# --- bulk CSV -------------------------------------------------------------------------------------------------
HEADER = ("permit_number,permit_line,plate,declared_quantity,unit,container_type,container_count,physical_form,"
          "planned_pickup_at,expected_arrival_at")  # fmt: skip


def csv_row(w, plate="70-1234", quantity="2", pickup="2030-01-01T08:00:00+07:00", arrival="2030-01-01T12:00:00+07:00",
            line="1", container="drum"):  # fmt: skip
    return f"{w.permit.number},{line},{plate},{quantity},t,{container},8,solid,{pickup},{arrival}"


def upload(client, content: bytes, name="manifests.csv"):
    return client.post(
        "/api/v1/manifests/bulk", {"file": SimpleUploadedFile(name, content, content_type="text/csv")}
    )


@pytest.mark.django_db
def test_bulk_drafts_the_good_rows_and_reports_each_bad_one_by_line(manifest_world):
    w = manifest_world
    rows = [
        csv_row(w),  # line 2: good
        csv_row(w, plate="99-9999"),  # line 3: no such vehicle
        csv_row(w, quantity="40"),  # line 4: more than the truck carries
        csv_row(w, pickup="2030-01-01T08:00:00"),  # line 5: no time zone
        csv_row(w, line="7"),  # line 6: no such permit line
        csv_row(w, container="barrel"),  # line 7: unknown container
        csv_row(w, quantity="3"),  # line 8: good
    ]
    content = ("\ufeff" + HEADER + "\r\n" + "\r\n".join(rows) + "\r\n").encode()
    before = Manifest.objects.count()
    r = upload(w.client("gen_a"), content)
    assert r.status_code == 200, r.content
    out = r.json()
    assert out["created"] == 2 and out["rejected"] == 5
    assert [(row["line"], row["ok"]) for row in out["rows"]] == [
        (2, True),
        (3, False),
        (4, False),
        (5, False),
        (6, False),
        (7, False),
        (8, True),
    ]
    errors = {row["line"]: " ".join(row["errors"]) for row in out["rows"] if not row["ok"]}
    assert errors[3].startswith("plate:")
    assert errors[4].startswith("declared_quantity:")
    assert errors[5].startswith("planned_pickup_at:")
    assert errors[6].startswith("permit_line:")
    assert errors[7].startswith("container_type:")
    made = Manifest.objects.filter(number__in=[row["number"] for row in out["rows"] if row["ok"]])
    assert Manifest.objects.count() == before + 2
    assert sorted(made.values_list("declared_quantity", flat=True)) == [Decimal("2"), Decimal("3")]
    assert set(made.values_list("state", flat=True)) == {"DRAFT"}
    assert AuditRecord.objects.filter(action="manifest.create").count() == 2


@pytest.mark.django_db
def test_bulk_line_numbers_count_blank_lines_and_quoted_newlines(manifest_world):
    w = manifest_world
    # a quoted permit number with a line break inside: the row spans lines 5 and 6
    quoted = csv_row(w).replace(f"{w.permit.number},", f'"{w.permit.number}\n",', 1)
    content = "\n".join(
        [HEADER, csv_row(w), "", csv_row(w, plate="99-9999"), quoted, csv_row(w, plate="99-9999")]
    )
    out = upload(w.client("gen_a"), content.encode()).json()
    assert [(row["line"], row["ok"]) for row in out["rows"]] == [(2, True), (4, False), (5, True), (7, False)]


@pytest.mark.django_db
def test_bulk_refuses_a_file_that_is_not_utf8(manifest_world):
    w = manifest_world
    content = (HEADER + "\n" + csv_row(w) + ",กากของเสีย\n").encode(
        "cp874"
    )  # Thai in TIS-620, as old Excel saves it
    before = world_state()
    r = upload(w.client("gen_a"), content)
    assert r.status_code == 400
    assert [(e["rule"], e["field"]) for e in r.json()["errors"]] == [("bulk.encoding", "file")]
    assert world_state() == before


@pytest.mark.django_db
def test_bulk_refuses_missing_columns_naming_them(manifest_world):
    w = manifest_world
    header = HEADER.replace(",plate", "").replace(",physical_form", "")
    before = world_state()
    r = upload(w.client("gen_a"), (header + "\n" + csv_row(w) + "\n").encode())
    assert r.status_code == 400
    err = r.json()["errors"][0]
    assert (err["rule"], err["field"]) == ("bulk.columns", "file")
    assert "plate" in err["message_en"] and "physical_form" in err["message_en"]
    assert upload(w.client("gen_a"), b"").status_code == 400
    assert world_state() == before


@pytest.mark.django_db
def test_bulk_refuses_a_file_the_csv_reader_cannot_read(manifest_world):
    w = manifest_world
    huge = csv_row(w).replace("solid", "solid" + "x" * 200_000)  # one field beyond the CSV reader's limit
    before = world_state()
    r = upload(w.client("gen_a"), (HEADER + "\n" + csv_row(w) + "\n" + huge + "\n").encode())
    assert r.status_code == 400, r.content[:300]
    err = r.json()["errors"][0]
    assert (err["rule"], err["field"]) == ("bulk.csv", "file") and "line 3" in err["message_en"]
    assert world_state() == before  # the good row before it is not drafted either: the file is refused whole


@pytest.mark.django_db
def test_bulk_without_a_file_is_refused(manifest_world):
    w = manifest_world
    r = w.client("gen_a").post("/api/v1/manifests/bulk", {})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"


@pytest.mark.django_db
@pytest.mark.parametrize("user", ["driver", "receiver", "officer_a", "regulator"])
def test_only_a_generator_uploads_manifests(manifest_world, user):
    w = manifest_world
    before = world_state()
    r = upload(w.client(user), (HEADER + "\n" + csv_row(w) + "\n").encode())
    assert r.status_code == 403 and r.json()["errors"][0]["rule"] == "access.denied"
    assert world_state() == before


@pytest.mark.django_db
def test_another_generator_cannot_bulk_draft_on_gen_as_permit(manifest_world):
    w = manifest_world
    before = world_state()
    r = upload(w.client("gen_b"), (HEADER + "\n" + csv_row(w) + "\n" + csv_row(w) + "\n").encode())
    assert r.status_code == 200
    assert r.json()["created"] == 0
    assert all(row["errors"][0].startswith("permit_line:") for row in r.json()["rows"])
    assert world_state() == before


# --- services agree with the API ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_open_discrepancies_and_overdue_follow_the_same_boundary(aw):
    w = aw
    assert {m.number for m in oversight.open_discrepancies(actor=w.users["officer_a"])} == {
        w.ms["received"].number,
        w.ms["rejected"].number,
    }
    assert list(oversight.open_discrepancies(actor=w.users["officer_b"])) == []
    assert [i.manifest.number for i in oversight.overdue_manifests(actor=w.users["officer_b"])] == []


# --- text PostgreSQL cannot hold ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_nul_characters_are_refused_not_a_server_error(manifest_world):
    """PostgreSQL cannot store or compare text with NUL (0x00): every way in answers 4xx on both databases."""
    w = manifest_world
    gen = w.client("gen_a")
    before = world_state()
    body = {"permit_number": w.permit.number + "\x00", "permit_line": 1, "vehicle_id": w.vehicle.id,
            "declared_quantity": "1", "unit": "t", "container_type": "drum", "container_count": 2,
            "physical_form": "solid", "planned_pickup_at": "2030-01-01T08:00:00+07:00",
            "expected_arrival_at": "2030-01-01T12:00:00+07:00"}  # fmt: skip
    # The platform-wide guard answers 400 (rule input.nul) before any view runs; uploaded files are checked by
    # the bulk parser itself.
    r = post(gen, "/api/v1/manifests", body)
    assert r.status_code == 400 and r.json()["errors"][0]["rule"] == "input.nul"
    body.update(permit_number=w.permit.number, route={"type": "LineString", "coordinates": [[101.1, 12.7], [101.2, 12.8]],
                                                       "name\x00": "x"})  # fmt: skip
    r = post(gen, "/api/v1/manifests", body)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "body"
    r = gen.get("/api/v1/manifests", {"plate": "70\x001234"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "plate"
    assert gen.get("/api/v1/manifests/MF-2569%00-1").status_code == 400
    r = upload(gen, (HEADER + "\n" + csv_row(w, plate="70-12\x0034") + "\n").encode())
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "file"
    assert gen.get("/manifests/", {"q": "70\x00"}).status_code == 400
    assert w.client("receiver").get("/gate/", {"q": "MF\x00"}).status_code == 400
    assert world_state() == before
