"""Detection in a server process: a thread that takes the bus's messages off a queue and runs the engine.

Ingest never waits for detection: the bus callback only enqueues. The thread handles whatever has queued up as one
batch (so a burst costs one fence query and one pass), and once a second lets time pass for silent trips.
"""

from __future__ import annotations

import logging
import queue
import threading

from django.db import close_old_connections

from wastelink.tracking.bus import Message, TelemetryBus, get_bus

from .engine import AlertEngine, notifier

log = logging.getLogger(__name__)


class DetectionWorker:
    tick_s = 1.0
    max_batch = 5_000

    def __init__(self, engine: AlertEngine | None = None, bus: TelemetryBus | None = None) -> None:
        self.engine = engine or AlertEngine()
        self.bus = bus or get_bus()
        self._queue: queue.SimpleQueue[list[Message]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe = None

    def _enqueue(self, messages: list[Message]) -> None:
        wanted = [m for m in messages if m.get("type") in ("position", "trip_closed", "trip_opened")]
        if wanted:
            self._queue.put(wanted)

    def start(self) -> DetectionWorker:
        notifier.background = True  # in a server, webhooks and email never hold up detection
        self._unsubscribe = self.bus.subscribe(self._enqueue)
        self._thread = threading.Thread(target=self._run, name="detection", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            batch: list[Message] = []
            try:
                batch += self._queue.get(timeout=self.tick_s)
                while len(batch) < self.max_batch:
                    batch += self._queue.get_nowait()
            except queue.Empty:
                pass
            try:
                if batch:
                    self.engine.handle(batch)
                else:
                    self.engine.tick()
                    close_old_connections()
            except Exception:  # keep detecting: one bad batch must not stop the thread
                log.exception("detection batch failed (%d messages)", len(batch))
                close_old_connections()
