"""`wastelink scenario load FILE [--replay] [--speed X]` and `wastelink scenario replay FILE`.

Load puts a scenario's world and trips into the platform (docs/scenarios.md); replay sends its points through the
ingest pipeline with detection running, as a live fleet would. `wastelink evaluate` then scores the alerts.
"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from wastelink.simulation.load import ScenarioError, load
from wastelink.simulation.replay import replay


def read(path: str) -> dict:
    try:
        from wastelink.simulation.scenario import read_scenario_dict
    except ImportError:  # pragma: no cover - the format module ships with the simulator
        read_scenario_dict = None
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise CommandError(f"{path}: not JSON ({exc})") from exc
    if read_scenario_dict is not None:
        try:
            return read_scenario_dict(raw)
        except ValueError as exc:
            raise CommandError(f"{path}: {exc}") from exc
    return raw


class Command(BaseCommand):
    help = "Load a simulation scenario into the platform, and replay its points through ingest and detection."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["load", "replay"])
        parser.add_argument("file", help="scenario JSON (wastelink simulate writes DIR/scenario.json)")
        parser.add_argument("--replay", action="store_true", help="after loading, replay the points")
        parser.add_argument("--speed", type=float, default=None,
                            help="pace the replay at X × real time (default: as fast as possible)")  # fmt: skip

    def handle(self, *args, action, file, replay: bool, speed, **options):
        scenario = read(file)
        try:
            if action == "load":
                loaded = load(scenario)
                added = ", ".join(f"{n} {k}" for k, n in sorted(loaded.created.items())) or "nothing new"
                shift = f"; times moved by {loaded.shift}" if loaded.shift else ""
                self.stdout.write(f"scenario {scenario.get('name', '')!r}: {len(loaded.trips)} trips ({added}){shift}")
            if action == "replay" or replay:
                self._replay(scenario, speed)
        except ScenarioError as exc:
            raise CommandError(str(exc)) from exc

    def _replay(self, scenario: dict, speed: float | None) -> None:
        def progress(done: int, total: int) -> None:
            if sys.stderr.isatty() or done == total:
                width = 30
                filled = int(width * done / max(total, 1))
                self.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} points", ending="")
                if done == total:
                    self.stderr.write("")

        result = replay(scenario, speed=speed, progress=progress)
        rate = result.points / result.seconds if result.seconds else 0
        self.stdout.write(f"replayed {result.points} points ({result.accepted} stored) and {result.deliveries} deliveries "
                          f"in {result.seconds:.1f} s ({rate:,.0f} points/s); {result.alerts} alerts raised")  # fmt: skip
