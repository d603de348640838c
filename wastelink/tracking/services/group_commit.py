"""Group commit: points that arrive one per request (OsmAnd over HTTP) written in shared transactions.

Each point is still acknowledged only after the transaction holding it commits, with the result it would have had
alone in that order (a repeat queued behind its original is a duplicate); concurrent requests cost one transaction
per batch instead of one each. `GroupCommit` serves threads (Django views), `AsyncGroupCommit` an asyncio server
(the OsmAnd port) with one writer thread.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from datetime import datetime

from django.db import connection
from django.utils import timezone

from wastelink.core.telemetry import Fix
from wastelink.tracking.services import ingest as pipeline
from wastelink.tracking.services.ingest import Result


def write_points(points: list[tuple[Fix, datetime]]) -> list[Result | Exception]:
    """The points in one transaction, a result each; if the batch fails, each point alone, so that an error reaches
    only the request whose point caused it."""
    try:
        results = pipeline.ingest([fix for fix, _now in points], now=max(now for _fix, now in points))
        return [Result(0, r.status, r.reason) for r in results]
    except Exception as exc:
        if len(points) == 1:
            return [exc]
    outcomes: list[Result | Exception] = []
    for fix, now in points:
        try:
            outcomes.append(pipeline.ingest([fix], now=now)[0])
        except Exception as one:
            outcomes.append(one)
    return outcomes


class _Waiter:
    __slots__ = ("fix", "now", "event", "lead", "result", "error")

    def __init__(self, fix: Fix, now: datetime) -> None:
        self.fix, self.now = fix, now
        self.event = threading.Event()
        self.lead = False
        self.result: Result | None = None
        self.error: BaseException | None = None


class GroupCommit:
    """One point per request (OsmAnd over HTTP), written in shared transactions: group commit.

    Each request thread queues its point. One thread at a time, the leader, takes every point queued (up to
    `max_batch`), runs them through `ingest()` in one transaction, hands each waiting thread its own result, and passes
    the lead to the first thread still waiting. Every point is still acknowledged only after the transaction holding
    it commits, and gets the result it would have had alone in that order (a repeat queued behind its original is a
    duplicate). Concurrent requests thus cost one transaction per batch instead of one each, and never wait for the
    database's write lock (SQLite lets one writer at a time, and a waiting writer polls with growing sleeps). If a
    batch fails, its points are retried one by one, so an error reaches only the request whose point caused it.
    """

    max_batch = 1_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[_Waiter] = []
        self._busy = False

    def submit(self, fix: Fix, now: datetime) -> Result:
        if connection.in_atomic_block:  # the caller's own transaction: the point must be written inside it
            return pipeline.ingest([fix], now=now)[0]
        waiter = _Waiter(fix, now)
        with self._lock:
            self._pending.append(waiter)
            if not self._busy:
                self._busy = waiter.lead = True
        if not waiter.lead:
            waiter.event.wait()  # either done, or handed the lead
        if waiter.lead:
            self._lead()
        if waiter.error is not None:
            raise waiter.error
        assert waiter.result is not None
        return waiter.result

    def _lead(self) -> None:
        with self._lock:
            batch = self._pending[: self.max_batch]
            del self._pending[: len(batch)]
        try:
            self._write(batch)
        finally:
            with self._lock:
                if self._pending:
                    successor = self._pending[0]
                    successor.lead = True
                else:
                    successor = None
                    self._busy = False
            for waiter in batch:
                if not waiter.lead:
                    waiter.event.set()
            if successor is not None:
                successor.event.set()

    @staticmethod
    def _write(batch: list[_Waiter]) -> None:
        for waiter, outcome in zip(batch, write_points([(w.fix, w.now) for w in batch]), strict=True):
            if isinstance(outcome, Result):
                waiter.result = outcome
            else:
                waiter.error = outcome


group_commit = GroupCommit()


def ingest_one(fix: Fix, *, now: datetime | None = None) -> Result:
    """One point, as OsmAnd over HTTP sends them: written with the points of concurrent requests (`GroupCommit`)."""
    return group_commit.submit(fix, now or timezone.now())


class AsyncGroupCommit:
    """Group commit for an asyncio server (the OsmAnd port): one writer thread, no thread per request.

    A request awaits a future; the writer thread takes every point queued (up to `max_batch`), runs them through
    `ingest()` in one transaction with its own database connection, and settles each future on its request's event
    loop once the transaction has committed, with the point's own result (or error: as in `GroupCommit`, a failed
    batch is retried point by point). A request costs the server a queue entry instead of a thread, so points
    arrive in batches as large as the time a transaction takes."""

    max_batch = 1_000

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def submit(self, fix: Fix, now: datetime) -> Result:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._start()
        self._queue.put((fix, now, future, loop))
        return await future

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="osmand-writer", daemon=True)
                    self._thread.start()

    def stop(self) -> None:
        """End the writer thread once what is queued before is written (a new submit starts another)."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(10)

    def _run(self) -> None:
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                while len(batch) < self.max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        self._queue.put(None)  # stop after this batch
                        break
                    batch.append(item)
                self._write(batch)
        finally:
            connection.close()  # the thread's own connection

    @staticmethod
    def _write(batch: list) -> None:
        # The connection is kept between batches (a new one per batch would repeat the SQLite set-up, and closing
        # the last one checkpoints); one that failed and can no longer be used is replaced.
        if connection.connection is not None and connection.errors_occurred and not connection.is_usable():
            connection.close()
        try:
            outcomes: list = write_points([(fix, now) for fix, now, _future, _loop in batch])
        except BaseException as exc:  # noqa: BLE001 - the thread must outlive any failure; each request hears it
            outcomes = [exc] * len(batch)
        for (_fix, _now, future, loop), outcome in zip(batch, outcomes, strict=True):
            try:
                loop.call_soon_threadsafe(_settle, future, outcome)
            except RuntimeError:  # that request's event loop is closed: nobody waits for the answer
                pass


def _settle(future: asyncio.Future, outcome: Result | BaseException) -> None:
    if future.done():  # the request went away (client disconnected, server stopping)
        return
    if isinstance(outcome, Result):
        future.set_result(outcome)
    else:
        future.set_exception(outcome)


async_group_commit = AsyncGroupCommit()
