"""Server memory with N idle chargers connected: starts ``ocpp-trio serve`` (store on disk in a temporary
folder), connects N websocket chargers from this process over 127.0.0.1, boots each, keeps them idle,
and prints the server's RSS before and after and its peak (VmHWM), per charger.

    .venv/bin/python benchmarks/idle_memory.py [--chargers 1000] [--hold 5]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trio
from trio_websocket import open_websocket_url

BOOT = {"chargePointVendor": "Bench", "chargePointModel": "Idle"}


def memory_kib(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {key: int(re.search(rf"^{key}:\s+(\d+) kB", status, re.M).group(1)) for key in ("VmRSS", "VmHWM")}  # type: ignore[union-attr]


async def charger(url: str, index: int, booted: trio.Semaphore, hold: trio.Event) -> None:
    async with open_websocket_url(f"{url}/BENCH-{index:05d}", subprotocols=["ocpp1.6"]) as ws:
        await ws.send_message(json.dumps([2, "boot", "BootNotification", BOOT]))
        answer = json.loads(await ws.get_message())
        assert answer[2]["status"] == "Accepted", answer
        booted.release()
        await hold.wait()


async def run(url: str, count: int, hold_seconds: float, pid: int) -> dict[str, int]:
    booted = trio.Semaphore(0, max_value=count)
    hold = trio.Event()
    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for index in range(count):
            nursery.start_soon(charger, url, index, booted, hold)
            if index % 100 == 99:
                await trio.sleep(0.05)  # a gentle ramp: this measures idle memory, not a storm
        for _ in range(count):
            await booted.acquire()
        print(f"{count} chargers connected and Accepted in {time.perf_counter() - started:.1f} s")
        await trio.sleep(hold_seconds)
        after = memory_kib(pid)
        print(
            f"server RSS with {count} idle chargers: {after['VmRSS'] / 1024:.1f} MiB, "
            f"peak {after['VmHWM'] / 1024:.1f} MiB"
        )
        hold.set()
    return after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", type=int, default=1000)
    parser.add_argument("--hold", type=float, default=5.0, help="seconds to stay idle before measuring")
    parser.add_argument("--port", type=int, default=9300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "engine.cli",
                "serve",
                "--port",
                str(args.port),
                "--no-api",
                "--db",
                os.path.join(folder, "bench.sqlite"),
                "--log-level",
                "WARNING",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            server.stdout.readline()  # the URL line: the server is listening
            time.sleep(0.5)
            before = memory_kib(server.pid)
            print(f"server RSS before any charger: {before['VmRSS'] / 1024:.1f} MiB")
            after = trio.run(run, f"ws://127.0.0.1:{args.port}/ocpp", args.chargers, args.hold, server.pid)
            per = (after["VmRSS"] - before["VmRSS"]) / args.chargers
            print(f"per idle charger: {per:.1f} KiB (RSS growth / chargers)")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
