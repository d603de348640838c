"""The demo's simulated fleet: while `make demo` serves, trucks drive, the live map moves and alerts appear.

Round after round, the fleet builds a scenario from the demo data (`wastelink simulate`'s generator: realistic
GPS, incidents of every kind among clean trips), moves it so that its first pickups lie an hour and a half in
the past (trucks are already on the road, and the first alerts are there, when someone first looks), loads it as manifests in transit, and drives its fixes
through the ingest pipeline as the wall clock reaches them. Detection is the server's own worker: the fleet is
just devices. Manifests are numbered `SIM-F<round>-<n>`.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from django.db import close_old_connections

from .generate import generate
from .load import load
from .replay import replay
from .scenario import scenario_dict, shift_scenario
from .world import build_world, database_candidates

log = logging.getLogger(__name__)


class DemoFleet:
    def __init__(self, *, trips: int = 24, seed: int = 2569, head_start: timedelta = timedelta(minutes=90)) -> None:
        self.trips, self.seed, self.head_start = trips, seed, head_start
        self._stop = threading.Event()
        self.rounds = 0

    def start(self) -> DemoFleet:
        threading.Thread(target=self._run, name="demo-fleet", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.round()
            except Exception:  # the demo keeps going: log, wait, try a new round
                log.exception("demo fleet round failed")
                self._stop.wait(60)
            finally:
                close_old_connections()

    def round(self) -> dict:
        """One scenario, loaded and driven to its end (or until stopped)."""
        now = datetime.now(UTC).replace(microsecond=0)
        seed = self.seed + self.rounds
        self.rounds += 1
        rng = random.Random(f"fleet:{seed}")
        built = build_world(database_candidates(rng, vehicles=max(3, self.trips // 2)), rng)
        scenario, _truth = generate(built, trips=self.trips, seed=seed, start=now, name=f"demo-fleet-{seed}")
        first = min(t.start for t in scenario.trips)
        scenario = shift_scenario(scenario, int((now - self.head_start - first).total_seconds()))
        tag = now.strftime("%m%d%H%M")
        scenario = replace(scenario, trips=[replace(t, id=f"F{tag}-{k:02d}") for k, t in enumerate(scenario.trips, 1)])
        data = scenario_dict(scenario)
        loaded = load(data, keep_future=True)
        log.info("demo fleet: round %d, %d trips", self.rounds, len(loaded.trips))
        replay(data, live=True, detect=False, stop=self._stop.is_set)
        return data
