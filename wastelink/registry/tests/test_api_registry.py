"""The registry API (/api/v1): estates, establishments, vehicles, receiver licences and the reference code lists.

Every endpoint is checked for what it answers, for who may read or change what (the access boundary between
organisations, estates and roles), for the error shape of bad input, and that a refused write leaves no trace:
no row and no audit record.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from wastelink.accounts.models import ApiToken, Organisation
from wastelink.audit.models import AuditRecord
from wastelink.registry.models import (
    Establishment,
    Estate,
    FactoryType,
    ManagementMethod,
    ReceiverLicence,
    Vehicle,
    WasteCode,
)

API = "/api/v1"
PUBLIC_FIELDS = {
    "id",
    "registration_no",
    "name_th",
    "name_en",
    "estate",
    "province",
    "factory_type",
    "roles",
    "status",
}
PRIVATE_FIELDS = {"legacy_no", "diw_generator_id", "diw_transporter_id", "address", "lat", "lon"}
ALL_USERS = ["gen_a", "gen_a_cert", "gen_b", "receiver", "dispatcher", "driver", "officer_a", "officer_b", "hq",
             "regulator", "admin"]  # fmt: skip


# --- helpers --------------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The world creates eleven users; Argon2 for each would make every test take a second."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def send(client: Client, method: str, path: str, data=None, *, raw: str | None = None):
    body = raw if raw is not None else json.dumps(data)
    return getattr(client, method)(API + path, data=body, content_type="application/json")


def get(client: Client, path: str, **params):
    return client.get(API + path, params)


def fields_of(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def last_audit() -> AuditRecord | None:
    return AuditRecord.objects.order_by("-seq").first()


@contextmanager
def nothing_written(*models):
    """Assert that the block adds, removes no row of `models` and appends no audit record."""
    counts = {m: m.objects.count() for m in models}
    audit_count = AuditRecord.objects.count()
    yield
    assert {m: m.objects.count() for m in models} == counts
    assert AuditRecord.objects.count() == audit_count


def assert_audited(action: str, obj, actor: str) -> AuditRecord:
    rec = last_audit()
    assert rec is not None
    assert rec.action == action
    assert rec.object_type == obj._meta.label_lower
    assert rec.object_id == str(obj.pk)
    assert rec.actor == actor
    return rec


def establishment_payload(**over) -> dict:
    data = {"registration_no": "72000000000101", "name_th": "บริษัท ทดสอบ จำกัด", "name_en": "Test Co., Ltd.",
            "province": "Rayong", "lat": 12.68, "lon": 101.13, "estate": "map-ta-phut", "roles": ["generator"]}  # fmt: skip
    data.update(over)
    return data


def vehicle_payload(**over) -> dict:
    data = {"plate": "70-1234", "province": "Rayong", "kind": "truck_6w", "capacity_kg": 8000,
            "gps_device_id": "GPS-0001", "hazardous_approved": True}  # fmt: skip
    data.update(over)
    return data


def licence_payload(**over) -> dict:
    data = {"licence_no": "RL-2025-001", "factory_type": "101", "waste_codes": ["010101", "010304"],
            "methods": ["011", "021"], "annual_capacity_t": "1200.5", "valid_from": "2025-01-01",
            "valid_until": "2027-12-31"}  # fmt: skip
    data.update(over)
    return data


SQUARE = {"type": "Polygon", "coordinates": [[[101.12, 12.67], [101.14, 12.67], [101.14, 12.69], [101.12, 12.69],
                                              [101.12, 12.67]]]}  # fmt: skip


@pytest.fixture
def vehicle(world) -> Vehicle:
    return Vehicle.objects.create(transporter=world.transporter, plate="701111", province="Rayong", kind="truck_10w",
                                  capacity_kg=12000, gps_device_id="GPS-EXIST")  # fmt: skip


@pytest.fixture
def licence(world) -> ReceiverLicence:
    lic = ReceiverLicence.objects.create(receiver=world.receiver, licence_no="RL-EXIST", factory_type_id="101",
                                         annual_capacity_t="500", valid_from="2024-01-01", valid_until="2026-12-31")  # fmt: skip
    lic.waste_codes.set(WasteCode.objects.filter(code__in=["010101"]))
    lic.methods.set(ManagementMethod.objects.filter(code__in=["011"]))
    return lic


@pytest.fixture
def private_details(world):
    """Give every establishment private data, so a leak would show."""
    for est in (world.gen_a, world.gen_b, world.gen_outside, world.receiver, world.transporter):
        est.address = f"{est.registration_no} Secret Road"
        est.lat, est.lon = 12.7, 101.1
        est.diw_generator_id = "DIW-G-1234567"
        est.legacy_no = "3-106-1/50ชบ"
        est.save()
    world.receiver.factory_type = FactoryType.objects.get(number="101")
    world.receiver.save()
    world.transporter.diw_transporter_id = "DIW-T-7654321"
    world.transporter.save()


# --- authentication -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/estates", "/estates.geojson", "/estates/map-ta-phut", "/establishments",
                                  "/vehicles", "/reference/waste-codes", "/reference/waste-codes/010101",
                                  "/reference/methods", "/reference/factory-types"])  # fmt: skip
def test_reads_without_authentication_are_401(world, path):
    r = Client().get(API + path)
    assert r.status_code == 401
    assert r.json()["errors"][0]["field"] == "Authorization"


def test_establishment_reads_without_authentication_are_401(world):
    for path in (
        f"/establishments/{world.receiver.id}",
        f"/establishments/{world.receiver.id}/receiver-licences",
    ):
        assert Client().get(API + path).status_code == 401


def test_writes_without_authentication_are_401_and_write_nothing(world, vehicle):
    anon = Client()
    with nothing_written(Establishment, Vehicle, ReceiverLicence):
        assert send(anon, "post", "/establishments", establishment_payload()).status_code == 401
        assert send(anon, "patch", f"/establishments/{world.gen_a.id}", {"name_en": "X"}).status_code == 401
        assert (
            send(
                anon, "post", f"/establishments/{world.transporter.id}/vehicles", vehicle_payload()
            ).status_code
            == 401
        )
        assert send(anon, "patch", f"/vehicles/{vehicle.id}", {"capacity_kg": 1}).status_code == 401
        assert send(anon, "post", f"/establishments/{world.receiver.id}/receiver-licences",
                    licence_payload()).status_code == 401  # fmt: skip
        assert send(anon, "put", "/estates/map-ta-phut/boundary", SQUARE).status_code == 401
        assert send(anon, "patch", "/reference/waste-codes/010101", {"name_th": "x"}).status_code == 401
        assert send(anon, "patch", "/reference/methods/011", {"name_th": "x"}).status_code == 401
    world.gen_a.refresh_from_db()
    assert world.gen_a.name_en == "Alpha Chemical Co., Ltd."


def test_bearer_token_reads_and_writes(world):
    c = world.token_client("admin")
    assert get(c, "/estates").status_code == 200
    r = send(c, "post", "/establishments", establishment_payload())
    assert r.status_code == 201, r.content


def test_read_only_token_reads_but_may_not_write(world):
    c = world.token_client("admin", scopes=("read",))
    assert get(c, "/establishments").status_code == 200
    with nothing_written(Establishment, Vehicle):
        r = send(c, "post", "/establishments", establishment_payload())
        assert r.status_code == 403
        assert r.json()["errors"][0]["rule"] == "token.scope"
        assert (
            send(c, "post", f"/establishments/{world.transporter.id}/vehicles", vehicle_payload()).status_code
            == 403
        )
        assert send(c, "patch", f"/establishments/{world.gen_a.id}", {"name_en": "X"}).status_code == 403
        assert send(c, "put", "/estates/map-ta-phut/boundary", SQUARE).status_code == 403
        assert send(c, "patch", "/reference/waste-codes/010101", {"name_th": "x"}).status_code == 403


def test_telemetry_only_token_may_not_read_the_registry(world):
    c = world.token_client("admin", scopes=("telemetry",))
    r = get(c, "/establishments")
    assert r.status_code == 403
    assert r.json()["errors"][0]["rule"] == "token.scope"


def test_revoked_token_is_401(world):
    c = world.token_client("admin")
    assert get(c, "/estates").status_code == 200
    ApiToken.objects.update(revoked_at=timezone.now())
    assert get(c, "/estates").status_code == 401
    with nothing_written(Establishment):
        assert send(c, "post", "/establishments", establishment_payload()).status_code == 401


def test_expired_token_is_401(world):
    c = world.token_client("admin")
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert get(c, "/estates").status_code == 401


def test_token_of_deactivated_user_is_401(world):
    c = world.token_client("gen_a")
    world.users["gen_a"].is_active = False
    world.users["gen_a"].save()
    assert get(c, "/estates").status_code == 401


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer wl_abc_def", "Token wl_x_y", "Bearer "])
def test_garbage_credentials_are_401(world, header):
    assert Client(HTTP_AUTHORIZATION=header).get(API + "/estates").status_code == 401


def test_tampered_token_secret_is_401(world):
    issued = world.token_client("admin")  # a working client; now forge one with the same prefix
    token = ApiToken.objects.get()
    forged = Client(HTTP_AUTHORIZATION=f"Bearer wl_{token.prefix}_not-the-secret")
    assert forged.get(API + "/estates").status_code == 401
    assert get(issued, "/estates").status_code == 200


# --- estates --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("username", ALL_USERS)
def test_every_role_lists_all_estates(world, username):
    r = get(world.client(username), "/estates")
    assert r.status_code == 200
    data = r.json()
    assert len(data) == Estate.objects.count() == 41
    codes = [e["code"] for e in data]
    assert codes == sorted(codes)
    mtp = next(e for e in data if e["code"] == "map-ta-phut")
    assert mtp["name_en"] == "Map Ta Phut Industrial Estate"
    assert mtp["boundary_source"] == "generated"
    min_lon, min_lat, max_lon, max_lat = mtp["bbox"]
    assert min_lon < mtp["lon"] < max_lon and min_lat < mtp["lat"] < max_lat


def test_estates_geojson_is_a_feature_collection(world):
    r = get(world.client("gen_a"), "/estates.geojson")
    assert r.status_code == 200
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    assert len(fc["features"]) == Estate.objects.exclude(boundary=None).count() == 41
    feature = next(f for f in fc["features"] if f["id"] == "bangpoo")
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["properties"]["code"] == "bangpoo"
    assert feature["properties"]["name_th"] == "นิคมอุตสาหกรรมบางปู"


def test_estates_geojson_leaves_out_estates_without_boundary(world):
    Estate.objects.filter(code="bangpoo").update(boundary=None)
    fc = get(world.client("gen_a"), "/estates.geojson").json()
    ids = {f["id"] for f in fc["features"]}
    assert "bangpoo" not in ids
    assert len(ids) == 40


@pytest.mark.parametrize("username", ["gen_b", "officer_a", "regulator"])
def test_estate_detail(world, username):
    r = get(world.client(username), "/estates/bangpoo")
    assert r.status_code == 200
    data = r.json()
    assert data["code"] == "bangpoo"
    assert data["province"] == "Samut Prakan"
    assert data["operator"] == "IEAT"
    assert len(data["bbox"]) == 4


def test_unknown_estate_is_404(world):
    r = get(world.client("admin"), "/estates/no-such-estate")
    assert r.status_code == 404
    assert r.json()["errors"][0]["rule"] == "estate.not_found"


@pytest.mark.parametrize(("username", "estate", "status"), [
    ("officer_a", "map-ta-phut", 200),
    ("officer_a", "bangpoo", 403),
    ("officer_b", "bangpoo", 200),
    ("officer_b", "map-ta-phut", 403),
    ("hq", "bangpoo", 200),
    ("admin", "map-ta-phut", 200),
    ("regulator", "map-ta-phut", 403),
    ("gen_a", "map-ta-phut", 403),
    ("gen_a_cert", "map-ta-phut", 403),
    ("receiver", "map-ta-phut", 403),
    ("dispatcher", "map-ta-phut", 403),
])  # fmt: skip
def test_put_boundary_access(world, username, estate, status):
    before = Estate.objects.get(code=estate)
    audit_count = AuditRecord.objects.count()
    r = send(world.client(username), "put", f"/estates/{estate}/boundary", SQUARE)
    assert r.status_code == status, r.content
    after = Estate.objects.get(code=estate)
    if status == 200:
        data = r.json()
        assert data["boundary_source"] == "uploaded"
        assert data["bbox"] == pytest.approx([101.12, 12.67, 101.14, 12.69])
        assert after.boundary_source == "uploaded"
        assert after.boundary["type"] == "Polygon"
        assert (after.min_lon, after.min_lat, after.max_lon, after.max_lat) == pytest.approx(
            (101.12, 12.67, 101.14, 12.69)
        )
        rec = assert_audited("estate.boundary.set", after, username)
        assert rec.before["boundary_source"] == "generated"
        assert rec.after["boundary_source"] == "uploaded"
    else:
        assert r.json()["errors"][0]["rule"] == "access.denied"
        assert after.boundary == before.boundary
        assert after.boundary_source == "generated"
        assert AuditRecord.objects.count() == audit_count


def test_put_boundary_accepts_a_feature_and_shows_in_geojson(world):
    c = world.client("officer_a")
    feature = {"type": "Feature", "properties": {"name": "real"}, "geometry": SQUARE}
    r = send(c, "put", "/estates/map-ta-phut/boundary", feature)
    assert r.status_code == 200, r.content
    fc = get(c, "/estates.geojson").json()
    mtp = next(f for f in fc["features"] if f["id"] == "map-ta-phut")
    assert mtp["properties"]["boundary_source"] == "uploaded"
    assert mtp["geometry"]["coordinates"][0][0] == pytest.approx([101.12, 12.67])


def test_put_boundary_of_unknown_estate_is_404(world):
    with nothing_written(Estate):
        r = send(world.client("admin"), "put", "/estates/atlantis/boundary", SQUARE)
    assert r.status_code == 404


@pytest.mark.parametrize("geometry", [
    {"type": "Point", "coordinates": [101.13, 12.68]},
    # a bow-tie: self-intersecting
    {"type": "Polygon", "coordinates": [[[101.12, 12.67], [101.14, 12.69], [101.14, 12.67], [101.12, 12.69],
                                         [101.12, 12.67]]]},
    # latitude and longitude swapped: outside Thailand
    {"type": "Polygon", "coordinates": [[[12.67, 101.12], [12.67, 101.14], [12.69, 101.14], [12.67, 101.12]]]},
    {"type": "Polygon", "coordinates": "nonsense"},
    {"type": "FeatureCollection", "features": []},
])  # fmt: skip
def test_put_boundary_refuses_bad_geometry(world, geometry):
    before = Estate.objects.get(code="map-ta-phut").boundary
    with nothing_written(Estate):
        r = send(world.client("admin"), "put", "/estates/map-ta-phut/boundary", geometry)
    assert r.status_code == 400, r.content
    assert fields_of(r) == ["boundary"]
    assert Estate.objects.get(code="map-ta-phut").boundary == before


def test_put_boundary_refuses_a_body_that_is_not_an_object(world):
    with nothing_written(Estate):
        r = send(
            world.client("admin"), "put", "/estates/map-ta-phut/boundary", [[101.12, 12.67], [101.14, 12.69]]
        )
    assert r.status_code == 400, r.content
    assert fields_of(r) == ["boundary"]
    assert Estate.objects.get(code="map-ta-phut").boundary_source == "generated"


def test_put_boundary_malformed_json_is_400(world):
    with nothing_written(Estate):
        r = send(world.client("admin"), "put", "/estates/map-ta-phut/boundary", raw='{"type": "Polygon",')
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "body"
    assert Estate.objects.get(code="map-ta-phut").boundary_source == "generated"


# --- establishments: reading ----------------------------------------------------------------------------------
# What each user sees of each establishment: "full" record, "public" directory entry, or 404.
READ_MATRIX = {
    "gen_a": {
        "gen_a": "full",
        "gen_b": 404,
        "gen_outside": 404,
        "receiver": "public",
        "transporter": "public",
    },
    "gen_a_cert": {
        "gen_a": "full",
        "gen_b": 404,
        "gen_outside": 404,
        "receiver": "public",
        "transporter": "public",
    },
    "gen_b": {
        "gen_a": 404,
        "gen_b": "full",
        "gen_outside": 404,
        "receiver": "public",
        "transporter": "public",
    },
    "receiver": {"gen_a": 404, "gen_b": 404, "gen_outside": 404, "receiver": "full", "transporter": "public"},
    "dispatcher": {
        "gen_a": 404,
        "gen_b": 404,
        "gen_outside": 404,
        "receiver": "public",
        "transporter": "full",
    },
    "driver": {"gen_a": 404, "gen_b": 404, "gen_outside": 404, "receiver": "public", "transporter": "full"},
    "officer_a": {
        "gen_a": "full",
        "gen_b": 404,
        "gen_outside": 404,
        "receiver": "public",
        "transporter": "public",
    },
    "officer_b": {
        "gen_a": 404,
        "gen_b": "full",
        "gen_outside": 404,
        "receiver": "public",
        "transporter": "public",
    },
    "hq": {
        "gen_a": "full",
        "gen_b": "full",
        "gen_outside": 404,
        "receiver": "public",
        "transporter": "public",
    },
    "regulator": {
        "gen_a": "full",
        "gen_b": "full",
        "gen_outside": "full",
        "receiver": "full",
        "transporter": "full",
    },
    "admin": {
        "gen_a": "full",
        "gen_b": "full",
        "gen_outside": "full",
        "receiver": "full",
        "transporter": "full",
    },
}
READ_CASES = [(u, t, v) for u, row in READ_MATRIX.items() for t, v in row.items()]


@pytest.mark.parametrize(("username", "target", "expected"), READ_CASES)
def test_establishment_detail_access(world, private_details, username, target, expected):
    est = getattr(world, target)
    r = get(world.client(username), f"/establishments/{est.id}")
    if expected == 404:
        assert r.status_code == 404
        body = r.json()
        assert body["errors"][0]["rule"] == "establishment.not_found"
        assert est.name_en not in r.content.decode()
        return
    assert r.status_code == 200
    data = r.json()
    assert data["id"] == est.id
    assert data["registration_no"] == est.registration_no
    assert data["estate"] == (est.estate.code if est.estate else None)
    if expected == "full":
        assert set(data) == PUBLIC_FIELDS | PRIVATE_FIELDS
        assert data["address"] == f"{est.registration_no} Secret Road"
        assert data["lat"] == 12.7 and data["lon"] == 101.1
        assert data["diw_generator_id"] == "DIW-G-1234567"
    else:
        assert set(data) == PUBLIC_FIELDS
        assert "Secret Road" not in r.content.decode()
        assert "DIW-" not in r.content.decode()


def test_establishment_detail_names_estate_and_factory_type(world, private_details):
    """The full record and the public entry both carry the estate code and the factory type number."""
    data = get(world.client("officer_a"), f"/establishments/{world.gen_a.id}").json()
    assert data["estate"] == "map-ta-phut"
    public = get(world.client("gen_a"), f"/establishments/{world.receiver.id}").json()
    assert public["factory_type"] == "101"
    full = get(world.client("receiver"), f"/establishments/{world.receiver.id}").json()
    assert full["factory_type"] == "101"
    assert full["roles"] == ["receiver"]


def test_unknown_establishment_is_404(world):
    assert get(world.client("admin"), "/establishments/999999").status_code == 404


@pytest.mark.parametrize("username", list(READ_MATRIX))
def test_establishment_list_shows_exactly_what_the_user_may_find(world, private_details, username):
    r = get(world.client(username), "/establishments")
    assert r.status_code == 200
    data = r.json()
    expected = {getattr(world, t).id for t, v in READ_MATRIX[username].items() if v != 404}
    got = {item["id"] for item in data["items"]}
    assert got == expected
    assert data["count"] == len(expected)
    for item in data["items"]:  # the directory list never carries private fields, not even one's own
        assert set(item) == PUBLIC_FIELDS
    assert "Secret Road" not in r.content.decode()


def test_establishment_list_filters_and_pages(world):
    c = world.client("admin")
    by_role = get(c, "/establishments", role="receiver").json()
    assert [i["id"] for i in by_role["items"]] == [world.receiver.id]
    by_estate = get(c, "/establishments", estate="bangpoo").json()
    assert [i["id"] for i in by_estate["items"]] == [world.gen_b.id]
    assert by_estate["items"][0]["estate"] == "bangpoo"
    by_name = get(c, "/establishments", q="bravo").json()
    assert [i["id"] for i in by_name["items"]] == [world.gen_b.id]
    by_number = get(c, "/establishments", q="0000000003").json()
    assert [i["id"] for i in by_number["items"]] == [world.gen_outside.id]
    by_thai = get(c, "/establishments", q="บริษัท Echo").json()
    assert [i["id"] for i in by_thai["items"]] == [world.transporter.id]
    page1 = get(c, "/establishments", limit=2, offset=0).json()
    page2 = get(c, "/establishments", limit=2, offset=2).json()
    page3 = get(c, "/establishments", limit=2, offset=4).json()
    assert page1["count"] == page2["count"] == page3["count"] == 5
    ids = [i["id"] for p in (page1, page2, page3) for i in p["items"]]
    assert len(ids) == len(set(ids)) == 5


def test_establishment_list_filter_does_not_widen_access(world):
    # gen_a asking for bangpoo gets nothing: gen_b is not in its directory.
    data = get(world.client("gen_a"), "/establishments", estate="bangpoo").json()
    assert data == {"count": 0, "items": []}
    data = get(world.client("officer_a"), "/establishments", q="Bravo").json()
    assert data["count"] == 0


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"offset": -1}, "offset"), ({"role": "pirate"}, "role"),
])  # fmt: skip
def test_establishment_list_bad_query_is_422(world, params, field):
    r = get(world.client("admin"), "/establishments", **params)
    assert r.status_code == 422
    assert field in fields_of(r)


# --- establishments: creating ---------------------------------------------------------------------------------
INSIDE_A = {"registration_no": "72000000000101", "estate": "map-ta-phut"}
INSIDE_B = {"registration_no": "73000000000102", "estate": "bangpoo"}
OUTSIDE = {"registration_no": "10000000000103", "estate": None, "lat": 13.5, "lon": 100.5}
CREATE_MATRIX = {
    "gen_a": (403, 403, 403),
    "gen_a_cert": (403, 403, 403),
    "receiver": (403, 403, 403),
    "dispatcher": (403, 403, 403),
    "driver": (403, 403, 403),
    "officer_a": (201, 403, 403),
    "officer_b": (403, 201, 403),
    "hq": (201, 201, 403),
    "regulator": (403, 403, 201),
    "admin": (201, 201, 201),
}
CREATE_CASES = [(u, where, s) for u, row in CREATE_MATRIX.items()
                for where, s in zip(("inside_a", "inside_b", "outside"), row, strict=True)]  # fmt: skip


@pytest.mark.parametrize(("username", "where", "status"), CREATE_CASES)
def test_create_establishment_access(world, username, where, status):
    payload = establishment_payload(**{"inside_a": INSIDE_A, "inside_b": INSIDE_B, "outside": OUTSIDE}[where])
    n_est, n_org, n_audit = (
        Establishment.objects.count(),
        Organisation.objects.count(),
        AuditRecord.objects.count(),
    )
    r = send(world.client(username), "post", "/establishments", payload)
    assert r.status_code == status, r.content
    if status == 201:
        data = r.json()
        est = Establishment.objects.get(registration_no=payload["registration_no"])
        assert data["id"] == est.id
        assert data["estate"] == payload["estate"]
        assert data["roles"] == ["generator"]
        assert est.is_generator and not est.is_receiver
        assert Organisation.objects.get(establishment=est).kind == "establishment"
        assert Establishment.objects.count() == n_est + 1
        rec = assert_audited("establishment.create", est, username)
        assert rec.after["registration_no"] == payload["registration_no"]
    else:
        assert r.json()["errors"][0]["rule"] == "access.denied"
        assert not Establishment.objects.filter(registration_no=payload["registration_no"]).exists()
        assert (Establishment.objects.count(), Organisation.objects.count(), AuditRecord.objects.count()) == (
            n_est,
            n_org,
            n_audit,
        )


def test_create_receiver_with_factory_type(world):
    payload = establishment_payload(**OUTSIDE, roles=["receiver", "transporter", "receiver"], factory_type="106",
                                    diw_transporter_id="DIW-T-0000001")  # fmt: skip
    r = send(world.client("regulator"), "post", "/establishments", payload)
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["roles"] == ["transporter", "receiver"]
    assert data["factory_type"] == "106"
    assert data["diw_transporter_id"] == "DIW-T-0000001"


def test_create_normalises_the_registration_number(world):
    r = send(world.client("admin"), "post", "/establishments",
             establishment_payload(registration_no="7-20-00000-0000-99"))  # fmt: skip
    assert r.status_code == 201, r.content
    assert r.json()["registration_no"] == "72000000000099"


@pytest.mark.parametrize(("over", "field", "message"), [
    ({"registration_no": "7200000000010"}, "registration_no", "must be 14 digits"),
    ({"registration_no": "72000000000ABC"}, "registration_no", "must be 14 digits"),
    ({"registration_no": "92000000000101"}, "registration_no", "issuing agency"),
    ({"registration_no": "75000000000101"}, "registration_no", "second digit"),
    ({"lat": 45.0}, "lat", ""),
    ({"lat": 4.9}, "lat", ""),
    ({"lon": 120.0}, "lon", ""),
    ({"lat": "north"}, "lat", ""),
    ({"name_th": ""}, "name_th", ""),
    ({"name_th": "x" * 256}, "name_th", ""),
    ({"roles": []}, "roles", ""),
    ({"roles": ["smuggler"]}, "roles.0", ""),
    ({"diw_generator_id": "G-1"}, "diw_generator_id", "DIW-G-1234567"),
    ({"diw_transporter_id": "DIW-G-1234567"}, "diw_transporter_id", "DIW-T-1234567"),
    ({"colour": "red"}, "colour", ""),
])  # fmt: skip
def test_create_establishment_invalid_fields_are_422(world, over, field, message):
    with nothing_written(Establishment, Organisation):
        r = send(world.client("admin"), "post", "/establishments", establishment_payload(**over))
    assert r.status_code == 422, r.content
    errors = r.json()["errors"]
    assert errors[0]["field"] == field
    assert message in errors[0]["message_en"]
    assert errors[0]["message_th"]


def test_create_establishment_missing_required_fields_are_422(world):
    with nothing_written(Establishment):
        r = send(world.client("admin"), "post", "/establishments", {"name_en": "No number"})
    assert r.status_code == 422
    assert {"registration_no", "name_th", "roles"} <= set(fields_of(r))


@pytest.mark.parametrize(("over", "field", "rule"), [
    ({"registration_no": "10000000000101", "estate": "map-ta-phut"}, "estate", "registration.outside_estate"),
    ({"registration_no": "72000000000101", "estate": None}, "estate", "registration.inside_estate"),
    ({"estate": "atlantis"}, "estate", "estate.unknown"),
    ({"factory_type": "999"}, "factory_type", "factory_type.unknown"),
    ({"roles": ["receiver"]}, "factory_type", "receiver.factory_type"),
    ({"lat": 12.7, "lon": None}, "lon", "location.pair"),
    ({"lat": None, "lon": 101.1}, "lat", "location.pair"),
])  # fmt: skip
def test_create_establishment_inconsistent_input_is_400(world, over, field, rule):
    with nothing_written(Establishment, Organisation):
        r = send(world.client("admin"), "post", "/establishments", establishment_payload(**over))
    assert r.status_code == 400, r.content
    assert r.json()["errors"][0]["field"] == field
    assert r.json()["errors"][0]["rule"] == rule


def test_create_establishment_malformed_json_is_400(world):
    with nothing_written(Establishment, Organisation):
        r = send(world.client("admin"), "post", "/establishments", raw='{"registration_no": "7200')
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "body"


def test_create_establishment_with_an_existing_number_is_409_and_changes_nothing(world):
    payload = establishment_payload(registration_no=world.gen_a.registration_no, name_th="ชื่อใหม่",
                                    name_en="Hijacked Co., Ltd.")  # fmt: skip
    with nothing_written(Establishment, Organisation):
        r = send(world.client("officer_a"), "post", "/establishments", payload)
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "registration_no"
    world.gen_a.refresh_from_db()
    assert world.gen_a.name_en == "Alpha Chemical Co., Ltd."
    assert world.gen_a.lat is None


def test_create_with_an_existing_number_by_someone_who_may_not_create_there_is_403(world):
    payload = establishment_payload(
        registration_no=world.gen_b.registration_no, estate="bangpoo", name_en="X"
    )
    with nothing_written(Establishment, Organisation):
        r = send(world.client("officer_a"), "post", "/establishments", payload)
    assert (
        r.status_code == 403
    )  # not 409: whether the number exists is not told to someone who may not act on it
    world.gen_b.refresh_from_db()
    assert world.gen_b.name_en == "Bravo Steel Co., Ltd."


# --- establishments: changing ---------------------------------------------------------------------------------
PATCH_MATRIX = {
    "gen_a": {"gen_a": 403, "gen_b": 404, "gen_outside": 404, "receiver": 404},
    "gen_a_cert": {"gen_a": 403, "gen_b": 404, "gen_outside": 404, "receiver": 404},
    "gen_b": {"gen_a": 404, "gen_b": 403, "gen_outside": 404, "receiver": 404},
    "receiver": {"gen_a": 404, "gen_b": 404, "gen_outside": 404, "receiver": 403},
    "dispatcher": {"gen_a": 404, "gen_b": 404, "gen_outside": 404, "transporter": 403, "receiver": 404},
    "officer_a": {"gen_a": 200, "gen_b": 404, "gen_outside": 404, "receiver": 404},
    "officer_b": {"gen_a": 404, "gen_b": 200, "gen_outside": 404, "receiver": 404},
    "hq": {"gen_a": 200, "gen_b": 200, "gen_outside": 404, "receiver": 404},
    "regulator": {"gen_a": 403, "gen_b": 403, "gen_outside": 200, "receiver": 200},
    "admin": {"gen_a": 200, "gen_b": 200, "gen_outside": 200, "receiver": 200, "transporter": 200},
}
PATCH_CASES = [(u, t, s) for u, row in PATCH_MATRIX.items() for t, s in row.items()]


@pytest.mark.parametrize(("username", "target", "status"), PATCH_CASES)
def test_patch_establishment_access(world, username, target, status):
    est = getattr(world, target)
    audit_count = AuditRecord.objects.count()
    r = send(world.client(username), "patch", f"/establishments/{est.id}",
             {"name_en": "Renamed Co., Ltd.", "address": "1 New Road"})  # fmt: skip
    assert r.status_code == status, r.content
    old_name = est.name_en
    est.refresh_from_db()
    if status == 200:
        assert r.json()["name_en"] == "Renamed Co., Ltd."
        assert r.json()["address"] == "1 New Road"
        assert est.name_en == "Renamed Co., Ltd."
        rec = assert_audited("establishment.update", est, username)
        assert rec.before["name_en"] == old_name
        assert rec.after["name_en"] == "Renamed Co., Ltd."
    else:
        assert est.name_en == old_name
        assert est.address == ""
        assert AuditRecord.objects.count() == audit_count
        rule = r.json()["errors"][0]["rule"]
        assert rule == ("access.denied" if status == 403 else "establishment.not_found")


def test_patch_status_alone_is_audited_as_status(world):
    r = send(world.client("officer_a"), "patch", f"/establishments/{world.gen_a.id}", {"status": "suspended"})
    assert r.status_code == 200
    assert r.json()["status"] == "suspended"
    assert_audited("establishment.status", world.gen_a, "officer_a")


def test_patch_location(world):
    r = send(world.client("hq"), "patch", f"/establishments/{world.gen_b.id}", {"lat": 13.55, "lon": 100.67})
    assert r.status_code == 200
    world.gen_b.refresh_from_db()
    assert (world.gen_b.lat, world.gen_b.lon) == (13.55, 100.67)


@pytest.mark.parametrize(("payload", "status", "field"), [
    ({"lat": 99.0, "lon": 101.0}, 422, "lat"),
    ({"lat": 12.0, "lon": 10.0}, 422, "lon"),
    ({"lat": 12.7}, 400, "lat"),
    ({"name_th": None}, 400, "name_th"),
    ({"name_th": ""}, 422, "name_th"),
    ({"status": None}, 400, "status"),
    ({"status": "bankrupt"}, 422, "status"),
    ({"registration_no": "72000000000555"}, 422, "registration_no"),
    ({"estate": "bangpoo"}, 422, "estate"),
    ({"legacy_no": "x" * 61}, 422, "legacy_no"),
])  # fmt: skip
def test_patch_establishment_bad_input(world, payload, status, field):
    with nothing_written(Establishment):
        r = send(world.client("admin"), "patch", f"/establishments/{world.gen_a.id}", payload)
    assert r.status_code == status, r.content
    assert r.json()["errors"][0]["field"] == field
    fresh = Establishment.objects.get(id=world.gen_a.id)
    assert (fresh.name_th, fresh.status, fresh.lat, fresh.estate_id) == (
        world.gen_a.name_th,
        "active",
        None,
        world.estate_a.id,
    )


def test_patch_establishment_malformed_json_is_400(world):
    with nothing_written(Establishment):
        r = send(world.client("admin"), "patch", f"/establishments/{world.gen_a.id}", raw="{name_en: 1}")
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "body"


def test_patch_unknown_establishment_is_404(world):
    with nothing_written(Establishment):
        r = send(world.client("admin"), "patch", "/establishments/999999", {"name_en": "x"})
    assert r.status_code == 404


# --- vehicles -------------------------------------------------------------------------------------------------
@pytest.fixture
def transporter_a(world) -> Establishment:
    """A transporter inside estate A, so estate officers have a fleet they manage."""
    est = Establishment.objects.create(registration_no="72000000000006", name_th="บริษัท Foxtrot จำกัด",
                                       name_en="Foxtrot Haulage", estate=world.estate_a, is_transporter=True)  # fmt: skip
    Organisation.objects.create(
        kind="establishment", name_th=est.name_th, name_en=est.name_en, establishment=est
    )
    return est


VEHICLE_LIST_MATRIX = {
    "gen_a": False, "gen_a_cert": False, "gen_b": False, "receiver": False, "dispatcher": True, "driver": True,
    "officer_a": False, "officer_b": False, "hq": False, "regulator": True, "admin": True,
}  # fmt: skip


@pytest.mark.parametrize(("username", "sees"), VEHICLE_LIST_MATRIX.items())
def test_vehicle_list_access(world, vehicle, transporter_a, username, sees):
    other = Vehicle.objects.create(transporter=transporter_a, plate="2กข1234", province="Rayong", kind="tanker",
                                   capacity_kg=20000)  # fmt: skip
    r = get(world.client(username), "/vehicles")
    assert r.status_code == 200
    ids = {v["id"] for v in r.json()}
    assert (vehicle.id in ids) is sees
    # the estate-A fleet: estate A's officer, hq, the regulator and admin see it; the outside transporter does not.
    assert (other.id in ids) is (username in {"officer_a", "hq", "regulator", "admin"})


def test_vehicle_list_fields_and_filter(world, vehicle, transporter_a):
    Vehicle.objects.create(transporter=transporter_a, plate="2กข1234", province="Rayong", kind="tanker",
                           capacity_kg=20000)  # fmt: skip
    c = world.client("admin")
    data = get(c, "/vehicles", transporter_id=world.transporter.id).json()
    assert data == [{"id": vehicle.id, "transporter_id": world.transporter.id, "plate": "701111", "province": "Rayong",
                     "kind": "truck_10w", "capacity_kg": 12000, "gps_device_id": "GPS-EXIST",
                     "hazardous_approved": False, "active": True}]  # fmt: skip
    assert len(get(c, "/vehicles").json()) == 2
    assert len(get(c, "/vehicles", limit=1).json()) == 1
    assert get(c, "/vehicles", limit=0).status_code == 422


VEHICLE_CREATE_MATRIX = {
    "dispatcher": 201, "driver": 403, "gen_a": 404, "gen_b": 404, "receiver": 404, "officer_a": 404,
    "officer_b": 404, "hq": 404, "regulator": 201, "admin": 201,
}  # fmt: skip


@pytest.mark.parametrize(("username", "status"), VEHICLE_CREATE_MATRIX.items())
def test_register_vehicle_access(world, username, status):
    audit_count = AuditRecord.objects.count()
    r = send(
        world.client(username), "post", f"/establishments/{world.transporter.id}/vehicles", vehicle_payload()
    )
    assert r.status_code == status, r.content
    if status == 201:
        data = r.json()
        v = Vehicle.objects.get()
        assert data["id"] == v.id
        assert data["plate"] == v.plate == "701234"
        assert data["transporter_id"] == world.transporter.id
        assert v.hazardous_approved is True
        assert_audited("vehicle.register", v, username)
    else:
        assert not Vehicle.objects.exists()
        assert AuditRecord.objects.count() == audit_count


@pytest.mark.parametrize(("username", "status"), [("officer_a", 201), ("hq", 201), ("officer_b", 404),
                                                  ("regulator", 403), ("dispatcher", 404)])  # fmt: skip
def test_register_vehicle_of_an_estate_transporter(world, transporter_a, username, status):
    with_audit = AuditRecord.objects.count()
    r = send(
        world.client(username), "post", f"/establishments/{transporter_a.id}/vehicles", vehicle_payload()
    )
    assert r.status_code == status, r.content
    assert Vehicle.objects.filter(transporter=transporter_a).count() == (1 if status == 201 else 0)
    assert AuditRecord.objects.count() == with_audit + (1 if status == 201 else 0)


@pytest.mark.parametrize(("over", "field"), [
    ({"plate": "ABC-123"}, "plate"),
    ({"plate": ""}, "plate"),
    ({"plate": "70-12345"}, "plate"),
    ({"capacity_kg": 0}, "capacity_kg"),
    ({"capacity_kg": -5}, "capacity_kg"),
    ({"capacity_kg": 60_001}, "capacity_kg"),
    ({"kind": "spaceship"}, "kind"),
    ({"province": "R"}, "province"),
    ({"gps_device_id": "no spaces!"}, "gps_device_id"),
    ({"wheels": 6}, "wheels"),
])  # fmt: skip
def test_register_vehicle_invalid_fields_are_422(world, over, field):
    with nothing_written(Vehicle):
        r = send(world.client("dispatcher"), "post", f"/establishments/{world.transporter.id}/vehicles",
                 vehicle_payload(**over))  # fmt: skip
    assert r.status_code == 422, r.content
    assert r.json()["errors"][0]["field"] == field


def test_register_vehicle_plate_error_explains_thai_plates(world):
    r = send(world.client("dispatcher"), "post", f"/establishments/{world.transporter.id}/vehicles",
             vehicle_payload(plate="ABC-123"))  # fmt: skip
    assert "Thai registration plate" in r.json()["errors"][0]["message_en"]


def test_register_vehicle_malformed_json_is_400(world):
    with nothing_written(Vehicle):
        r = send(
            world.client("dispatcher"),
            "post",
            f"/establishments/{world.transporter.id}/vehicles",
            raw="plate=1",
        )
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "body"


def test_register_duplicate_plate_is_409(world, vehicle):
    with nothing_written(Vehicle):
        r = send(world.client("dispatcher"), "post", f"/establishments/{world.transporter.id}/vehicles",
                 vehicle_payload(plate="70 1111", gps_device_id="GPS-NEW"))  # fmt: skip
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "plate"


def test_register_duplicate_gps_device_is_409(world, vehicle):
    with nothing_written(Vehicle):
        r = send(world.client("dispatcher"), "post", f"/establishments/{world.transporter.id}/vehicles",
                 vehicle_payload(gps_device_id="GPS-EXIST"))  # fmt: skip
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "gps_device_id"


def test_same_plate_in_another_province_is_a_different_vehicle(world, vehicle):
    r = send(world.client("dispatcher"), "post", f"/establishments/{world.transporter.id}/vehicles",
             vehicle_payload(plate="70-1111", province="Chonburi", gps_device_id=None))  # fmt: skip
    assert r.status_code == 201, r.content


def test_register_vehicle_for_a_non_transporter_is_400(world):
    with nothing_written(Vehicle):
        r = send(
            world.client("admin"), "post", f"/establishments/{world.receiver.id}/vehicles", vehicle_payload()
        )
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "establishment_id"


VEHICLE_PATCH_MATRIX = {
    "dispatcher": 200, "driver": 403, "gen_a": 404, "receiver": 404, "officer_a": 404, "hq": 404,
    "regulator": 200, "admin": 200,
}  # fmt: skip


@pytest.mark.parametrize(("username", "status"), VEHICLE_PATCH_MATRIX.items())
def test_patch_vehicle_access(world, vehicle, username, status):
    audit_count = AuditRecord.objects.count()
    r = send(
        world.client(username), "patch", f"/vehicles/{vehicle.id}", {"capacity_kg": 9000, "active": False}
    )
    assert r.status_code == status, r.content
    vehicle.refresh_from_db()
    if status == 200:
        assert r.json()["capacity_kg"] == 9000
        assert (vehicle.capacity_kg, vehicle.active) == (9000, False)
        rec = assert_audited("vehicle.update", vehicle, username)
        assert rec.before["capacity_kg"] == 12000
    else:
        assert (vehicle.capacity_kg, vehicle.active) == (12000, True)
        assert AuditRecord.objects.count() == audit_count


@pytest.mark.parametrize(("payload", "status", "field"), [
    ({"capacity_kg": 0}, 422, "capacity_kg"),
    ({"kind": "bicycle"}, 422, "kind"),
    ({"kind": None}, 400, "kind"),
    ({"active": None}, 400, "active"),
    ({"plate": "70-9999"}, 422, "plate"),
    ({"gps_device_id": "x"}, 422, "gps_device_id"),
])  # fmt: skip
def test_patch_vehicle_bad_input(world, vehicle, payload, status, field):
    with nothing_written(Vehicle):
        r = send(world.client("dispatcher"), "patch", f"/vehicles/{vehicle.id}", payload)
    assert r.status_code == status, r.content
    assert r.json()["errors"][0]["field"] == field
    vehicle.refresh_from_db()
    assert (vehicle.kind, vehicle.capacity_kg, vehicle.active, vehicle.plate) == (
        "truck_10w",
        12000,
        True,
        "701111",
    )


def test_patch_vehicle_duplicate_gps_is_409(world, vehicle):
    other = Vehicle.objects.create(transporter=world.transporter, plate="702222", province="Rayong", kind="pickup",
                                   capacity_kg=1000, gps_device_id="GPS-OTHER")  # fmt: skip
    with nothing_written(Vehicle):
        r = send(world.client("dispatcher"), "patch", f"/vehicles/{other.id}", {"gps_device_id": "GPS-EXIST"})
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "gps_device_id"
    other.refresh_from_db()
    assert other.gps_device_id == "GPS-OTHER"


def test_patch_vehicle_can_clear_gps_device(world, vehicle):
    r = send(world.client("dispatcher"), "patch", f"/vehicles/{vehicle.id}", {"gps_device_id": None})
    assert r.status_code == 200
    vehicle.refresh_from_db()
    assert vehicle.gps_device_id is None


def test_patch_vehicle_malformed_json_is_400(world, vehicle):
    with nothing_written(Vehicle):
        r = send(world.client("dispatcher"), "patch", f"/vehicles/{vehicle.id}", raw="{")
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "body"


def test_patch_unknown_vehicle_is_404(world):
    assert send(world.client("admin"), "patch", "/vehicles/424242", {"active": False}).status_code == 404


# --- receiver licences ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("username", ALL_USERS)
def test_receiver_licences_are_public(world, licence, username):
    r = get(world.client(username), f"/establishments/{world.receiver.id}/receiver-licences")
    assert r.status_code == 200
    assert r.json() == [{"id": licence.id, "receiver_id": world.receiver.id, "licence_no": "RL-EXIST",
                         "factory_type": "101", "waste_codes": ["010101"], "methods": ["011"],
                         "annual_capacity_t": "500.000", "valid_from": "2024-01-01", "valid_until": "2026-12-31",
                         "suspended": False}]  # fmt: skip


@pytest.mark.parametrize(("username", "target", "status"), [
    ("gen_a", "gen_b", 404), ("gen_a", "gen_outside", 404), ("gen_b", "gen_a", 404), ("officer_a", "gen_b", 404),
    ("hq", "gen_outside", 404), ("receiver", "gen_a", 404), ("gen_a", "gen_a", 200), ("officer_b", "gen_b", 200),
    ("regulator", "gen_outside", 200),
])  # fmt: skip
def test_receiver_licences_of_a_generator_follow_its_visibility(world, username, target, status):
    r = get(world.client(username), f"/establishments/{getattr(world, target).id}/receiver-licences")
    assert r.status_code == status
    if status == 200:
        assert r.json() == []


LICENCE_CREATE_MATRIX = {
    "regulator": 201, "admin": 201, "receiver": 403, "gen_a": 404, "dispatcher": 404, "officer_a": 404, "hq": 404,
}  # fmt: skip


@pytest.mark.parametrize(("username", "status"), LICENCE_CREATE_MATRIX.items())
def test_grant_receiver_licence_access(world, username, status):
    audit_count = AuditRecord.objects.count()
    r = send(
        world.client(username),
        "post",
        f"/establishments/{world.receiver.id}/receiver-licences",
        licence_payload(),
    )
    assert r.status_code == status, r.content
    if status == 201:
        data = r.json()
        lic = ReceiverLicence.objects.get()
        assert data["id"] == lic.id
        assert data["waste_codes"] == ["010101", "010304"]
        assert data["methods"] == ["011", "021"]
        assert Decimal(data["annual_capacity_t"]) == Decimal("1200.5")
        assert lic.receiver_id == world.receiver.id
        rec = assert_audited("receiver_licence.grant", lic, username)
        assert rec.after["waste_codes"] == ["010101", "010304"]
    else:
        assert not ReceiverLicence.objects.exists()
        assert AuditRecord.objects.count() == audit_count


def test_grant_licence_to_an_estate_receiver(world):
    recv = Establishment.objects.create(registration_no="72000000000007", name_th="บริษัท กอล์ฟ จำกัด",
                                        name_en="Golf Waste", estate=world.estate_a, is_receiver=True)  # fmt: skip
    url = f"/establishments/{recv.id}/receiver-licences"
    assert send(world.client("officer_b"), "post", url, licence_payload()).status_code == 404
    assert send(world.client("regulator"), "post", url, licence_payload()).status_code == 403
    assert not ReceiverLicence.objects.exists()
    assert send(world.client("officer_a"), "post", url, licence_payload()).status_code == 201


@pytest.mark.parametrize(("over", "status", "field"), [
    ({"waste_codes": ["999999"]}, 400, "waste_codes"),
    ({"waste_codes": ["0101"]}, 400, "waste_codes"),  # a sub-chapter, not an entry
    ({"waste_codes": []}, 422, "waste_codes"),
    ({"methods": ["999"]}, 400, "methods"),
    ({"methods": []}, 422, "methods"),
    ({"valid_from": "2026-01-01", "valid_until": "2025-12-31"}, 400, "valid_until"),
    ({"valid_until": "31/12/2027"}, 422, "valid_until"),
    ({"factory_type": "102"}, 422, "factory_type"),
    ({"annual_capacity_t": 0}, 422, "annual_capacity_t"),
    ({"annual_capacity_t": "1.2345"}, 422, "annual_capacity_t"),
    ({"licence_no": "ab"}, 422, "licence_no"),
])  # fmt: skip
def test_grant_licence_bad_input(world, over, status, field):
    with nothing_written(ReceiverLicence):
        r = send(world.client("regulator"), "post", f"/establishments/{world.receiver.id}/receiver-licences",
                 licence_payload(**over))  # fmt: skip
    assert r.status_code == status, r.content
    assert r.json()["errors"][0]["field"] == field


def test_grant_licence_malformed_json_is_400(world):
    with nothing_written(ReceiverLicence):
        r = send(world.client("regulator"), "post", f"/establishments/{world.receiver.id}/receiver-licences",
                 raw='{"licence_no": }')  # fmt: skip
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "body"


def test_grant_duplicate_licence_number_is_409(world, licence):
    with nothing_written(ReceiverLicence):
        r = send(world.client("regulator"), "post", f"/establishments/{world.receiver.id}/receiver-licences",
                 licence_payload(licence_no="RL-EXIST"))  # fmt: skip
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "licence_no"
    licence.refresh_from_db()
    assert sorted(licence.waste_codes.values_list("code", flat=True)) == ["010101"]


def test_grant_licence_to_a_non_receiver_is_400(world):
    with nothing_written(ReceiverLicence):
        r = send(world.client("regulator"), "post", f"/establishments/{world.gen_outside.id}/receiver-licences",
                 licence_payload())  # fmt: skip
    assert r.status_code == 400
    assert r.json()["errors"][0]["rule"] == "licence.not_receiver"


# --- reference data -------------------------------------------------------------------------------------------
def test_waste_code_list_and_filters(world):
    c = world.client("gen_a")
    everything = get(c, "/reference/waste-codes").json()
    assert len(everything) == WasteCode.objects.count() > 900
    entries = get(c, "/reference/waste-codes", level="entry").json()
    assert entries and all(e["level"] == "entry" for e in entries)
    children = get(c, "/reference/waste-codes", parent="0101").json()
    assert [e["code"] for e in children] == ["010101", "010102"]
    assert children[0]["display"] == "01 01 01"
    assert children[0]["parent"] == "0101"
    by_prefix = {e["code"] for e in get(c, "/reference/waste-codes", q="01 03").json()}
    # "01 03" is the code prefix 0103 (spaces ignored); a name that mentions "01 03" matches too.
    assert set(WasteCode.objects.filter(code__startswith="0103").values_list("code", flat=True)) <= by_prefix
    assert all(c.startswith("0103") or "01 03" in WasteCode.objects.get(code=c).name_en for c in by_prefix)
    hazardous = get(c, "/reference/waste-codes", hazardous="true", level="entry").json()
    assert hazardous and all(e["hazardous"] for e in hazardous)
    assert "010304" in {e["code"] for e in hazardous}
    safe = get(c, "/reference/waste-codes", hazardous="false", level="entry").json()
    assert len(hazardous) + len(safe) == len(entries)


@pytest.mark.parametrize(("params", "field"), [({"level": "galaxy"}, "level"), ({"parent": "abc"}, "parent"),
                                               ({"q": "x" * 101}, "q")])  # fmt: skip
def test_waste_code_list_bad_query_is_422(world, params, field):
    r = get(world.client("gen_a"), "/reference/waste-codes", **params)
    assert r.status_code == 422
    assert fields_of(r) == [field]


@pytest.mark.parametrize("code", ["010304", "01 03 04", "01 03 04*"])
def test_waste_code_detail(world, code):
    r = get(world.client("driver"), f"/reference/waste-codes/{code}")
    assert r.status_code == 200
    data = r.json()
    assert data["code"] == "010304"
    assert data["eu_hazardous"] is True
    assert data["hazardous"] is True
    assert data["level"] == "entry"


def test_unknown_waste_code_is_404(world):
    r = get(world.client("admin"), "/reference/waste-codes/999999")
    assert r.status_code == 404
    assert r.json()["errors"][0]["field"] == "code"


@pytest.mark.parametrize("username", ["gen_a", "receiver", "dispatcher", "officer_a", "hq", "regulator"])
def test_only_admin_may_correct_a_waste_code(world, username):
    before = WasteCode.objects.get(code="010101")
    with nothing_written(WasteCode):
        r = send(
            world.client(username),
            "patch",
            "/reference/waste-codes/010101",
            {"name_th": "แก้ไข", "th_mark": "HA"},
        )
    assert r.status_code == 403
    assert r.json()["errors"][0]["rule"] == "access.denied"
    after = WasteCode.objects.get(code="010101")
    assert (after.name_th, after.th_mark) == (before.name_th, before.th_mark)


def test_admin_corrects_a_waste_code(world):
    r = send(
        world.client("admin"),
        "patch",
        "/reference/waste-codes/010101",
        {"name_th": "ของเสียจากการขุดแร่", "th_mark": "HA"},
    )
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["name_th"] == "ของเสียจากการขุดแร่"
    assert data["th_mark"] == "HA"
    assert data["hazardous"] is True  # a Thai HA mark makes it hazardous although the EU list does not
    obj = WasteCode.objects.get(code="010101")
    assert obj.th_mark == "HA"
    rec = assert_audited("reference.waste_code.update", obj, "admin")
    assert rec.before["th_mark"] == "" and rec.after["th_mark"] == "HA"


def test_waste_code_patch_without_change_is_not_audited(world):
    current = WasteCode.objects.get(code="010101").name_en
    with nothing_written(WasteCode):
        r = send(world.client("admin"), "patch", "/reference/waste-codes/010101", {"name_en": current})
    assert r.status_code == 200


@pytest.mark.parametrize(("payload", "field"), [({"th_mark": "XX"}, "th_mark"), ({"name_en": ""}, "name_en"),
                                                ({"code": "010199"}, "code"), ({"level": "chapter"}, "level")])  # fmt: skip
def test_waste_code_patch_bad_input_is_422(world, payload, field):
    with nothing_written(WasteCode):
        r = send(world.client("admin"), "patch", "/reference/waste-codes/010101", payload)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == field


def test_waste_code_patch_malformed_json_and_unknown_code(world):
    c = world.client("admin")
    with nothing_written(WasteCode):
        r = send(c, "patch", "/reference/waste-codes/010101", raw="{'th_mark': 'HA'}")
        assert r.status_code == 400
        assert r.json()["errors"][0]["field"] == "body"
        assert send(c, "patch", "/reference/waste-codes/999999", {"name_th": "x"}).status_code == 404


def test_method_list(world):
    r = get(world.client("gen_b"), "/reference/methods")
    assert r.status_code == 200
    data = r.json()
    assert len(data) == ManagementMethod.objects.count()
    first = data[0]
    assert first == {"code": "011", "group": "sorting", "name_en": "Sorting for resale", "name_th": "คัดแยกเพื่อจำหน่ายต่อ",
                     "name_th_official": False, "non_hazardous_only": False}  # fmt: skip


@pytest.mark.parametrize("username", ["gen_a", "receiver", "officer_b", "hq", "regulator"])
def test_only_admin_may_correct_a_method(world, username):
    with nothing_written(ManagementMethod):
        r = send(world.client(username), "patch", "/reference/methods/011", {"name_th_official": True})
    assert r.status_code == 403
    assert ManagementMethod.objects.get(code="011").name_th_official is False


def test_admin_corrects_a_method(world):
    r = send(
        world.client("admin"),
        "patch",
        "/reference/methods/011",
        {"name_th_official": True, "name_en": "Sorting"},
    )
    assert r.status_code == 200
    assert r.json()["name_th_official"] is True
    obj = ManagementMethod.objects.get(code="011")
    assert (obj.name_th_official, obj.name_en) == (True, "Sorting")
    assert_audited("reference.method.update", obj, "admin")


@pytest.mark.parametrize(("raw", "status", "field"), [
    ('{"name_th_official": "maybe"}', 422, "name_th_official"),
    ('{"name_en": ""}', 422, "name_en"),
    ('{"group": "x"}', 422, "group"),
    ("{oops", 400, "body"),
])  # fmt: skip
def test_method_patch_bad_input(world, raw, status, field):
    with nothing_written(ManagementMethod):
        r = send(world.client("admin"), "patch", "/reference/methods/011", raw=raw)
    assert r.status_code == status
    assert r.json()["errors"][0]["field"] == field


def test_patch_unknown_method_is_404(world):
    with nothing_written(ManagementMethod):
        r = send(world.client("admin"), "patch", "/reference/methods/999", {"name_en": "x"})
    assert r.status_code == 404


def test_factory_types(world):
    r = get(world.client("receiver"), "/reference/factory-types")
    assert r.status_code == 200
    data = r.json()
    assert [t["number"] for t in data] == ["101", "105", "106"]
    assert all(t["role"] == "receiver" and t["name_th"] and t["name_en"] for t in data)


# --- cross-site requests --------------------------------------------------------------------------------------
def test_session_write_without_csrf_token_is_refused(world):
    c = Client(enforce_csrf_checks=True)
    c.force_login(world.users["admin"])
    with nothing_written(Establishment, Organisation):
        r = send(c, "post", "/establishments", establishment_payload())
        assert r.status_code == 403
        r = send(c, "patch", f"/establishments/{world.gen_a.id}", {"name_en": "Forged"})
        assert r.status_code == 403
    world.gen_a.refresh_from_db()
    assert world.gen_a.name_en == "Alpha Chemical Co., Ltd."
    assert get(c, "/establishments").status_code == 200  # reads need no CSRF token


def test_bearer_token_writes_need_no_csrf_token(world):
    issued = world.token_client("admin")
    c = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=issued.defaults["HTTP_AUTHORIZATION"])
    r = send(c, "post", "/establishments", establishment_payload())
    assert r.status_code == 201, r.content
