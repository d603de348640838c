"""The evaluator's arithmetic (core/evaluation.py) on small hand-made truth and alerts, and `wastelink evaluate`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from wastelink.core.detection import (
    CORRIDOR_DEVIATION,
    HOT_SPOT_ENTRY,
    IMPLAUSIBLE_MOVEMENT,
    OVERDUE,
    RULES,
    SIGNAL_LOSS,
    UNAUTHORISED_STOP,
    WRONG_DESTINATION,
)
from wastelink.core.evaluation import (
    AlertRecord,
    EvaluationInputError,
    Incident,
    ScenarioTrip,
    TruthTrip,
    evaluate,
    median,
    nearest_rank,
    read_alerts,
    read_truth,
    scenario_trips,
    with_scenario,
)
from wastelink.manifests.tests.conftest import manifest_world, new_manifest, sign  # noqa: F401 - fixtures
from wastelink.permits.tests.conftest import permit_world  # noqa: F401 - fixture

B = datetime(2025, 11, 28, 1, 0, tzinfo=UTC).timestamp()  # 08:00 in Bangkok
SLACK = 15 * 60


def trip(name: str, *incidents: Incident, clean: bool | None = None, look: str | None = None,
         interval_s: float | None = None, device: str | None = None) -> TruthTrip:  # fmt: skip
    return TruthTrip(name, device or f"dev-{name}", not incidents if clean is None else clean, look, incidents,
                     interval_s)  # fmt: skip


def inc(kind: str, start: float, end: float, variant: str | None = None) -> Incident:
    return Incident(kind, B + start, B + end, 12.7, 101.1, variant)


def alert(name: str | None, rule: str, at: float) -> AlertRecord:
    return AlertRecord(name, rule, B + at, raised_at=B + at + 2, episode_at=B + at - 60)


def target(report, name, rule=None):
    return next(t for t in report.targets if t.name == name and t.rule == rule)


# --- matching, recall, precision, false alerts ------------------------------------------------------------------


@pytest.fixture
def mixed():
    truth = [
        trip("T1", inc(CORRIDOR_DEVIATION, 600, 1200), inc(UNAUTHORISED_STOP, 1500, 2400)),
        trip("T2", inc(HOT_SPOT_ENTRY, 300, 400), inc(SIGNAL_LOSS, 1000, 2000)),
        trip("T3", inc(OVERDUE, 7200, 7200)),
        trip("C1"),
        trip("C2", look="rest_stop"),
        trip("C3", look="rest_stop"),
        trip("C4", look="traffic_jam"),
    ]
    alerts = [
        alert("T1", CORRIDOR_DEVIATION, 750),  # detects the deviation 150 s in
        alert("T1", UNAUTHORISED_STOP, 2100),  # detects the stop 600 s in
        alert("T1", HOT_SPOT_ENTRY, 800),  # another rule during the deviation: true, but detects nothing
        alert("T2", HOT_SPOT_ENTRY, 300),  # on entry
        alert("T2", SIGNAL_LOSS, 2000 + SLACK + 1),  # one second too late: the silence is missed
        alert("T3", OVERDUE, 7200 + 3 * 3600),  # overdue has no upper bound
        alert("C2", CORRIDOR_DEVIATION, 500),  # a false alarm on a clean trip
        alert("T9", UNAUTHORISED_STOP, 100),  # a trip the truth does not know
    ]
    return evaluate(truth, alerts)


def test_recall_per_kind(mixed):
    rows = mixed.rows
    assert [(rows[k].incidents, rows[k].detected, rows[k].recall) for k in RULES] == [
        (1, 1, 1.0), (1, 1, 1.0), (1, 1, 1.0), (1, 0, 0.0), (0, 0, None), (1, 1, 1.0), (0, 0, None)]  # fmt: skip
    assert mixed.incidents == 5
    assert [(m.trip, m.kind) for m in mixed.missed] == [("T2", SIGNAL_LOSS)]


def test_precision_counts_any_rule_inside_an_incident_of_the_trip(mixed):
    assert (mixed.alerts, mixed.true_alerts) == (8, 5)
    assert mixed.precision == pytest.approx(5 / 8)
    assert (
        mixed.rows[HOT_SPOT_ENTRY].true_alerts == 2
    )  # T1's detour alert is true although no hot spot was planted


def test_false_alerts_per_rule_on_clean_trips_and_unknown_trips(mixed):
    assert mixed.clean_trips == 4 and mixed.alerts_on_clean == 1
    assert mixed.false_alerts_per_100_clean == pytest.approx(25.0)
    assert mixed.alerts_on_unknown_trips == 1
    assert {k: r.false_alerts for k, r in mixed.rows.items() if r.false_alerts} == {
        CORRIDOR_DEVIATION: 1, SIGNAL_LOSS: 1, UNAUTHORISED_STOP: 1}  # fmt: skip
    assert mixed.rows[CORRIDOR_DEVIATION].false_alerts_per_100_clean == pytest.approx(25.0)
    assert mixed.clean_alerts_by_look == {"rest_stop": 1}


def test_time_to_alert_per_kind(mixed):
    rows = mixed.rows
    assert rows[CORRIDOR_DEVIATION].tta_median_s == 150
    assert rows[UNAUTHORISED_STOP].tta_median_s == 600
    assert rows[HOT_SPOT_ENTRY].tta_median_s == 0
    assert rows[OVERDUE].tta_median_s == 3 * 3600
    assert rows[SIGNAL_LOSS].tta_median_s is None


def test_targets_and_the_verdict(mixed):
    assert target(mixed, "recall", SIGNAL_LOSS).passed is False
    assert target(mixed, "recall", CORRIDOR_DEVIATION).passed is True
    assert target(mixed, "recall", WRONG_DESTINATION).passed is None  # nothing planted: not evaluated
    assert target(mixed, "false_alerts_per_100_clean").passed is False
    assert target(mixed, "tta_median", CORRIDOR_DEVIATION).passed is True  # 150 s ≤ 2 min + 30 s
    assert target(mixed, "tta_median", UNAUTHORISED_STOP).passed is True  # 600 s ≤ 10 min + 30 s
    assert target(mixed, "tta_median", OVERDUE).passed is False  # 3 h ≥ 0 + 30 s
    assert target(mixed, "tta_median", SIGNAL_LOSS).passed is None
    assert mixed.passed is False


def test_an_alert_matches_only_inside_start_to_end_plus_slack():
    truth = [trip("T1", inc(CORRIDOR_DEVIATION, 600, 1200))]

    def detected(at: float, **kw) -> int:
        return evaluate(truth, [alert("T1", CORRIDOR_DEVIATION, at)], **kw).rows[CORRIDOR_DEVIATION].detected

    assert detected(599) == 0  # before the start
    assert detected(600) == 1
    assert detected(1200 + SLACK) == 1  # the boundary belongs to the window
    assert detected(1200 + SLACK + 1) == 0
    assert detected(1200 + 301, slack_s=300) == 0  # slack is a parameter
    assert detected(1200 + 300, slack_s=300) == 1
    other_trip = evaluate(
        truth + [trip("T2", inc(UNAUTHORISED_STOP, 0, 3000))], [alert("T2", CORRIDOR_DEVIATION, 700)]
    )
    assert other_trip.rows[CORRIDOR_DEVIATION].detected == 0  # same time, another trip


def test_an_alert_of_another_rule_does_not_detect_the_incident():
    r = evaluate([trip("T1", inc(CORRIDOR_DEVIATION, 600, 1200))], [alert("T1", UNAUTHORISED_STOP, 700)])
    assert r.rows[CORRIDOR_DEVIATION].detected == 0 and r.true_alerts == 1


def test_overdue_is_detected_by_any_overdue_alert_after_its_start():
    truth = [trip("T1", inc(OVERDUE, 7200, 7200))]
    assert evaluate(truth, [alert("T1", OVERDUE, 7199)]).rows[OVERDUE].detected == 0
    late = evaluate(truth, [alert("T1", OVERDUE, 7200 + 86_400)])
    assert late.rows[OVERDUE].detected == 1 and late.precision == 1.0


def test_time_to_alert_is_from_the_first_matching_alert_of_the_kind():
    truth = [trip("T1", inc(CORRIDOR_DEVIATION, 600, 1200))]
    alerts = [alert("T1", HOT_SPOT_ENTRY, 610), alert("T1", CORRIDOR_DEVIATION, 900),
              alert("T1", CORRIDOR_DEVIATION, 700), alert("T1", CORRIDOR_DEVIATION, 590)]  # fmt: skip
    assert evaluate(truth, alerts).rows[CORRIDOR_DEVIATION].tta_median_s == 100


def test_median_and_nearest_rank_p95():
    assert median([40, 10, 30, 20]) == 25  # an even count: the mean of the two middle values
    assert median([3, 1, 2]) == 2
    assert nearest_rank([40, 10, 30, 20], 0.95) == 40  # ⌈0.95·4⌉ = 4th
    assert nearest_rank(list(range(1, 21)), 0.95) == 19  # ⌈0.95·20⌉ = 19th
    assert nearest_rank(list(range(1, 101)), 0.95) == 95
    assert nearest_rank([7], 0.95) == 7
    assert median([]) is None and nearest_rank([], 0.95) is None


def test_median_and_p95_time_to_alert_over_incidents():
    delays = [60, 120, 130, 140, 150, 160, 170, 180, 190, 900]  # seconds after each incident's start
    truth = [trip(f"T{n}", inc(CORRIDOR_DEVIATION, 1000, 2000)) for n in range(len(delays))]
    alerts = [alert(f"T{n}", CORRIDOR_DEVIATION, 1000 + d) for n, d in enumerate(delays)]
    row = evaluate(truth, alerts).rows[CORRIDOR_DEVIATION]
    assert row.tta_median_s == 155  # (150 + 160) / 2
    assert row.tta_p95_s == 900  # ⌈9.5⌉ = 10th of 10


def test_the_time_to_alert_target_is_the_threshold_plus_the_reporting_interval():
    def verdict(delay: float, trip_interval: float | None = None, **kw):
        truth = [trip("T1", inc(CORRIDOR_DEVIATION, 0, 1000), interval_s=trip_interval)]
        return target(
            evaluate(truth, [alert("T1", CORRIDOR_DEVIATION, delay)], **kw), "tta_median", CORRIDOR_DEVIATION
        )

    assert verdict(150).limit == 150 and verdict(150).passed is True  # 2 min + the default 30 s
    assert verdict(151).passed is False
    assert verdict(180, trip_interval=60).passed is True  # the trip's own interval from its truth line
    assert verdict(181, trip_interval=60).passed is False
    assert verdict(240, interval_s=120).passed is True  # the default interval is a parameter
    three = {CORRIDOR_DEVIATION: 3.0}  # so are the thresholds
    assert verdict(210, thresholds_minutes=three).passed is True
    assert verdict(211, thresholds_minutes=three).passed is False
    assert verdict(190, thresholds_minutes=three, interval_s=10).passed is True
    assert verdict(191, thresholds_minutes=three, interval_s=10).passed is False


def test_false_alerts_per_100_clean_trips_target():
    clean = [trip(f"C{n:03}") for n in range(200)]
    two = evaluate(clean, [alert("C000", SIGNAL_LOSS, 10), alert("C001", IMPLAUSIBLE_MOVEMENT, 10)])
    assert two.false_alerts_per_100_clean == 1.0 and target(two, "false_alerts_per_100_clean").passed is True
    three = evaluate(clean, [alert(f"C00{n}", SIGNAL_LOSS, 10) for n in range(3)])
    assert (
        three.false_alerts_per_100_clean == 1.5
        and target(three, "false_alerts_per_100_clean").passed is False
    )
    assert three.precision == 0.0
    assert three.rows[SIGNAL_LOSS].false_alerts_per_100_clean == 1.5
    assert three.passed is False


def test_a_perfect_run_passes_and_unplanted_kinds_are_not_evaluated():
    truth = [trip("T1", inc(CORRIDOR_DEVIATION, 0, 600)), trip("C1")]
    r = evaluate(truth, [alert("T1", CORRIDOR_DEVIATION, 140)])
    assert r.passed is True and r.precision == 1.0 and r.false_alerts_per_100_clean == 0.0
    assert {t.rule for t in r.targets if t.passed is None} == set(RULES) - {CORRIDOR_DEVIATION}


def test_nothing_to_measure_is_no_verdict():
    r = evaluate([], [])
    assert r.passed is None and r.precision is None and r.false_alerts_per_100_clean is None


# --- reading ----------------------------------------------------------------------------------------------------


def line(**obj) -> str:
    return json.dumps(obj)


def test_reading_truth_and_alerts_lines():
    text = "\n".join([
        line(trip="T0001", device_id="d1", clean=False, look=None, interval_s=15,
             incidents=[{"kind": "hot_spot_entry", "variant": "quarry", "start": B, "end": B + 60, "lat": 12.7,
                         "lon": 101.1}]),
        "",
        line(trip="T0002", device_id="d2", clean=True, look="rest_stop", incidents=[]),
    ])  # fmt: skip
    truth = read_truth(text.splitlines())
    assert truth[0] == TruthTrip("T0001", "d1", False, None, (Incident(HOT_SPOT_ENTRY, B, B + 60, 12.7, 101.1,
                                                                        "quarry"),), 15.0)  # fmt: skip
    assert truth[1].clean and truth[1].look == "rest_stop" and truth[1].window() is None
    alerts = read_alerts([line(trip="T0001", rule="hot_spot_entry", fired_at=B + 5, raised_at=B + 9,
                               episode_at="2025-11-28T08:00:00+07:00")])  # fmt: skip
    assert alerts == [AlertRecord("T0001", HOT_SPOT_ENTRY, B + 5, B + 9, B)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{oops", "truth line 1: not JSON"),
        (line(trip="T1", device_id="d", clean=False, incidents=[{"kind": "dumping", "start": 1, "end": 2}]),
         "unknown rule 'dumping'"),
        (line(trip="T1", device_id="d", clean=True, incidents=[{"kind": "overdue", "start": 1, "end": 2}]),
         "clean trip cannot have incidents"),
        (line(trip="T1", device_id="d", clean=False, incidents=[{"kind": "overdue", "start": 5, "end": 2}]),
         "end is before start"),
        (line(trip="T1", device_id="d", clean="no"), "clean must be true or false"),
        (line(trip="T1", clean=True), "device_id"),
        (line(trip="T1", device_id="d", clean=True) + "\n" + line(trip="T1", device_id="d", clean=True),
         "truth line 2: trip T1 appears twice"),
        (line(trip="T1", device_id="d", clean=True, interval_s=-5), "interval_s must be a positive"),
    ],
)  # fmt: skip
def test_bad_truth_is_refused_naming_the_line(text, message):
    with pytest.raises(EvaluationInputError, match=message):
        read_truth(text.splitlines())


def test_bad_alerts_are_refused():
    with pytest.raises(EvaluationInputError, match="alerts line 1: unknown rule"):
        read_alerts([line(trip="T1", rule="speeding", fired_at=B)])
    with pytest.raises(EvaluationInputError, match="fired_at is required"):
        read_alerts([line(trip="T1", rule="overdue")])
    with pytest.raises(EvaluationInputError, match="needs an offset"):
        read_alerts([line(trip="T1", rule="overdue", fired_at="2025-11-28T08:00:00")])


# --- rendering --------------------------------------------------------------------------------------------------


def test_the_text_rendering_has_a_row_per_rule_and_a_verdict_per_target(mixed):
    text = mixed.render_text()
    rows = {ln.split()[0]: ln.split() for ln in text.splitlines() if ln.split() and ln.split()[0] in RULES}
    assert set(rows) == set(RULES)
    assert rows[CORRIDOR_DEVIATION][1:4] == ["1", "1", "1.000"]
    assert "2.5 min" in " ".join(rows[CORRIDOR_DEVIATION])  # median time to alert, 150 s
    assert "precision: 0.625 (5 of 8 alerts" in text
    assert "false alerts per 100 clean trips: 25.00 (1 alerts on 4 clean trips)" in text
    assert any(ln.split()[:3] == ["FAIL", "recall", SIGNAL_LOSS] for ln in text.splitlines())
    assert any(ln.split()[:3] == ["n/a", "recall", WRONG_DESTINATION] for ln in text.splitlines())
    assert "T2  signal_loss  started 2025-11-28T01:16:40Z" in text
    assert text.rstrip().endswith("result: FAIL")


def test_the_json_rendering(mixed):
    data = json.loads(mixed.to_json())
    assert data["precision"] == pytest.approx(0.625) and data["passed"] is False
    assert set(data["rules"]) == set(RULES)
    assert data["rules"][CORRIDOR_DEVIATION]["tta_median_s"] == 150
    assert data["rules"][CORRIDOR_DEVIATION]["allowance_s"] == 150
    recall = {t["rule"]: t["passed"] for t in data["targets"] if t["name"] == "recall"}
    assert recall[SIGNAL_LOSS] is False and recall[WRONG_DESTINATION] is None
    assert data["missed"] == [{"trip": "T2", "kind": SIGNAL_LOSS, "variant": None, "start": B + 1000}]


# --- the command ------------------------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path):
    truth = tmp_path / "truth.jsonl"
    truth.write_text("\n".join([
        line(trip="T0001", device_id="d1", clean=False, look=None,
             incidents=[{"kind": "corridor_deviation", "start": B + 600, "end": B + 1200, "lat": 12.7, "lon": 101.1}]),
        line(trip="T0002", device_id="d2", clean=False, look=None,
             incidents=[{"kind": "unauthorised_stop", "start": B + 600, "end": B + 1800, "lat": 12.7, "lon": 101.1}]),
        line(trip="T0003", device_id="d3", clean=True, look="rest_stop", incidents=[]),
    ]) + "\n", encoding="utf-8")  # fmt: skip
    alerts = tmp_path / "alerts.jsonl"
    alerts.write_text("\n".join([
        line(trip="T0001", rule="corridor_deviation", fired_at=B + 750, raised_at=B + 751, episode_at=B + 615),
        line(trip="T0002", rule="unauthorised_stop", fired_at=B + 1230, raised_at=B + 1231, episode_at=B + 615),
    ]) + "\n", encoding="utf-8")  # fmt: skip
    return truth, alerts


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command("evaluate", *args, stdout=out, **options)
    return out.getvalue()


def test_the_command_prints_the_table(files):
    truth, alerts = files
    text = run(truth=str(truth), alerts=str(alerts))
    assert "corridor_deviation" in text and "precision: 1.000 (2 of 2 alerts" in text
    assert "result: PASS" in text  # stop: 630 s ≤ 10 min + 30 s; corridor: 150 s ≤ 2 min + 30 s


def test_the_command_json_and_slack(files):
    truth, alerts = files
    data = json.loads(run(truth=str(truth), alerts=str(alerts), json=True))
    assert data["alerts"] == 2 and data["precision"] == 1.0 and data["passed"] is True
    assert data["slack_s"] == 900
    tight = json.loads(run(f"--truth={truth}", f"--alerts={alerts}", "--json", "--slack-minutes=0"))
    assert tight["slack_s"] == 0 and tight["passed"] is True  # both alerts lie inside their incidents


def test_missed_targets_report_but_do_not_fail_unless_strict(files, tmp_path):
    truth, _ = files
    alerts = tmp_path / "late.jsonl"
    alerts.write_text(line(trip="T0001", rule="corridor_deviation", fired_at=B + 1200 + 901) + "\n")
    text = run(truth=str(truth), alerts=str(alerts))
    assert "result: FAIL" in text
    with pytest.raises(
        CommandError, match="targets missed: recall corridor_deviation, recall unauthorised_stop"
    ) as e:
        run(truth=str(truth), alerts=str(alerts), strict=True)
    assert e.value.returncode == 1
    run(truth=str(truth), alerts=str(files[1]), strict=True)  # all met: no error


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(B + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def scenario_json(**settings) -> dict:
    """A scenario in the "wastelink.scenario/1" shape, with what the evaluator reads (docs/scenarios.md)."""
    return {
        "format": "wastelink.scenario/1", "name": "tiny", "seed": 1, "settings": settings,
        "world": {"sites": [], "vehicles": [{"id": "v1", "plate": "70-1234", "device_id": "d1"}]},
        "trips": [{"id": "T0001", "vehicle": "v1", "from": "g", "to": "r", "start": iso(0),
                   "expected_arrival": iso(3600), "delivered_at": iso(3000),
                   "points": [[int(B + s), 12.7, 101.1, 40.0] for s in (0, 60, 120, 190, 250)]}],
    }  # fmt: skip


def test_reading_a_scenario_file():
    trips, settings = scenario_trips(scenario_json(stop_minutes=12))
    assert settings == {"stop_minutes": 12}
    assert trips == {"T0001": ScenarioTrip("T0001", "d1", B, B + 3000, 60.0)}  # gaps 60, 60, 70, 60
    no_delivery = scenario_json()
    del no_delivery["trips"][0]["delivered_at"]
    assert scenario_trips(no_delivery)[0]["T0001"].end == B + 250  # the last point
    truth = [trip("T0001", inc(CORRIDOR_DEVIATION, 600, 900)), trip("T0002"), trip("T0003", interval_s=5)]
    filled = with_scenario(truth, trips)
    assert (filled[0].interval_s, filled[0].start, filled[0].end) == (60.0, B, B + 3000)
    assert filled[1:] == truth[1:]  # not in the scenario: as they were
    with pytest.raises(EvaluationInputError, match="scenario trips\\[0\\]: expected an object with an id"):
        scenario_trips({"trips": [{"start": iso(0)}]})


def test_the_scenario_gives_intervals_and_rule_settings(files, tmp_path):
    truth, alerts = files
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(scenario_json(stop_minutes=12)))
    data = json.loads(run(truth=str(truth), alerts=str(alerts), scenario=str(scenario), json=True))
    assert data["rules"][CORRIDOR_DEVIATION]["allowance_s"] == 180  # 2 min + T0001's 60 s between points
    assert (
        data["rules"][UNAUTHORISED_STOP]["allowance_s"] == 12 * 60 + 30
    )  # the scenario's settings; T0002: 30 s
    data = json.loads(run(truth=str(truth), alerts=str(alerts), scenario=str(scenario), json=True,
                          interval_seconds=5))  # fmt: skip
    assert data["rules"][UNAUTHORISED_STOP]["allowance_s"] == 12 * 60 + 5
    scenario.write_text(json.dumps(scenario_json(stop_minute=12)))
    with pytest.raises(CommandError, match="unknown detection setting") as e:
        run(truth=str(truth), alerts=str(alerts), scenario=str(scenario))
    assert e.value.returncode == 2


def test_the_command_refuses_bad_input(files, tmp_path):
    truth, alerts = files
    with pytest.raises(CommandError, match="no such file"):
        run(truth=str(tmp_path / "nope.jsonl"), alerts=str(alerts))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(line(trip="T1", rule="corridor_deviation", fired_at=B) + "\n{oops\n")
    with pytest.raises(CommandError, match="bad.jsonl line 2: not JSON") as e:
        run(truth=str(truth), alerts=str(bad))
    assert e.value.returncode == 2


def test_the_wastelink_command_exit_status(files, tmp_path):
    truth, alerts = files
    wastelink = Path(sys.executable).with_name("wastelink")
    env = {**os.environ, "WASTELINK_HOME": str(tmp_path)}  # nothing of the working tree is touched

    def status(*args):
        done = subprocess.run([wastelink, "evaluate", "--truth", truth, *args], capture_output=True, text=True,
                              timeout=120, cwd=tmp_path, env=env)  # fmt: skip
        return done.returncode, done.stdout, done.stderr

    code, out, _ = status("--alerts", alerts)
    assert code == 0 and "result: PASS" in out
    empty = tmp_path / "none.jsonl"
    empty.write_text("")
    code, out, _ = status("--alerts", empty)
    assert code == 0 and "result: FAIL" in out  # targets missed, the report ran
    code, _, err = status("--alerts", empty, "--strict")
    assert code == 1 and "targets missed" in err
    code, _, err = status("--alerts", tmp_path / "missing.jsonl")
    assert code == 2 and "no such file" in err


# --- alerts from the database -----------------------------------------------------------------------------------


def test_scenario_trips_are_mapped_by_device_and_time_window():
    from wastelink.detection.services.evaluation_source import scenario_trip_ids
    from wastelink.tracking.models import Trip

    def at(seconds: float) -> datetime:
        return datetime.fromtimestamp(B + seconds, UTC)

    truth = [
        trip("T1", inc(CORRIDOR_DEVIATION, 600, 1200), device="d1"),
        trip("T2", inc(CORRIDOR_DEVIATION, 86_400 + 600, 86_400 + 900), device="d1"),  # the next day
        TruthTrip(
            "T3", "d1", True, None, (), None, B + 2 * 86_400, B + 2 * 86_400 + 3600
        ),  # a window of its own
        trip("T4", device="d2"),  # the only trip of its device: mapped without times
        trip("T5", device="d3"),
        trip("T6", device="d3"),  # two clean trips on one device and no times: cannot tell
    ]
    trips = [
        Trip(id=1, device_id="d1", started_at=at(0), ended_at=at(3600)),
        Trip(
            id=2, device_id="d1", started_at=at(86_400), ended_at=None
        ),  # open: overlaps T2 and T3; T2 starts nearer
        Trip(id=3, device_id="d1", started_at=at(2 * 86_400 + 60), ended_at=at(2 * 86_400 + 3000)),
        Trip(id=4, device_id="d2", started_at=at(0), ended_at=at(3600)),
        Trip(id=5, device_id="d3", started_at=at(0), ended_at=at(3600)),
        Trip(id=6, device_id="d1", started_at=at(5 * 86_400), ended_at=at(5 * 86_400 + 600)),  # nothing then
        Trip(id=7, device_id="d9", started_at=at(0), ended_at=at(600)),  # a device the truth does not know
        Trip(
            id=8, device_id="d3", started_at=at(0), ended_at=at(600)
        ),  # its manifest names its scenario trip:
    ]
    trips[-1].manifest_number = "SIM-T6"
    assert scenario_trip_ids(truth, trips) == {1: "T1", 2: "T2", 3: "T3", 4: "T4", 8: "T6"}


@pytest.mark.django_db
def test_the_command_reads_alerts_from_the_database(manifest_world, tmp_path):  # noqa: F811
    from wastelink.detection.models import Alert
    from wastelink.manifests.services import custody
    from wastelink.tracking.models import Trip

    w = manifest_world
    m = new_manifest(w)
    custody.schedule(actor=w.users["gen_a_cert"], number=m.number, data=sign(m))
    custody.pickup(actor=w.users["driver"], number=m.number, data=sign(m))
    t = Trip.objects.get(manifest=m)
    start = t.started_at.timestamp()
    fired = t.started_at + timedelta(minutes=12)
    Alert.objects.create(trip=t, manifest=m, vehicle=t.vehicle, rule=CORRIDOR_DEVIATION, severity="medium",
                         episode_at=fired - timedelta(minutes=2), fired_at=fired,
                         raised_at=fired + timedelta(seconds=3))  # fmt: skip
    truth = tmp_path / "truth.jsonl"
    truth.write_text("\n".join([
        line(trip="T0001", device_id=t.device_id, clean=False, look=None,
             incidents=[{"kind": "corridor_deviation", "start": start + 600, "end": start + 900}]),
        line(trip="T0002", device_id=t.device_id, clean=False, look=None,  # the same truck, a day later
             incidents=[{"kind": "hot_spot_entry", "start": start + 86_400, "end": start + 86_460}]),
    ]))  # fmt: skip
    data = json.loads(run(truth=str(truth), json=True))
    assert data["alerts"] == 1 and data["alerts_on_unknown_trips"] == 0
    assert data["rules"][CORRIDOR_DEVIATION]["detected"] == 1
    assert data["rules"][CORRIDOR_DEVIATION]["tta_median_s"] == pytest.approx(120)
    assert data["rules"][HOT_SPOT_ENTRY]["detected"] == 0


@pytest.mark.django_db
def test_a_loaded_scenario_trip_is_found_by_its_manifest_and_moved_back_in_time(manifest_world, tmp_path):  # noqa: F811
    """A load moved the scenario to now: the alert's fix time, less the move, lands in the truth's incident."""
    from wastelink.detection.models import Alert
    from wastelink.manifests.models import Manifest
    from wastelink.manifests.services import custody
    from wastelink.tracking.models import Trip

    w = manifest_world
    m = new_manifest(w)
    custody.schedule(actor=w.users["gen_a_cert"], number=m.number, data=sign(m))
    custody.pickup(actor=w.users["driver"], number=m.number, data=sign(m))
    Manifest.objects.filter(pk=m.pk).update(number="SIM-T0001")
    t = Trip.objects.get(manifest=m)
    fired = t.started_at + timedelta(seconds=750)  # the scenario started at B: this is B + 750 there
    Alert.objects.create(trip=t, manifest=m, vehicle=t.vehicle, rule=CORRIDOR_DEVIATION, severity="medium",
                         episode_at=fired - timedelta(seconds=135), fired_at=fired, raised_at=fired)  # fmt: skip
    truth = tmp_path / "truth.jsonl"
    truth.write_text(line(trip="T0001", device_id="another-device", clean=False, look=None,  # not the loaded truck's
                          incidents=[{"kind": "corridor_deviation", "start": B + 600, "end": B + 1200}]))  # fmt: skip
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(scenario_json()))
    data = json.loads(run(truth=str(truth), scenario=str(scenario), json=True))
    assert data["alerts"] == 1 and data["alerts_on_unknown_trips"] == 0
    assert data["rules"][CORRIDOR_DEVIATION]["detected"] == 1
    assert data["rules"][CORRIDOR_DEVIATION]["tta_median_s"] == pytest.approx(150)
    unmoved = json.loads(run(truth=str(truth), json=True))  # without the scenario the move is unknown
    assert unmoved["rules"][CORRIDOR_DEVIATION]["detected"] == 0 and unmoved["true_alerts"] == 0
