"""StartTransaction latency under load: starts ``ocpp-trio serve`` (SQLite store on disk in a temporary
folder, ``synchronous=FULL`` unless told otherwise), connects N chargers over 127.0.0.1, boots them, then
each runs StartTransaction/StopTransaction pairs back to back for a fixed time. Prints the median, p90,
p99 and max StartTransaction latency as the chargers measure it (send to answer, in ms), and the
throughput. Every StartTransaction and StopTransaction is committed before it is answered (R8.1), so
with FULL each one waits for an fsync; the commits of all chargers are serialised by the one store.

    .venv/bin/python benchmarks/start_latency.py [--chargers 100] [--seconds 10] [--synchronous NORMAL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio
from trio_websocket import WebSocketConnection, wrap_client_stream

BOOT = {"chargePointVendor": "Bench", "chargePointModel": "StartLatency"}
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def start_server(folder: str, synchronous: str) -> tuple[subprocess.Popen[str], int]:
    config = Path(folder, "bench.toml")
    # accept_unknown_id_tags: every start takes the Accepted path, ConcurrentTx check included
    config.write_text(f'[store]\nsynchronous = "{synchronous}"\n[policy]\naccept_unknown_id_tags = true\n')
    command = [
        sys.executable,
        "-m",
        "engine.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--no-api",
        "--db",
        os.path.join(folder, "bench.sqlite"),
        "--config",
        str(config),
        "--log-level",
        "WARNING",
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline()  # the URL line, printed once the server listens
    match = re.search(r"ws://127\.0\.0\.1:(\d+)/", line)
    if match is None:
        server.kill()
        server.wait()
        raise SystemExit(f"the server did not start: {line!r}")
    return server, int(match.group(1))


class Charger:
    def __init__(self, index: int):
        self.identity = f"BENCH-{index:04d}"
        self.id_tag = f"TAG-{index:04d}"
        self.ids = itertools.count()
        self.moments = itertools.count(index * 10_000_000)
        self.meter = 0
        self.start_ms: list[float] = []
        self.stop_ms: list[float] = []

    def timestamp(self) -> str:
        moment = EPOCH + dt.timedelta(seconds=next(self.moments))
        return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    async def call(self, ws: WebSocketConnection, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        unique_id = str(next(self.ids))
        await ws.send_message(json.dumps([2, unique_id, action, payload]))
        frame = json.loads(await ws.get_message())
        if frame[:2] != [3, unique_id]:
            raise RuntimeError(f"{self.identity} {action}: unexpected answer {frame}")
        answer: dict[str, Any] = frame[2]
        return answer

    async def run(self, port: int, booted: trio.Semaphore, go: trio.Event, until: list[float]) -> None:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream, trio.open_nursery() as nursery:
            ws = await wrap_client_stream(
                nursery, stream, "127.0.0.1", f"/ocpp/{self.identity}", subprotocols=["ocpp1.6"]
            )
            if (await self.call(ws, "BootNotification", BOOT))["status"] != "Accepted":
                raise RuntimeError(f"{self.identity} was not accepted")
            booted.release()
            await go.wait()
            while time.perf_counter() < until[0]:
                start = {
                    "connectorId": 1,
                    "idTag": self.id_tag,
                    "meterStart": self.meter,
                    "timestamp": self.timestamp(),
                }
                began = time.perf_counter()
                transaction_id = (await self.call(ws, "StartTransaction", start))["transactionId"]
                self.start_ms.append((time.perf_counter() - began) * 1000)
                self.meter += 10
                stop = {
                    "transactionId": transaction_id,
                    "meterStop": self.meter,
                    "timestamp": self.timestamp(),
                }
                began = time.perf_counter()
                await self.call(ws, "StopTransaction", stop)
                self.stop_ms.append((time.perf_counter() - began) * 1000)
            await ws.aclose()
            nursery.cancel_scope.cancel()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), 0.0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(
    port: int, count: int, seconds: float, server_pid: int
) -> tuple[list[Charger], float, float, float]:
    """Returns the chargers, the measured time, and the CPU seconds server and client used in it."""
    chargers = [Charger(index) for index in range(count)]
    booted = trio.Semaphore(0, max_value=count)
    go = trio.Event()
    until = [math.inf]
    async with trio.open_nursery() as nursery:
        for charger in chargers:
            nursery.start_soon(charger.run, port, booted, go, until)
        with trio.fail_after(60):
            for _ in chargers:
                await booted.acquire()
        began = time.perf_counter()
        server_cpu, client_cpu = cpu_seconds(server_pid), time.process_time()
        until[0] = began + seconds
        go.set()
    return (
        chargers,
        time.perf_counter() - began,
        cpu_seconds(server_pid) - server_cpu,
        time.process_time() - client_cpu,
    )


def percentile(ordered: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of sorted values."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def describe(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    figures = [("median", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)]
    return f"{name}: n={len(ordered)} " + " ".join(
        f"{label}={percentile(ordered, share):.2f} ms" for label, share in figures
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the chargers run transactions")
    parser.add_argument(
        "--synchronous", default="FULL", choices=["FULL", "NORMAL"], type=str.upper, help="SQLite synchronous"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server, port = start_server(folder, args.synchronous)
        try:
            chargers, elapsed, server_cpu, client_cpu = trio.run(
                load, port, args.chargers, args.seconds, server.pid
            )
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    starts = [ms for charger in chargers for ms in charger.start_ms]
    stops = [ms for charger in chargers for ms in charger.stop_ms]
    if not starts:
        raise SystemExit("no StartTransaction was answered")
    print(
        f"{args.chargers} chargers, {elapsed:.1f} s of back-to-back StartTransaction/StopTransaction, "
        f"SQLite on disk, synchronous={args.synchronous}"
    )
    print(describe("StartTransaction latency", starts))
    print(describe("StopTransaction latency ", stops))
    print(
        f"throughput: {len(starts) / elapsed:.0f} StartTransaction/s, "
        f"{(len(starts) + len(stops)) / elapsed:.0f} transaction messages/s"
    )
    print(
        f"CPU busy: server {server_cpu / elapsed:.0%} of one core, "
        f"clients (this process) {client_cpu / elapsed:.0%}"
    )


if __name__ == "__main__":
    main()
