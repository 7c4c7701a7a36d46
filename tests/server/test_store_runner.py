"""StoreRunner: group commit off the event loop, nobody answered before the commit that holds its write."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from engine.server.store_runner import StoreRunner
from engine.store import IdTagRecord, SqliteStore


class RecordingStore:
    """Just enough of a store for the runner: group() logs begin/commit, and can fail its commit."""

    def __init__(self, *, fail_commit: bool = False, slow: float = 0.0):
        self.log: list[str] = []
        self.lock = threading.Lock()
        self.fail_commit = fail_commit
        self.slow = slow

    @contextmanager
    def group(self) -> Iterator[None]:
        with self.lock:
            self.log.append("begin")
            yield
            if self.slow:
                threading.Event().wait(self.slow)  # an fsync that takes a while
            if self.fail_commit:
                self.log.append("commit failed")
                raise sqlite3.OperationalError("disk I/O error")
            self.log.append("commit")

    def write(self, name: str) -> str:
        self.log.append(name)
        return name.upper()


def runner_for(store: Any) -> StoreRunner:
    return StoreRunner(store)


async def test_results_and_errors_go_to_their_own_callers() -> None:
    store = RecordingStore()
    runner = runner_for(store)

    def broken() -> None:
        raise KeyError("only mine")

    assert await runner.run(lambda: store.write("a")) == "A"
    with pytest.raises(KeyError, match="only mine"):
        await runner.run(broken)
    assert await runner.run(lambda: store.write("b")) == "B"


async def test_concurrent_calls_share_commits_and_are_answered_after_them() -> None:
    store = RecordingStore(slow=0.01)
    runner = runner_for(store)
    answered: dict[int, int] = {}

    async def caller(n: int) -> None:
        assert await runner.run(lambda: store.write(f"w{n}")) == f"W{n}"
        # the write is in the log before a commit that precedes this answer
        written = store.log.index(f"w{n}")
        answered[n] = store.log.index("commit", written)

    async with trio.open_nursery() as nursery:
        for n in range(100):
            nursery.start_soon(caller, n)
    assert len(answered) == 100
    assert runner.calls == 100
    assert runner.groups < 20, f"{runner.groups} commits for 100 concurrent calls: no grouping"
    assert store.log.count("commit") == runner.groups


async def test_a_failed_commit_fails_every_call_of_its_group() -> None:
    store = RecordingStore(fail_commit=True, slow=0.01)
    runner = runner_for(store)
    outcomes: list[BaseException | str] = []

    async def caller(n: int) -> None:
        try:
            outcomes.append(await runner.run(lambda: store.write(f"w{n}")))
        except sqlite3.OperationalError as exc:
            outcomes.append(exc)

    async with trio.open_nursery() as nursery:
        for n in range(20):
            nursery.start_soon(caller, n)
    assert len(outcomes) == 20
    assert all(isinstance(o, sqlite3.OperationalError) for o in outcomes)


async def test_a_cancelled_caller_still_waits_for_its_outcome() -> None:
    store = RecordingStore(slow=0.05)
    runner = runner_for(store)
    finished: list[str] = []

    async def caller(n: int) -> None:
        await runner.run(lambda: store.write(f"w{n}"))
        finished.append(f"w{n}")

    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            for n in range(10):
                nursery.start_soon(caller, n)
            await trio.sleep(0.01)
            scope.cancel()
    # every submitted write ran and was committed; nobody left while its write was in flight
    assert sorted(finished) == sorted(f"w{n}" for n in range(10))
    assert store.log[-1] == "commit"
    # and the runner still works afterwards (the lead was handed on, not lost)
    assert await runner.run(lambda: store.write("after")) == "AFTER"


async def test_with_sqlite_the_row_is_committed_when_run_returns(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    with SqliteStore(path) as store:
        runner = StoreRunner(store)

        async def put(n: int) -> None:
            await runner.run(lambda: store.put_id_tag(IdTagRecord(f"T{n}", "Accepted")))
            with sqlite3.connect(path) as other:  # another connection sees only committed rows
                found = other.execute("SELECT 1 FROM id_tags WHERE id_tag = ?", (f"T{n}",)).fetchone()
            assert found is not None

        async with trio.open_nursery() as nursery:
            for n in range(50):
                nursery.start_soon(put, n)
        assert len(store.list_id_tags()) == 50


async def test_the_writer_thread_ends_when_idle_and_comes_back_on_the_next_call() -> None:
    store = RecordingStore()
    runner = StoreRunner(store, idle_exit=0.05)
    before = set(threading.enumerate())  # other tests' writers may still be idling
    assert await runner.run(lambda: store.write("a")) == "A"
    writers = [t for t in set(threading.enumerate()) - before if t.name == "ocpp-trio store writer"]
    assert len(writers) == 1
    await trio.to_thread.run_sync(writers[0].join, 5.0)  # it leaves on its own once idle
    assert not writers[0].is_alive()
    assert await runner.run(lambda: store.write("b")) == "B"  # a new writer serves the next call
    assert store.log == ["begin", "a", "commit", "begin", "b", "commit"]


def test_callers_from_separate_trio_runs_are_each_answered_in_their_own() -> None:
    store = RecordingStore(slow=0.005)
    runner = StoreRunner(store)
    results: list[list[str]] = []

    async def main(tag: str) -> None:
        got: list[str] = []

        async def one(n: int) -> None:
            got.append(await runner.run(lambda: store.write(f"{tag}{n}")))

        async with trio.open_nursery() as nursery:
            for n in range(20):
                nursery.start_soon(one, n)
        results.append(sorted(got))

    threads = [threading.Thread(target=trio.run, args=(main, tag)) for tag in ("x", "y")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == [sorted(f"X{n}" for n in range(20)), sorted(f"Y{n}" for n in range(20))]
