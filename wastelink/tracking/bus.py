"""The telemetry bus: how accepted positions and trip events reach the live stream (and, later, other machines).

An interface with adapters, as pluggable services are built elsewhere: the in-process adapter (default) hands
messages to subscribers in this process; a NATS JetStream adapter is planned for ingest across machines.

Messages are dicts of JSON values, except times, which travel as `datetime` in the process (a position's
`fix_time`): converting them to text for every point and back in the detection engine cost more than the rest of
publishing. Whatever leaves the process (the live stream, a future adapter) writes them with `wire`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

Message = dict[str, Any]


def wire(value: Any) -> str:
    """`default` for json.dumps of a message: times as ISO 8601."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class TelemetryBus(Protocol):
    def publish(self, messages: list[Message]) -> None: ...

    def subscribe(self, callback: Callable[[list[Message]], None]) -> Callable[[], None]: ...


class InProcessBus:
    """Synchronous fan-out to subscribers in this process; subscribers must not block (they enqueue)."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[list[Message]], None]] = []
        self._lock = threading.Lock()

    def publish(self, messages: list[Message]) -> None:
        if not messages:
            return
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            callback(messages)

    def subscribe(self, callback: Callable[[list[Message]], None]) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe


class AsyncQueueSubscriber:
    """Bridges the bus to one async consumer (an SSE connection): messages are put on its loop's queue."""

    def __init__(self, bus: TelemetryBus, keep: Callable[[Message], bool], maxsize: int = 1000) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=maxsize)
        self.keep = keep
        self.dropped = 0
        self.unsubscribe = bus.subscribe(self._on_messages)

    def _on_messages(self, messages: list[Message]) -> None:
        kept = [m for m in messages if self.keep(m)]
        if kept:
            self.loop.call_soon_threadsafe(self._put, kept)

    def _put(self, messages: list[Message]) -> None:
        for m in messages:
            try:
                self.queue.put_nowait(m)
            except asyncio.QueueFull:
                self.dropped += 1  # a slow viewer loses old positions, never blocks ingest


_bus: TelemetryBus | None = None


def get_bus() -> TelemetryBus:
    global _bus
    if _bus is None:
        _bus = InProcessBus()
    return _bus
