"""Blocking store calls off the event loop, many chargers' writes to one commit (group commit).

A store call blocks on disk: ``synchronous=FULL`` fsyncs on every commit. Run one call per worker-thread
hop and one commit per call, and the store becomes the whole server's queue: a thousand chargers wait in
line behind one fsync each. Here, calls that arrive while a group is being written wait together and
form the next group; the group runs in one worker thread inside :meth:`Store.group` (one transaction,
each call in its own savepoint) and all its callers are answered after its single commit. A caller is
never answered before the commit that makes its write durable (R8.1, "committed before acknowledged").

No background task is needed: the first caller that finds no group running leads (it hops to the
thread); calls arriving meanwhile wait; when the leader's own call is done it hands the lead to the
oldest waiter, so no caller serves others indefinitely.

Like ``trio.to_thread.run_sync`` (what this replaces), a submitted call cannot be cancelled: the caller
waits for the outcome even when cancelled, since the write may already be durable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import trio

from engine.store import Store

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: calls per group; bounds the time one group holds the write lock and the latency it adds
MAX_GROUP = 256


class _Job(Generic[T]):
    """One submitted call: its operation, its waiting task, then its outcome."""

    __slots__ = ("done", "error", "operation", "task", "value")

    def __init__(self, operation: Callable[[], T]):
        self.operation = operation
        self.task: trio.lowlevel.Task | None = None  # set while its caller sleeps
        self.value: T | None = None
        self.error: BaseException | None = None
        self.done = False

    def result(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]

    def wake(self) -> None:
        """Resume the sleeping caller: because its job is done, or to hand it the lead."""
        task, self.task = self.task, None
        if task is not None:
            trio.lowlevel.reschedule(task)


def _refuse_abort(_raise_cancel: object) -> trio.lowlevel.Abort:
    # A store call cannot be abandoned half-way: its caller waits for the outcome even when cancelled.
    return trio.lowlevel.Abort.FAILED


class StoreRunner:
    """Runs blocking calls on ``store`` in worker threads, grouped into shared commits."""

    def __init__(self, store: Store, *, max_group: int = MAX_GROUP):
        self.store = store
        self.max_group = max_group
        self._pending: list[_Job[Any]] = []
        self._leading = False  # a leader is running a group, or has been handed the lead
        #: figures for benchmarks and the operator: groups written and calls in them
        self.groups = 0
        self.calls = 0

    async def run(self, operation: Callable[[], T]) -> T:
        """Run ``operation`` (a function calling the store) and return its result once durable."""
        job: _Job[T] = _Job(operation)
        self._pending.append(job)
        if self._leading:
            # Low-level sleep rather than an Event in a shielded scope: this is on every message's path,
            # and both of those cost more than the store call itself.
            job.task = trio.lowlevel.current_task()
            await trio.lowlevel.wait_task_rescheduled(_refuse_abort)
            if job.done:
                return job.result()
        await self._lead(job)
        return job.result()

    async def _lead(self, own: _Job[Any]) -> None:
        self._leading = True
        try:
            # Let every task already runnable in this turn of the event loop submit its call first
            # (chargers whose frames arrived together): under moderate load this makes one commit of
            # several calls instead of several commits of one, for the cost of one scheduler pass.
            await trio.lowlevel.cancel_shielded_checkpoint()
            while not own.done:
                batch = self._pending[: self.max_group]
                del self._pending[: self.max_group]
                try:
                    # Shielded: the group holds other callers' writes, whatever happens to the leader.
                    with trio.CancelScope(shield=True):
                        await trio.to_thread.run_sync(self._run_group, batch)
                except BaseException as exc:  # pragma: no cover - _run_group catches what calls raise
                    for job in batch:
                        if not job.done:
                            job.error, job.done = exc, True
                    raise
                finally:
                    for job in batch:
                        if job is not own:
                            job.wake()
        finally:
            if self._pending:
                # Hand over: the oldest waiter leads next; _leading stays True so no newcomer competes.
                self._pending[0].wake()
            else:
                self._leading = False

    def _run_group(self, batch: list[_Job[Any]]) -> None:
        """In the worker thread: every call of ``batch`` in one commit."""
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
