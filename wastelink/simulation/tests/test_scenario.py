"""The scenario format: a valid scenario round-trips; each kind of broken scenario is refused naming its field."""

from __future__ import annotations

import copy
import json

import pytest

from wastelink.simulation.scenario import (
    FORMAT,
    Incident,
    ScenarioError,
    TruthLine,
    parse_scenario,
    parse_truth_line,
    read_scenario,
    read_scenario_dict,
    read_truth,
    scenario_dict,
    shift_scenario,
    write_scenario,
    write_truth,
)

T0 = 1_748_826_000  # 2025-06-02T01:00:00Z


def minimal() -> dict:
    square = [[101.15, 12.75], [101.152, 12.75], [101.152, 12.752], [101.15, 12.752], [101.15, 12.75]]
    return {
        "format": FORMAT, "name": "tiny", "seed": 1, "settings": {"overdue_grace_minutes": 30},
        "world": {
            "sites": [{"id": "S1", "role": "generator", "name": "Gen", "lat": 12.70, "lon": 101.10, "registration": "72000000000001"},
                      {"id": "S2", "role": "receiver", "name": "Rec", "lat": 12.80, "lon": 101.20},
                      {"id": "S3", "role": "receiver", "name": "Rec 2", "lat": 12.85, "lon": 101.25}],
            "zones": [{"id": "Z1", "kind": "hot_spot", "name": "Pit", "geometry": {"type": "Polygon", "coordinates": [square]}}],
            "routes": [{"id": "R1", "from": "S1", "to": "S2",
                        "geometry": {"type": "LineString", "coordinates": [[101.10, 12.70], [101.15, 12.74], [101.20, 12.80]]}}],
            "vehicles": [{"id": "V1", "plate": "70-1234", "device_id": "dev-1", "transporter": "20000000000005"}],
        },
        "trips": [
            {"id": "T1", "vehicle": "V1", "from": "S1", "to": "S2", "route": "R1", "corridor_width_m": 500,
             "start": "2025-06-02T01:00:00Z", "expected_arrival": "2025-06-02T02:00:00Z",
             "delivered_at": "2025-06-02T02:10:00Z", "points": [[T0 + 60, 12.70, 101.10, 0.0], [T0 + 120, 12.71, 101.11, 41.5]]},
            {"id": "T2", "vehicle": "V1", "from": "S1", "to": "S3", "route": None, "corridor_width_m": 500,
             "start": "2025-06-02T03:00:00Z", "expected_arrival": "2025-06-02T04:00:00Z", "delivered_at": None,
             "points": [[T0 + 7300, 12.70, 101.10, 0.0]]},
        ],
    }  # fmt: skip


def test_a_valid_scenario_reads_and_round_trips(tmp_path):
    s = parse_scenario(minimal())
    assert [t.id for t in s.trips] == ["T1", "T2"]
    assert s.rule_settings().overdue_grace_minutes == 30
    assert s.trips[0].start.timestamp() == T0 and s.trips[1].delivered_at is None
    write_scenario(s, tmp_path / "s.json")
    again = read_scenario(tmp_path / "s.json")
    assert scenario_dict(again) == scenario_dict(s)
    assert json.loads((tmp_path / "s.json").read_text())["trips"][0]["start"] == "2025-06-02T01:00:00Z"


