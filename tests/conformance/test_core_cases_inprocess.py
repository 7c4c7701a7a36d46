"""Every Core and AQ-1 case against the real ocpp-trio engine, in process, over memory streams, in virtual
time (``Csms.open_memory_connection`` + the Python operator API, MemoryStore so no thread breaks autojump).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio
import trio.testing

from conformance.config import RunConfig
from conformance.operators import InProcessOperator
from conformance.report import aq1_answer, performance, profile_rows
from conformance.runner import InProcessTarget, RunResult, progress_line, run_suite
from conformance.scenario import discover, select
from engine.config import Config, ServerConfig
from engine.server import Csms
from engine.store import MemoryStore


@asynccontextmanager
async def running_csms() -> AsyncIterator[Csms]:
    # Server pings off: trio-websocket's client answers a ping that crosses its own close with an error
    # (trio-websocket #184); the cases never last long enough to need them.
    csms = Csms(Config(server=ServerConfig(ping_interval=0)), store=MemoryStore())
    async with trio.open_nursery() as nursery:
        await nursery.start(csms.run_background)
        yield csms
        nursery.cancel_scope.cancel()


async def run_in_process(profiles: list[str] | None = None, cases: list[str] | None = None) -> RunResult:
    async with running_csms() as csms:
        assert hasattr(csms, "open_memory_connection")
        return await run_suite(
            select(discover(), profiles=profiles, cases=cases),
            target=InProcessTarget(csms),
            operator=InProcessOperator(csms),
            config=RunConfig(),
        )


def failures(result: RunResult) -> list[str]:
    return [progress_line(case) for case in result.cases if case.status != "pass"]


async def test_every_core_case_passes_in_process(autojump_clock: trio.testing.MockClock) -> None:
    result = await run_in_process(profiles=["core"])
    assert failures(result) == []
    assert len(result.cases) == 34
    # Virtual time: only TC_004_2 and TC_011_2 wait (the charger's ConnectionTimeOut, 5 s each).
    assert result.seconds == 10.0
    core = next(row for row in profile_rows(result) if row.key == "core")
    assert (core.verdict, core.passed, core.run) == ("Pass", 34, 34)
    ocpp, authorize = performance(result)
    assert ocpp.samples > 100
    assert authorize.samples == 15  # Authorized state (8 cases), TC_003, TC_010, TC_011_x, TC_023_x
    assert all(case.warnings == [] for case in result.cases)


@pytest.mark.parametrize("case_id", ["R-01", "R-02"])
async def test_aq1_case_passes_for_a_charger_that_never_booted(
    autojump_clock: trio.testing.MockClock, case_id: str
) -> None:
    result = await run_in_process(cases=[case_id])
    assert failures(result) == []
    # The charger waits the interval ocpp-trio sends with Pending/Rejected (boot_retry_interval, 60 s).
    assert result.seconds == 60.0
    assert aq1_answer(result).answer == "Yes"


async def test_core_and_aq1_cases_pass_in_one_run(autojump_clock: trio.testing.MockClock) -> None:
    result = await run_in_process(profiles=["core", "aq1"])
    assert failures(result) == []
