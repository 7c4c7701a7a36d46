"""The Robustness profile over real sockets: ocpp-trio's ``Csms.serve`` and its HTTP operator API on
127.0.0.1 (port 0), in the same trio run, driven the way a vendor runs it (``UrlTarget``, the ocpp-trio
HTTP operator). Real time, so the silence window and the handshake deadline are shortened; the whole
profile has an absolute deadline.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from functools import partial

import pytest
import test_robustness_inprocess as inprocess
import trio

from conformance.config import RunConfig
from conformance.deviations import from_mapping
from conformance.operators import OcppTrioOperator
from conformance.runner import UrlTarget, progress_line, run_suite
from engine.api.http import serve_http
from engine.config import Config, ServerConfig
from engine.server import Csms
from engine.store import MemoryStore

pytestmark = pytest.mark.socket

TOKEN = "robustness-test-token"
#: the CSMS's handshake deadline for this run, and the run configuration that knows it
HANDSHAKE_TIMEOUT = 1.0
CONFIG = RunConfig(robustness_silence=0.2, robustness_handshake_timeout=HANDSHAKE_TIMEOUT)


@pytest.fixture
async def ocpp_trio(nursery: trio.Nursery) -> AsyncIterator[tuple[str, str]]:
    server = ServerConfig(host="127.0.0.1", port=0, ping_interval=0, handshake_timeout=HANDSHAKE_TIMEOUT)
    csms = Csms(Config(server=server), store=MemoryStore())
    ports = await nursery.start(csms.serve)
    api_port = await nursery.start(partial(serve_http, csms, "127.0.0.1", 0, token=TOKEN))
    yield f"ws://127.0.0.1:{ports[0]}/ocpp", f"http://127.0.0.1:{api_port}"


async def test_every_robustness_row_passes_over_real_sockets(ocpp_trio: tuple[str, str]) -> None:
    ws_url, api_url = ocpp_trio
    started = time.perf_counter()
    with trio.fail_after(20):
        result = await run_suite(
            inprocess.ROBUSTNESS,
            target=UrlTarget(ws_url),
            operator=OcppTrioOperator(api_url, TOKEN),
            config=CONFIG,
            deviations=from_mapping(inprocess.DEVIATIONS),
        )
    elapsed = time.perf_counter() - started
    assert inprocess.unexpected(result) == []
    assert sorted(c.scenario.id for c in result.cases if c.status == "deviation") == sorted(
        inprocess.DEVIATIONS
    )
    assert len(result.cases) == len(inprocess.ROBUSTNESS)
    by_id = {case.scenario.id: case for case in result.cases}
    # The deadline is the server's, measured on a real clock.
    closed_after = float(by_id["RB-20"].actual.split()[2])
    assert HANDSHAKE_TIMEOUT - 0.2 <= closed_after <= HANDSHAKE_TIMEOUT + 1.0, by_id["RB-20"].actual
    assert by_id["RB-27A"].actual.startswith("close 1009"), progress_line(by_id["RB-27A"])
    assert by_id["RB-24"].actual.startswith("first connection: close 1000 'replaced'")
    assert elapsed < 20