def _set(path: list, value):
    def mutate(d):
        target = d
        for key in path[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return mutate


BROKEN = [
    ("format", _set(["format"], "wastelink.scenario/2"), "must be 'wastelink.scenario/1'"),
    ("scenario.name", _set(["name"], KeyError), "is required"),
    ("settings", _set(["settings"], {"stop_minuts": 5}), "unknown detection setting"),
    ("world.sites[1].role", _set(["world", "sites", 1, "role"], "landfill"), "must be one of"),
    ("world.sites[0].lat", _set(["world", "sites", 0, "lat"], 95.0), "between"),
    ("world.sites[1].id", _set(["world", "sites", 1, "id"], "S1"), "used twice"),
    ("world.zones[0].geometry", _set(["world", "zones", 0, "geometry", "coordinates"],
                                     [[[101.15, 12.75], [101.16, 12.76], [101.16, 12.75], [101.15, 12.76], [101.15, 12.75]]]),
     "not a valid polygon"),
    ("world.zones[0].kind", _set(["world", "zones", 0, "kind"], "dump"), "must be one of"),
    ("world.routes[0].from", _set(["world", "routes", 0, "from"], "S9"), "no site"),
    ("world.routes[0].geometry.coordinates", _set(["world", "routes", 0, "geometry", "coordinates"], [[101.1, 12.7]]),
     "at least two positions"),
    ("world.vehicles[0].device_id", _set(["world", "vehicles", 0, "device_id"], ""), "non-empty"),
    ("trips[0].vehicle", _set(["trips", 0, "vehicle"], "V9"), "no vehicle"),
    ("trips[0].from", _set(["trips", 0, "from"], "S2"), "not a generator"),
    ("trips[0].to", _set(["trips", 0, "to"], "S1"), "not a receiver"),
    ("trips[0].route", _set(["trips", 0, "to"], "S3"), "runs S1 → S2"),
    ("trips[0].start", _set(["trips", 0, "start"], "2025-06-02T01:00:00"), "UTC offset"),
    ("trips[0].expected_arrival", _set(["trips", 0, "expected_arrival"], "2025-06-02T00:00:00Z"), "before the start"),
    ("trips[0].delivered", _set(["trips", 0, "delivered"], "2025-06-02T02:10:00Z"), "not a field of the format"),
    ("trips[0].corridor_width_m", _set(["trips", 0, "corridor_width_m"], "500"), "finite number"),
    ("trips[0].points[1][0]", _set(["trips", 0, "points", 1, 0], T0 + 120.5), "integer"),
    ("trips[0].points[0][0]", _set(["trips", 0, "points", 0, 0], T0 - 60), "outside the trip"),
    ("trips[0].points[0]", _set(["trips", 0, "points", 0], [T0 + 60, 12.7, 101.1]), "[unix_seconds, lat, lon, speed_kmh]"),
    ("trips[0].points[1][2]", _set(["trips", 0, "points", 1, 2], float("nan")), "finite"),
    ("trips[1].start", _set(["trips", 1, "start"], "2025-06-02T02:00:00Z"), "still on trip T1"),
    ("trips[1].id", _set(["trips", 1, "id"], "T1"), "used twice"),
]  # fmt: skip


@pytest.mark.parametrize(("field", "mutate", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_scenario_is_refused_naming_the_field(field, mutate, message):
    data = copy.deepcopy(minimal())
    mutate(data)
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data)
    assert caught.value.field == field
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{field}: ")


def test_the_json_form_is_checked_and_normalised():
    data = minimal()
    del data["trips"][0]["corridor_width_m"], data["trips"][0]["route"]
    data["trips"][0]["start"] = "2025-06-02T08:00:00+07:00"
    out = read_scenario_dict(data)
    assert out["trips"][0]["corridor_width_m"] == 500 and out["trips"][0]["route"] is None
    assert out["trips"][0]["start"] == "2025-06-02T01:00:00Z"
    data["trips"][0]["vehicle"] = "V2"
    with pytest.raises(ValueError, match=r"trips\[0\].vehicle"):
        read_scenario_dict(data)


def test_a_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"format": ', encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid JSON"):
        read_scenario(path)


def test_shifting_moves_every_time_of_the_trips():
    s = parse_scenario(minimal())
    moved = shift_scenario(s, 3600)
    assert moved.trips[0].start.timestamp() == T0 + 3600
    assert moved.trips[0].delivered_at.timestamp() == s.trips[0].delivered_at.timestamp() + 3600
    assert [p[0] for p in moved.trips[0].points] == [p[0] + 3600 for p in s.trips[0].points]
    assert moved.trips[1].delivered_at is None


def test_truth_round_trips_and_refuses_contradictions(tmp_path):
    lines = [TruthLine("T1", "dev-1", False, None, [Incident("signal_loss", T0, T0 + 1200, 12.7, 101.1, "far")]),
             TruthLine("T2", "dev-1", True, "rest_stop", [])]  # fmt: skip
    write_truth(lines, tmp_path / "t.jsonl")
    assert read_truth(tmp_path / "t.jsonl") == lines
    clean_with_incident = {"trip": "T1", "device_id": "d", "clean": True, "look": None,
                           "incidents": [{"kind": "overdue", "start": 1, "end": 2, "lat": 1.0, "lon": 1.0}]}  # fmt: skip
    with pytest.raises(ScenarioError, match="line 3.clean"):
        parse_truth_line(clean_with_incident, "line 3")
    bad_kind = dict(
        clean_with_incident,
        clean=False,
        incidents=[{"kind": "speeding", "start": 1, "end": 2, "lat": 1.0, "lon": 1.0}],
    )
    with pytest.raises(ScenarioError, match=r"line 3.incidents\[0\].kind"):
        parse_truth_line(bad_kind, "line 3")
    with pytest.raises(ScenarioError, match="line 3.look"):
        parse_truth_line(dict(clean_with_incident, incidents=[], look="picnic"), "line 3")
