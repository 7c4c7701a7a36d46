"""Blocking store calls off the event loop, many chargers' writes to one commit (group commit).

A store call blocks on disk: ``synchronous=FULL`` fsyncs on every commit. Run one call per worker-thread
hop and one commit per call, and the store becomes the whole server's queue: a thousand chargers wait in
line behind one fsync each. Here, one **writer thread** takes every call queued since its last commit as
the next group, runs it inside :meth:`Store.group` (one transaction, each call in its own savepoint) and
answers all its callers after the single commit. A caller is never answered before the commit that
makes its write durable (R8.1, "committed before acknowledged").

Why a thread of its own rather than ``trio.to_thread`` per group: the next group starts the moment the
previous commit ends, in the writer thread, whatever the event loop is busy with. With a hop per group,
the next group could only start once the loop had noticed the last one finished (a loop turn, often a
millisecond under load), and that wait is most of a write's latency at moderate load. The thread is
started on the first call and ends after :data:`IDLE_EXIT` seconds without work.

Callers sleep with ``wait_task_rescheduled`` (no Event, no channel: this is on every message's path) and
are woken through the Trio token of their run. Like ``trio.to_thread.run_sync``, a submitted call
cannot be cancelled: the caller waits for the outcome even when cancelled, since the write may already
be durable.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import trio

from engine.store import Store

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: calls per group; bounds the time one group holds the write lock and the latency it adds
MAX_GROUP = 256
#: seconds the writer thread waits for work before it ends (the next call starts a new one)
IDLE_EXIT = 5.0


class _Job(Generic[T]):
    """One submitted call: its operation, its waiting task, then its outcome."""

    __slots__ = ("done", "error", "operation", "task", "token", "value")

    def __init__(self, operation: Callable[[], T]):
        self.operation = operation
        self.task = trio.lowlevel.current_task()  # the caller, asleep until the outcome is known
        self.token = trio.lowlevel.current_trio_token()  # how the writer thread reaches its run
        self.value: T | None = None
        self.error: BaseException | None = None
        self.done = False

    def result(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


def _refuse_abort(_raise_cancel: object) -> trio.lowlevel.Abort:
    # A store call cannot be abandoned half-way: its caller waits for the outcome even when cancelled.
    return trio.lowlevel.Abort.FAILED


class StoreRunner:
    """Runs blocking calls on ``store`` in its writer thread, grouped into shared commits."""

    def __init__(self, store: Store, *, max_group: int = MAX_GROUP, idle_exit: float = IDLE_EXIT):
        self.store = store
        self.max_group = max_group
        self.idle_exit = idle_exit
        self._work = threading.Condition()  # guards _queue and _writer
        self._queue: list[_Job[Any]] = []
        self._writer: threading.Thread | None = None
        #: figures for benchmarks and the operator: groups written and calls in them
        self.groups = 0
        self.calls = 0

    async def run(self, operation: Callable[[], T]) -> T:
        """Run ``operation`` (a function calling the store) and return its result once durable."""
        job: _Job[T] = _Job(operation)
        with self._work:
            self._queue.append(job)
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write, name="ocpp-trio store writer", daemon=True
                )
                self._writer.start()
            else:
                self._work.notify()
        # No checkpoint since the append: the writer's wake-up (a callback on this run's loop) cannot
        # run before this task sleeps.
        await trio.lowlevel.wait_task_rescheduled(_refuse_abort)
        return job.result()

    def _write(self) -> None:
        """The writer thread: group after group until idle for ``idle_exit`` seconds."""
        batch: list[_Job[Any]] = []
        try:
            while True:
                with self._work:
                    while not self._queue:
                        if not self._work.wait(self.idle_exit) and not self._queue:
                            self._writer = None
                            return
                    batch = self._queue[: self.max_group]
                    del self._queue[: self.max_group]
                self._run_group(batch)
                _answer(batch)
                batch = []
        except BaseException as exc:  # pragma: no cover - a bug here must not leave callers asleep
            logger.exception("store writer thread failed")
            with self._work:
                batch += self._queue
                self._queue.clear()
                self._writer = None
            for job in batch:
                if not job.done:
                    job.error, job.done = exc, True
            _answer(batch)
            raise

    def _run_group(self, batch: list[_Job[Any]]) -> None:
        """In the writer thread: every call of ``batch`` in one commit."""
        try:
            with self.store.group():
                for job in batch:
                    try:
                        job.value = job.operation()
                    except Exception as exc:  # that call's own failure; the others go on
                        job.error = exc
        except Exception as exc:
            # The commit (or the BEGIN) failed: none of the group is durable, so no caller may be told
            # its write succeeded; reads fail too, which is harmless.
            logger.error("store: a group of %d calls was not committed: %s", len(batch), exc)
            for job in batch:
                job.error = exc
        self.groups += 1
        self.calls += len(batch)
        for job in batch:
            job.done = True


def _answer(batch: list[_Job[Any]]) -> None:
    """Wake the callers of ``batch`` (their outcomes are set): one callback per Trio run they came from."""
    runs: dict[trio.lowlevel.TrioToken, list[_Job[Any]]] = {}
    for job in batch:
        runs.setdefault(job.token, []).append(job)
    for token, jobs in runs.items():
        try:
            token.run_sync_soon(_reschedule, jobs)
        except trio.RunFinishedError:  # pragma: no cover - their run ended: nobody left to answer
            pass


def _reschedule(jobs: list[_Job[Any]]) -> None:
    for job in jobs:
        trio.lowlevel.reschedule(job.task)
