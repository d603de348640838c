"""The library of approved routes: officers approve, a manifest takes its route from it, the transporter may pick one."""

import json

import pytest

from wastelink.manifests.models import Manifest, ManifestVersion

from .conftest import manifest_in, manifest_world, new_manifest, sign  # noqa: F401

pytestmark = pytest.mark.django_db
LINE = {"type": "LineString", "coordinates": [[101.15, 12.70], [101.20, 12.75], [101.25, 12.80]]}


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_approved_route_is_used_by_a_manifest_and_chosen_by_the_transporter(manifest_world):  # noqa: F811
    w = manifest_world
    body = {"name": "ทางหลวง 36", "origin_id": w.gen_a.id, "destination_id": w.receiver.id, "geometry": LINE,
            "corridor_width_m": 300}  # fmt: skip
    assert post(w.client("gen_a"), "/api/v1/routes", body).status_code == 403
    r = post(w.client("officer_a"), "/api/v1/routes", body)
    assert r.status_code == 201
    route_id = r.json()["id"]
    listed = w.client("dispatcher").get(f"/api/v1/routes?origin_id={w.gen_a.id}&destination_id={w.receiver.id}").json()
    assert [x["id"] for x in listed] == [route_id]

    r = post(w.client("gen_a"), "/api/v1/manifests", manifest_in(w, route_id=route_id).model_dump(mode="json"))
    assert r.status_code == 201, r.json()
    assert r.json()["route"] == LINE and r.json()["corridor_width_m"] == 300

    # A manifest without a route: the transporter picks the approved one after scheduling (a new version).
    from wastelink.manifests.services import custody

    m = new_manifest(w)
    custody.schedule(actor=w.users["gen_a_cert"], number=m.number, data=sign(m))
    r = post(w.client("dispatcher"), f"/api/v1/manifests/{m.number}/correct", {"reason": "เส้นทางที่อนุมัติ", "route_id": route_id})
    assert r.status_code == 200, r.json()
    m = Manifest.objects.get(id=m.id)
    assert m.route == LINE and m.corridor_width_m == 300 and m.version == 2
    assert ManifestVersion.objects.get(manifest=m, version=2).changed == ["corridor_width_m", "route"]


def test_route_errors(manifest_world):  # noqa: F811
    w = manifest_world
    officer = w.client("officer_a")
    bad = post(officer, "/api/v1/routes", {"name": "x1", "origin_id": w.gen_a.id, "destination_id": w.receiver.id,
                                           "geometry": {"type": "Point", "coordinates": [101, 13]}})  # fmt: skip
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "geometry"
    other = post(officer, "/api/v1/routes", {"name": "อื่น", "origin_id": w.gen_b.id, "destination_id": w.receiver.id,
                                             "geometry": LINE}).json()["id"]  # fmt: skip
    r = post(w.client("gen_a"), "/api/v1/manifests", manifest_in(w, route_id=other).model_dump(mode="json"))
    assert r.status_code == 400 and r.json()["errors"][0]["rule"] == "route.mismatch"
