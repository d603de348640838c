"""`wastelink evaluate --truth truth.jsonl [--alerts alerts.jsonl] [--scenario scenario.json] [--json]`

Scores the detection rules against a scenario's ground truth (docs/detection.md, "Evaluation"). Alerts come from a
JSON-lines file, or, without --alerts, from the database. The scenario file, when given, supplies each trip's
reporting interval (the median spacing of its points), its time window, its start (to undo the move in time a load
may have made) and the rule settings it ran with. Prints the report with a pass/fail per target; exits 0 when the
report ran, even with targets missed, unless --strict (then 1); 2 for unreadable or invalid input.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from wastelink.core.detection import RuleSettings
from wastelink.core.evaluation import (
    DEFAULT_INTERVAL_S,
    AlertRecord,
    EvaluationInputError,
    TruthTrip,
    evaluate,
    read_alerts,
    read_truth,
    scenario_trips,
    with_scenario,
)

INPUT_ERROR = 2


def _read(path: str, what: str) -> str:
    p = Path(path)
    if not p.is_file():
        raise CommandError(f"{what} {path}: no such file", returncode=INPUT_ERROR)
    try:
        return p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{what} {path}: cannot read ({exc})", returncode=INPUT_ERROR) from exc


class Command(BaseCommand):
    help = "Score the detection rules against a scenario's ground truth: recall, precision, false alerts, time to alert"

    def add_arguments(self, parser):
        parser.add_argument("--truth", required=True, help="ground truth, JSON lines (one trip a line)")
        parser.add_argument("--alerts", help="alerts, JSON lines; without it, the alerts in the database")
        parser.add_argument(
            "--scenario", help="the scenario file: reporting intervals, trip windows, rule settings"
        )
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the report as JSON")
        parser.add_argument("--slack-minutes", type=float, default=15.0,
                            help="an alert up to this long after an incident's end still matches it (15)")  # fmt: skip
        parser.add_argument("--interval-seconds", type=float, default=DEFAULT_INTERVAL_S,
                            help="reporting interval of trips that give none (30)")  # fmt: skip
        parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")

    def handle(
        self, *args, truth, alerts, scenario, as_json, slack_minutes, interval_seconds, strict, **options
    ):
        if not math.isfinite(slack_minutes) or slack_minutes < 0:
            raise CommandError("--slack-minutes must be ≥ 0", returncode=INPUT_ERROR)
        if not math.isfinite(interval_seconds) or interval_seconds <= 0:
            raise CommandError("--interval-seconds must be > 0", returncode=INPUT_ERROR)
        try:
            lines = read_truth(_read(truth, "truth").splitlines(), name=truth)
            rule_settings: dict[str, Any] = dict(settings.WASTELINK.get("DETECTION") or {})
            starts: dict[str, float] = {}
            if scenario:
                try:
                    data = json.loads(_read(scenario, "scenario"))
                except ValueError as exc:
                    raise EvaluationInputError(f"scenario {scenario}: not JSON ({exc})") from None
                trips, overrides = scenario_trips(data)
                lines = with_scenario(lines, trips)
                starts = {trip: t.start for trip, t in trips.items()}
                rule_settings.update(overrides)
            try:
                thresholds = RuleSettings.from_mapping(rule_settings).threshold_minutes
            except (TypeError, ValueError) as exc:
                raise EvaluationInputError(f"detection settings: {exc}") from None
            if alerts:
                records = read_alerts(_read(alerts, "alerts").splitlines(), name=alerts)
            else:
                records = _alerts_from_database(lines, starts)
        except EvaluationInputError as exc:
            raise CommandError(str(exc), returncode=INPUT_ERROR) from None
        report = evaluate(lines, records, slack_s=slack_minutes * 60.0, thresholds_minutes=thresholds,
                          interval_s=interval_seconds)  # fmt: skip
        self.stdout.write(
            report.to_json() if as_json else report.render_text(), ending="\n" if as_json else ""
        )
        if strict and report.passed is not True:
            missed = [t.label() for t in report.targets if t.passed is False]
            raise CommandError(
                "targets missed: " + (", ".join(missed) or "none could be evaluated"), returncode=1
            )


def _alerts_from_database(lines: list[TruthTrip], starts: dict[str, float]) -> list[AlertRecord]:
    from wastelink.detection.services.evaluation_source import alerts_from_database
    from wastelink.web.management.dbcheck import require_database

    require_database()
    return alerts_from_database(lines, starts=starts)
