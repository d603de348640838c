"""`wastelink simulate`: generate, check offline, drive; and its refusals."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from wastelink.simulation.scenario import read_scenario, read_truth

from .test_drive import server  # noqa: F401 - the fixture


def run(**options) -> str:
    out = io.StringIO()
    call_command("simulate", stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_generate_writes_the_scenario_and_truth_and_checks_them(tmp_path):
    text = run(trips=21, seed=4, out=str(tmp_path / "a"), world_from="none", check=True)
    scenario = read_scenario(tmp_path / "a" / "scenario.json")
    truth = read_truth(tmp_path / "a" / "truth.jsonl")
    assert len(scenario.trips) == len(truth) == 21
    assert "21 trips" in text and "incidents: corridor_deviation 2" in text and "trips 21/21" in text
    assert "offline detector" in text and "per 100 clean trips" in text
    run(trips=21, seed=4, out=str(tmp_path / "b"), world_from="none")
    for name in ("scenario.json", "truth.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    again = run(check=True, scenario=str(tmp_path / "a" / "scenario.json"))
    assert "corridor_deviation" in again


def test_settings_reach_the_scenario_and_its_truth(tmp_path):
    run(trips=14, seed=4, out=str(tmp_path), world_from="none", rule_settings='{"overdue_grace_minutes": 30}')
    scenario = read_scenario(tmp_path / "scenario.json")
    assert scenario.settings == {"overdue_grace_minutes": 30}
    trips = {t.id: t for t in scenario.trips}
    for line in read_truth(tmp_path / "truth.jsonl"):
        for x in line.incidents:
            if x.kind == "overdue":
                assert x.start == trips[line.trip].expected_arrival.timestamp() + 30 * 60


def test_difficulty_hard_adds_the_hard_cases_and_standard_stays_the_default(tmp_path):
    text = run(trips=40, seed=4, out=str(tmp_path / "h"), world_from="none", difficulty="hard", check=True)
    scenario = read_scenario(tmp_path / "h" / "scenario.json")
    truth = read_truth(tmp_path / "h" / "truth.jsonl")
    assert scenario.name == "sim-4-40-hard"
    assert {"refuel_stop", "gate_queue", "urban_canyon"} <= {line.look for line in truth}
    assert (
        "variants: corridor_deviation/standard 2, corridor_deviation/short 1, unauthorised_stop/standard 1"
        in text
    )
    assert "corridor_deviation / short" in text  # the offline check, per variant
    run(trips=40, seed=4, out=str(tmp_path / "s"), world_from="none")
    standard = read_truth(tmp_path / "s" / "truth.jsonl")
    assert read_scenario(tmp_path / "s" / "scenario.json").name == "sim-4-40"
    assert {line.look for line in standard} <= {None, "traffic_jam", "rest_stop", "edge_noise", "short_gap"}


@pytest.mark.parametrize(("options", "message"), [
    ({}, "say what to do"),
    ({"trips": 5}, "--out is required"),
    ({"trips": 5, "out": "x", "start": "yesterday"}, "--start: not an ISO 8601 time"),
    ({"trips": 5, "out": "x", "start": "2025-06-02T00:00:00"}, "UTC offset"),
    ({"trips": 5, "out": "x", "world_from": "none", "rule_settings": '{"stop_minuts": 3}'}, "unknown detection setting"),
    ({"check": True}, "--scenario is required"),
    ({"trips": 5, "out": "x", "world_from": "none", "difficulty": "brutal"}, "--difficulty must be one of standard, hard"),
])  # fmt: skip
def test_refusals_say_what_is_wrong(options, message):
    with pytest.raises(CommandError, match=message):
        run(**options)


@pytest.mark.django_db
def test_a_world_from_an_empty_registry_is_refused_with_advice(tmp_path):
    with pytest.raises(CommandError, match="--world-from none"):
        run(trips=5, out=str(tmp_path), world_from="db")


def test_a_broken_scenario_file_is_refused_naming_the_field(tmp_path):
    run(trips=7, seed=1, out=str(tmp_path), world_from="none")
    path = tmp_path / "scenario.json"
    path.write_text(path.read_text().replace('"role": "receiver"', '"role": "dump"', 1))
    with pytest.raises(CommandError, match=r"world.sites\[\d+\].role"):
        run(check=True, scenario=str(path))


def test_drive_sends_the_scenario(tmp_path, server):  # noqa: F811 - the fixture
    run(trips=3, seed=1, out=str(tmp_path), world_from="none")
    scenario = read_scenario(tmp_path / "scenario.json")
    points = sum(len(t.points) for t in scenario.trips)
    text = run(drive=server.url, scenario=str(tmp_path / "scenario.json"), speed=0)
    assert f"sent {points}/{points}: accepted {points}" in text
    assert len(server.seen) == points
