"""`scenario load` and `replay` on the platform: a hand-written scenario on the test world's permit line, through
the real ingest pipeline, trips opened at their pickups and closed at their deliveries, detection on the bus.

Real transactions (detection listens to what is committed), so the reference data is loaded per test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from wastelink.detection.models import Alert
from wastelink.manifests.models import Manifest
from wastelink.manifests.tests.conftest import manifest_world  # noqa: F401 - fixture
from wastelink.permits.tests.conftest import permit_world  # noqa: F401 - fixture
from wastelink.simulation.load import ScenarioError, load
from wastelink.simulation.replay import replay
from wastelink.tracking.models import Position, Trip

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
GEN, RCV = (12.70, 101.15), (12.70, 101.25)  # 10.9 km apart, due east


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]



@pytest.fixture
def sim_world(reference_data, manifest_world):  # noqa: F811
    w = manifest_world
    for est, (lat, lon) in ((w.gen_a, GEN), (w.receiver, RCV)):
        est.lat, est.lon = lat, lon
        est.save()
    return w


def points(t0: int, *, detour: bool = False) -> list[list]:
    """Every 30 s from the generator to the receiver at ~45 km/h; with a detour up to 3 km north (1 km per fix out
    and back, a plausible speed) for five minutes."""
    north = {9: 0.009, 10: 0.018, 17: 0.018, 18: 0.009} | {i: 0.027 for i in range(11, 17)}
    out = []
    for i in range(30):
        lat = GEN[0] + (north.get(i, 0.0) if detour else 0.0)
        out.append([t0 + 30 * i, lat, GEN[1] + (RCV[1] - GEN[1]) * i / 29, 45.0])
    return out


def scenario(w) -> dict:
    t1, t2 = int(START.timestamp()), int((START + timedelta(hours=1)).timestamp())
    route = {"type": "LineString", "coordinates": [[GEN[1], GEN[0]], [RCV[1], RCV[0]]]}

    def trip(key, t0, detour):
        start = datetime.fromtimestamp(t0, UTC)
        return {"id": key, "vehicle": "V1", "from": "G", "to": "R", "route": "GR", "corridor_width_m": 500,
                "start": start.isoformat(), "expected_arrival": (start + timedelta(hours=2)).isoformat(),
                "delivered_at": (start + timedelta(seconds=30 * 29 + 60)).isoformat(),
                "points": points(t0, detour=detour)}  # fmt: skip

    return {"format": "wastelink.scenario/1", "name": "unit", "seed": 1, "settings": {},
            "world": {"sites": [{"id": "G", "role": "generator", "name": "g", "lat": GEN[0], "lon": GEN[1],
                                 "registration": w.gen_a.registration_no},
                                {"id": "R", "role": "receiver", "name": "r", "lat": RCV[0], "lon": RCV[1],
                                 "registration": w.receiver.registration_no}],
                      "zones": [], "routes": [{"id": "GR", "from": "G", "to": "R", "geometry": route}],
                      "vehicles": [{"id": "V1", "plate": "70-1234", "device_id": "dev-1"}]},
            "trips": [trip("A", t1, False), trip("B", t2, True)]}  # fmt: skip


def test_two_trips_of_one_truck_are_picked_up_in_turn_and_only_the_detour_raises_an_alert(sim_world):
    data = scenario(sim_world)
    loaded = load(data)
    assert loaded.trips == {"A": "SIM-A", "B": "SIM-B"} and loaded.shift == timedelta(0)
    assert set(Manifest.objects.filter(number__startswith="SIM-").values_list("state", flat=True)) == {"SCHEDULED"}
    result = replay(data)
    assert (result.points, result.accepted, result.deliveries) == (60, 60, 2)
    trips = {t.manifest.number: t for t in Trip.objects.select_related("manifest")}
    # Each trip opened at its own pickup and closed at its delivery: the second did not close the first early.
    assert trips["SIM-A"].started_at == START and trips["SIM-A"].ended_at == START + timedelta(seconds=930)
    assert trips["SIM-A"].points == 30 and trips["SIM-B"].points == 30 and trips["SIM-B"].outside_corridor_points == 10
    assert set(Manifest.objects.filter(number__startswith="SIM-").values_list("state", flat=True)) == {"DELIVERED"}
    assert list(Alert.objects.values_list("manifest__number", "rule")) == [("SIM-B", "corridor_deviation")]
    # Loading and replaying again changes nothing: manifests and points are known, alerts unique per episode.
    assert load(data).created == {}
    assert replay(data).accepted == 60  # answered as duplicates
    assert Position.objects.count() == 60 and Alert.objects.count() == 1


def test_a_scenario_that_names_what_the_registry_does_not_know_is_refused_whole(sim_world):
    data = scenario(sim_world)
    data["trips"][1]["to"] = "G"  # no permit line from the generator to itself
    with pytest.raises(ScenarioError) as refused:
        load(data)
    assert refused.value.field == "trips[1].to"
    assert not Manifest.objects.filter(number__startswith="SIM-").exists()  # nothing half-written
    data = scenario(sim_world)
    load(data)
    other = scenario(sim_world)
    other["trips"][0]["start"] = (START + timedelta(minutes=5)).isoformat()  # another scenario, the same trip ids
    with pytest.raises(ScenarioError) as refused:
        load(other)
    assert refused.value.field == "trips[0].id"
    data = scenario(sim_world)
    data["world"]["sites"][1]["registration"] = "10000000009999"
    with pytest.raises(ScenarioError) as refused:
        load(data)
    assert refused.value.field == "world.sites[1].registration"


def test_the_command_loads_and_replays_a_file_and_names_a_bad_one(sim_world, tmp_path, capsys):
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario(sim_world)), encoding="utf-8")
    call_command("scenario", "load", str(path), "--replay")
    out = capsys.readouterr().out
    assert "2 trips" in out and "replayed 60 points" in out and "1 alerts raised" in out
    path.write_text("{oops", encoding="utf-8")
    with pytest.raises(CommandError, match="not JSON"):
        call_command("scenario", "load", str(path))
