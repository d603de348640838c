"""The offline check: observations built as the platform builds them, and the detector run over the scenario."""

from __future__ import annotations

from wastelink.core.detection import FACILITY, HOT_SPOT, REST_AREA, RULES
from wastelink.simulation.offline import evaluate, observations, report


def test_observations_carry_the_corridor_and_the_zones(drawn):
    _, scenario, truth = drawn
    obs = observations(scenario)
    looks = {line.trip: line for line in truth}
    for trip in scenario.trips:
        line = looks[trip.id]
        flags = [o.in_corridor for o in obs[trip.id]]
        if trip.route is None:
            assert set(flags) == {None}
            continue
        kind = line.incidents[0].kind if line.incidents else None
        if line.look == "edge_noise" or line.clean:
            assert flags.count(False) <= 1
        if kind == "corridor_deviation":
            assert flags.count(False) >= 3
        zones = {z.kind for o in obs[trip.id] for z in o.zones}
        if kind == "hot_spot_entry":
            assert HOT_SPOT in zones
        if line.look == "rest_stop":
            assert REST_AREA in zones
        if line.clean:
            assert HOT_SPOT not in zones
        first = obs[trip.id][0]
        assert f"site:{trip.from_site}" in {z.key for z in first.zones}
        if trip.delivered_at and line.clean:
            assert any(z.kind == FACILITY and z.key == f"site:{trip.to_site}" for z in obs[trip.id][-1].zones)


def test_the_detector_finds_every_kind_of_incident_and_reports_it(drawn):
    _, scenario, truth = drawn
    result = evaluate(scenario, truth)
    assert result.trips == len(truth) and result.clean == sum(line.clean for line in truth)
    for kind in RULES:
        assert result.incidents[kind] >= 4
        assert result.detected[kind] >= 0.8 * result.incidents[kind], kind
        assert all(-180 <= s <= 30 * 60 for s in result.latency_s[kind])
    assert len(result.false_alerts) <= 0.05 * result.clean
    text = report(result)
    assert all(kind in text for kind in RULES) and "per 100 clean trips" in text
