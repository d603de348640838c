"""`wastelink simulate`: synthetic trips with labelled incidents, their offline check, and a drive over OsmAnd HTTP.

    wastelink simulate --trips 400 --seed 7 --start 2025-06-02T00:00:00Z --out sim/ [--world-from db|none] [--check]
                       [--rule-settings '{"overdue_grace_minutes": 30}'] [--difficulty standard|hard]
    wastelink simulate --check --scenario sim/scenario.json [--truth sim/truth.jsonl]
    wastelink simulate --drive http://127.0.0.1:5055/ --scenario sim/scenario.json [--speed 60] [--shift-to-now]

The format and the truth are described in docs/scenarios.md.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from wastelink.core.detection import RULES
from wastelink.simulation.drive import DriveError, DriveResult, drive_scenario
from wastelink.simulation.generate import DIFFICULTIES, generate
from wastelink.simulation.offline import evaluate, report
from wastelink.simulation.scenario import (
    ScenarioError,
    read_scenario,
    read_truth,
    write_scenario,
    write_truth,
)
from wastelink.simulation.world import build_world, database_candidates, synthetic_candidates
from wastelink.web.management.dbcheck import require_database

DEFAULT_START = "2025-06-02T00:00:00Z"  # a Monday, 07:00 in Bangkok: a fixed default keeps runs reproducible


class Command(BaseCommand):
    help = (
        "Synthetic trips with labelled incidents (--trips), their offline check (--check), a drive (--drive)"
    )

    def add_arguments(self, parser):
        parser.add_argument("--trips", type=int, help="generate this many trips")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--start", default=DEFAULT_START, help=f"ISO 8601 UTC time of the first trips ({DEFAULT_START})"
        )
        parser.add_argument("--out", help="folder for scenario.json and truth.jsonl")
        parser.add_argument("--name", help="the scenario's name (sim-<seed>-<trips>)")
        parser.add_argument("--world-from", choices=["db", "none"], default="db",
                            help="db: the registry's establishments, permit lines and vehicles (the demo data); "
                                 "none: a synthetic world around the estates' reference coordinates")  # fmt: skip
        parser.add_argument("--rule-settings", help="the scenario's detection settings (RuleSettings fields) as JSON, "
                                                      'e.g. {"overdue_grace_minutes": 30}')  # fmt: skip
        parser.add_argument("--difficulty", choices=DIFFICULTIES, default="standard",
                            help="standard: incidents well past their thresholds, innocent looks well within; "
                                 "hard: also the cases near the thresholds (docs/scenarios.md)")  # fmt: skip
        parser.add_argument("--check", action="store_true", help="run the detector offline against the truth")
        parser.add_argument("--scenario", help="scenario file to check or drive")
        parser.add_argument("--truth", help="truth file (default: truth.jsonl beside the scenario)")
        parser.add_argument("--drive", metavar="URL", help="send the scenario's fixes to this OsmAnd server")
        parser.add_argument("--speed", type=float, default=1.0, help="fix time runs this many times faster than "
                                                                     "the wall clock (1: real time; 0: flat out)")  # fmt: skip
        parser.add_argument(
            "--shift-to-now", action="store_true", help="move the scenario so its first fix is now"
        )
        parser.add_argument("--concurrency", type=int, default=64, help="requests in flight at most")

    def handle(self, *args, **o):
        try:
            if o["drive"]:
                return self._drive(o)
            if o["trips"] is not None:
                return self._generate(o)
            if o["check"]:
                return self._check(Path(self._need(o, "scenario")), o["truth"])
        except (ScenarioError, DriveError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        raise CommandError(
            "say what to do: --trips N --out DIR, --check --scenario FILE, or --drive URL --scenario FILE"
        )

    def _need(self, o, name: str) -> str:
        if not o[name]:
            raise CommandError(f"--{name.replace('_', '-')} is required here")
        return o[name]

    def _generate(self, o) -> None:
        out = Path(self._need(o, "out"))
        trips, seed = o["trips"], o["seed"]
        if trips < 1:
            raise CommandError("--trips must be at least 1")
        if o["difficulty"] not in DIFFICULTIES:
            raise CommandError(f"--difficulty must be one of {', '.join(DIFFICULTIES)}")
        try:
            start = datetime.fromisoformat(o["start"].replace("Z", "+00:00"))
        except ValueError as exc:
            raise CommandError(f"--start: not an ISO 8601 time: {o['start']!r}") from exc
        if start.tzinfo is None:
            raise CommandError("--start needs its UTC offset (e.g. 2025-06-02T00:00:00Z)")
        start = start.astimezone(UTC)
        rng = random.Random(f"world:{seed}")
        vehicles = min(80, max(3, math.ceil(trips / 7)))
        if o["world_from"] == "db":
            require_database()
            candidates = database_candidates(rng, vehicles=vehicles)
        else:
            candidates = synthetic_candidates(rng, vehicles=vehicles)
        built = build_world(candidates, rng)
        for warning in built.warnings:
            self.stderr.write(f"warning: {warning}")
        w = built.world
        self.stdout.write(f"world: {len(w.sites)} sites, {len(w.routes)} routes, {len(w.zones)} zones, "
                          f"{len(w.vehicles)} vehicles")  # fmt: skip
        step = max(1, trips // 10)

        def progress(done: int, total: int) -> None:
            if done % step == 0 or done == total:
                self.stdout.write(f"  trips {done}/{total}")

        try:
            settings = json.loads(o["rule_settings"]) if o["rule_settings"] else {}
        except json.JSONDecodeError as exc:
            raise CommandError(f"--rule-settings: not JSON ({exc})") from exc
        if not isinstance(settings, dict):
            raise CommandError("--rule-settings must be a JSON object")
        difficulty = o["difficulty"]
        name = o["name"] or (f"sim-{seed}-{trips}" + ("" if difficulty == "standard" else f"-{difficulty}"))
        scenario, truth = generate(built, trips=trips, seed=seed, start=start, name=name, settings=settings,
                                   progress=progress, difficulty=difficulty)  # fmt: skip
        out.mkdir(parents=True, exist_ok=True)
        write_scenario(scenario, out / "scenario.json")
        write_truth(truth, out / "truth.jsonl")
        kinds = Counter(x.kind for line in truth for x in line.incidents)
        looks = Counter(line.look or "plain" for line in truth if line.clean)
        self.stdout.write(f"{len(scenario.trips)} trips, {sum(len(t.points) for t in scenario.trips)} points, "
                          f"{sum(kinds.values())} incidents, {sum(looks.values())} clean trips → {out}")  # fmt: skip
        self.stdout.write("incidents: " + ", ".join(f"{k} {kinds[k]}" for k in RULES))
        variants = Counter((x.kind, x.variant) for line in truth for x in line.incidents)
        if any(v for _, v in variants):
            named = sorted(variants.items(), key=lambda kv: (RULES.index(kv[0][0]), kv[0][1] or ""))
            self.stdout.write("variants: " + ", ".join(f"{k}/{v or 'standard'} {n}" for (k, v), n in named))
        self.stdout.write("clean: " + ", ".join(f"{k} {n}" for k, n in sorted(looks.items())))
        if o["check"]:
            self._check(out / "scenario.json", None)

    def _check(self, path: Path, truth_path: str | None) -> None:
        scenario = read_scenario(path)
        truth = read_truth(truth_path or path.with_name("truth.jsonl"))
        self.stdout.write(report(evaluate(scenario, truth)))

    def _drive(self, o) -> None:
        scenario = read_scenario(self._need(o, "scenario"))
        if o["speed"] < 0:
            raise CommandError("--speed must be 0 (flat out) or more")

        def progress(r: DriveResult) -> None:
            self.stdout.write(f"  {r.line()}")

        result = drive_scenario(o["drive"], scenario, speed=o["speed"], shift_to_now=o["shift_to_now"],
                                concurrency=o["concurrency"], progress=progress)  # fmt: skip
        if result.shift_s:
            self.stdout.write(f"shifted by {result.shift_s} s so that the first fix is now")
        self.stdout.write(result.line())
        for reason, n in result.reasons.most_common(10):
            self.stdout.write(f"  refused {n}: {reason}")
