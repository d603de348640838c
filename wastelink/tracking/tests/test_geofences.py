"""Geofences: drawn by officers, indexed in memory, rebuilt when they change, queried for a batch at once."""

import json

import numpy as np
import pytest

from wastelink.audit.models import AuditRecord
from wastelink.tracking.models import Geofence
from wastelink.tracking.services.fences import fence_index

pytestmark = pytest.mark.django_db
SQUARE = {"type": "Polygon", "coordinates": [[[101.30, 12.90], [101.32, 12.90], [101.32, 12.92], [101.30, 12.92],
                                               [101.30, 12.90]]]}  # fmt: skip


def post(client, body):
    return client.post("/api/v1/geofences", data=json.dumps(body), content_type="application/json")


def test_officers_draw_hot_spots_others_cannot(world):
    r = post(world.client("officer_a"), {"kind": "hot_spot", "name": "บ่อดินร้าง", "geometry": SQUARE})
    assert r.status_code == 201 and AuditRecord.objects.filter(action="geofence.draw").count() == 1
    assert post(world.client("gen_a"), {"kind": "hot_spot", "name": "จุดเสี่ยง", "geometry": SQUARE}).status_code == 403
    assert post(world.client("officer_a"), {"kind": "site", "name": "จุดเสี่ยง", "geometry": SQUARE}).status_code == 400
    bad = post(world.client("officer_a"), {"kind": "rest_area", "name": "จุดเสี่ยง", "geometry": {"type": "Point"}})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "geometry"
    # Hot spots are the officers' knowledge; rest areas are for everyone.
    assert world.client("gen_a").get("/api/v1/geofences").json() == []
    assert len(world.client("hq").get("/api/v1/geofences").json()) == 1


def test_the_index_finds_fences_for_a_batch_and_is_rebuilt_when_they_change(world):
    fence_index.refresh(force=True)
    lons, lats = np.array([101.31, 101.5]), np.array([12.91, 12.91])
    assert not any(f.kind == "hot_spot" for f in fence_index.hits(lons, lats)[0])
    post(world.client("officer_a"), {"kind": "hot_spot", "name": "บ่อดินร้าง", "geometry": SQUARE})
    fence_index.refresh(force=True)
    hits = fence_index.hits(lons, lats)
    assert [f.name for f in hits[0] if f.kind == "hot_spot"] == ["บ่อดินร้าง"] and not any(f.kind == "hot_spot" for f in hits[1])
    # Estates and sites are fences too.
    mtp = fence_index.hits(np.array([101.1318]), np.array([12.6787]))[0]
    assert any(f.key == "estate:map-ta-phut" for f in mtp)
    fid = Geofence.objects.get().id
    assert world.client("officer_a").delete(f"/api/v1/geofences/{fid}").status_code == 204
    fence_index.refresh(force=True)
    assert not any(f.kind == "hot_spot" for f in fence_index.hits(lons, lats)[0])
