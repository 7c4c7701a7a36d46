"""``ocpp-trio bench`` end to end, small: 20 chargers for 2 s against an in-process ocpp-trio listening on
127.0.0.1, through a real worker process. Checks the report is sane, never how fast anything is (timing
thresholds belong to ``make bench``, not to the test suite)."""

from __future__ import annotations

import json
import os
import platform
from typing import Any

import pytest
import trio
from fake_csms import FakeCsms

from conformance.bench.cli import main as bench_main
from conformance.bench.loadgen import BenchConfig, BenchError, parse_target, run_bench
from conformance.bench.report import format_comparison, format_table, percentiles
from conformance.bench.scenarios import BOOT, SESSION_LENGTH, SessionSteps
from engine.config import Config, ServerConfig
from engine.policy import CsmsPolicy
from engine.protocol.validation import default_registry
from engine.server import Csms
from engine.store import MemoryStore

pytestmark = pytest.mark.socket

SESSION_ACTIONS = {"StatusNotification", "Authorize", "StartTransaction", "MeterValues", "StopTransaction"}


async def start_csms(nursery: trio.Nursery) -> str:
    config = Config(
        server=ServerConfig(host="127.0.0.1", port=0, ping_interval=0),
        policy=CsmsPolicy(accept_unknown_id_tags=True),
    )
    csms = Csms(config, store=MemoryStore())
    ports = await nursery.start(csms.serve)
    return f"ws://127.0.0.1:{ports[0]}/ocpp"


async def bench(config: BenchConfig) -> dict[str, Any]:
    with trio.fail_after(30):
        return await trio.to_thread.run_sync(run_bench, config)


def assert_ordered(entry: dict[str, Any]) -> None:
    assert entry["count"] > 0
    assert 0 <= entry["p50"] <= entry["p90"] <= entry["p99"] <= entry["max"]


async def test_session_run_reports_sane_numbers(nursery: trio.Nursery) -> None:
    url = await start_csms(nursery)
    config = BenchConfig(
        csms=url, scenario="session", chargers=20, duration=2, ramp=200, workers=1, server_pid=os.getpid()
    )
    report = await bench(config)

    connections = report["connections"]
    assert connections["established"] == connections["attempted"] == 20
    assert connections["failed"] == connections["dropped"] == 0
    assert connections["closed_cleanly"] == 20
    assert report["boot"]["status"] == {"Accepted": 20}
    assert report["failures"] == report["callerrors"] == report["timeouts"] == 0
    assert report["unexpected_frames"] == 0
    assert set(report["actions"]) <= SESSION_ACTIONS
    assert {"StatusNotification", "Authorize", "StartTransaction", "MeterValues"} <= set(report["actions"])
    for entry in report["actions"].values():
        assert_ordered(entry)
    assert_ordered(report["latency_ms"])
    assert report["calls"] == sum(entry["count"] for entry in report["actions"].values())
    assert 1.9 <= report["window_s"] <= 3
    host = report["host"]  # the report says what it ran on
    assert host["cpus"] == os.cpu_count() and host["python"] == platform.python_version()
    assert report["msgs_per_s"] == pytest.approx(report["calls"] / report["window_s"], rel=0.01)
    assert report["server"]["rss_kib"] > 0 and "cpu_percent" in report["server"]
    assert report["generator"]["workers"] == 1
    assert len(report["generator"]["cpu_percent_per_worker"]) == 1
    json.dumps(report)  # the --json output
    table = format_table(report)
    assert "session against" in table and "MeterValues" in table and "generator" in table
    assert "msgs/s" in format_comparison([("session", report, report)])


async def test_storm_run_times_the_last_accepted(nursery: trio.Nursery) -> None:
    url = await start_csms(nursery)
    report = await bench(BenchConfig(csms=url, scenario="storm", chargers=20, duration=10, workers=2))
    storm = report["storm"]
    assert storm["accepted"] == 20 and storm["all_accepted"] and storm["failures"] == 0
    assert 0 < storm["time_to_half_accepted_s"] <= storm["time_to_last_accepted_s"] < 10
    assert report["connect_ms"]["count"] == 20
    assert report["generator"]["workers"] == 2
    assert report["server"] is None  # no --server-pid


def test_session_payloads_are_schema_valid() -> None:
    schemas = default_registry()
    schemas.validate_request("BootNotification", BOOT)
    steps = SessionSteps(7)
    seen = []
    for _ in range(SESSION_LENGTH * 2):
        action, payload = steps.next_call()
        schemas.validate_request(action, payload)
        seen.append(action)
        steps.answered(action, {"transactionId": 99, "idTagInfo": {"status": "Accepted"}})
    assert seen[:SESSION_LENGTH] == seen[SESSION_LENGTH:]
    assert seen.count("MeterValues") == 20 and seen[-1] == "StopTransaction"
    assert steps.transaction_id == 99


def test_only_loopback_targets() -> None:
    assert parse_target("ws://127.0.0.1:9000/ocpp/") == ("127.0.0.1", 9000, "/ocpp")
    assert parse_target("ws://localhost:9000/ocpp")[0] == "127.0.0.1"
    assert parse_target("ws://[::1]:9000/x")[0] == "::1"
    for url in ("ws://10.0.0.1:9000/ocpp", "ws://example.com/ocpp", "wss://127.0.0.1/ocpp"):
        with pytest.raises(BenchError):
            parse_target(url)


def test_cli_refuses_a_remote_target(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_main(["--csms", "ws://192.0.2.1:9000/ocpp", "--chargers", "1"]) == 2
    assert "loopback" in capsys.readouterr().err


def test_percentiles_nearest_rank() -> None:
    assert percentiles([]) == {"count": 0, "p50": None, "p90": None, "p99": None, "max": None}
    values = [float(n) for n in range(1, 101)]
    assert percentiles(values) == {"count": 100, "p50": 50.0, "p90": 90.0, "p99": 99.0, "max": 100.0}


async def test_steady_counts_from_the_send_and_reports_the_generators_own_lag(nursery: trio.Nursery) -> None:
    url = await start_csms(nursery)
    config = BenchConfig(
        csms=url, scenario="steady", chargers=10, duration=2, rate=2.0, mix="heartbeat", workers=1
    )
    report = await bench(config)
    assert report["late_sends"] == 0 and report["timeouts"] == 0
    assert_ordered(report["latency_ms"])
    # one wake-up per send in the window: its lag is reported apart, not counted as latency
    assert report["wake_slack_ms"]["count"] == report["calls"]
    assert_ordered(report["wake_slack_ms"])
    assert "woke for its sends" in format_table(report)


async def test_steady_charges_a_late_answer_from_the_scheduled_instant(nursery: trio.Nursery) -> None:
    fake = FakeCsms()
    fake.answer_delay["Heartbeat"] = 0.3
    port = await nursery.start(fake.serve_tcp)
    config = BenchConfig(
        csms=f"ws://127.0.0.1:{port}/ocpp",
        scenario="steady",
        chargers=2,
        duration=2,
        rate=5.0,
        mix="heartbeat",
        workers=1,
    )
    report = await bench(config)
    # An answer every 0.3 s against a send due every 0.2 s: the sends fall ever further behind, and
    # that delay is the CSMS's (no coordinated omission), so latency grows past one answer's 300 ms.
    assert report["late_sends"] > 0
    assert report["latency_ms"]["p50"] >= 300
    assert report["latency_ms"]["max"] >= 500
