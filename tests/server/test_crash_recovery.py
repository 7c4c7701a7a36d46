"""Crash recovery of the real server (design.md decisions 6, 7; rules R8.1, R8.2, R8.4, R1.28).

``ocpp-trio serve`` runs as a subprocess with its SQLite database in ``tmp_path`` (``synchronous=FULL``,
the default). Fifty chargers on 127.0.0.1 boot, then stream transactions (StartTransaction, a few
MeterValues, StopTransaction, again) and remember every message that got an answer. In the middle of it
the server is killed with SIGKILL: no clean-up, no flush. A second server starts on the same file and the
chargers come back the way real ones do: no BootNotification, and first the message that was in flight
when the link died (their transaction-message queue, C §3.7), then a Heartbeat, a StatusNotification and
one more transaction.

Then, from a SqliteStore opened on the file after the second server stopped:

- every StartTransaction, MeterValues and StopTransaction that got an answer is there with its data
  ("committed before acknowledged");
- each start is stored once, even the one in flight at the kill and resent after the restart (R8.4);
- transaction ids are unique across chargers and across the crash (the id sequence survives it);
- registration survived the crash: Heartbeat and StatusNotification get normal answers, not
  SecurityError, without a new BootNotification.

Bounded: 50 chargers, about 1.5 s of traffic before the kill, every wait under a deadline, the whole test
well under 30 s; processes are killed in ``finally``.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import re
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trio
from trio_websocket import ConnectionClosed, HandshakeError, WebSocketConnection, wrap_client_stream

from engine.clock import format_timestamp
from engine.store import SqliteStore

pytestmark = pytest.mark.socket

CHARGERS = 50
TRAFFIC_SECONDS = 1.5
START = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
LINK_ERRORS = (ConnectionClosed, HandshakeError, OSError, trio.BrokenResourceError)
CONFIG = """
[policy]
accept_unknown_id_tags = true
[server]
ping_interval = 0
"""


class Server:
    """One ``ocpp-trio serve`` subprocess on 127.0.0.1, port chosen by the OS."""

    def __init__(self, db: Path, config: Path, log: Path):
        self.db, self.config, self.log = db, config, log
        self.process: trio.Process | None = None
        self.port = 0

    async def start(self) -> int:
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
            str(self.db),
            "--config",
            str(self.config),
            "--log-level",
            "WARNING",
        ]
        with self.log.open("ab") as log:
            self.process = await trio.lowlevel.open_process(command, stdout=subprocess.PIPE, stderr=log)
        assert self.process.stdout is not None
        seen = b""
        with trio.fail_after(15):
            while b"subprotocol:" not in seen:
                chunk = await self.process.stdout.receive_some()
                assert chunk, f"the server exited before listening; see {self.log}"
                seen += chunk
        match = re.search(rb"ws://127\.0\.0\.1:(\d+)/ocpp/<chargePointId>", seen)
        assert match is not None, seen
        self.port = int(match.group(1))
        return self.port

    async def kill(self) -> None:
        """SIGKILL: the process gets no chance to flush or close anything."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
        await self._reap()

    async def stop(self) -> None:
        """SIGTERM: a clean shutdown."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        with trio.move_on_after(10):
            await self._reap()
        await self.kill()

    async def _reap(self) -> None:
        if self.process is None:
            return
        with trio.CancelScope(shield=True):
            await self.process.wait()
            if self.process.stdout is not None:
                await self.process.stdout.aclose()


@dataclass
class Charger:
    index: int
    identity: str = ""
    ids: itertools.count[int] = field(default_factory=itertools.count)
    moments: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    meter: int = 0
    #: (action, payload, answer) of every CALL answered with a CALLRESULT
    answered: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    #: the CALL sent and not answered when the link died (a charger resends it)
    in_flight: tuple[str, dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        self.identity = f"CRASH-{self.index:02d}"

    def timestamp(self) -> str:
        return format_timestamp(START + dt.timedelta(seconds=self.index * 100_000 + next(self.moments)))

    async def call(self, ws: WebSocketConnection, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL and return its CALLRESULT payload (a CALLERROR fails the test)."""
        unique_id = f"{self.identity}-{next(self.ids)}"
        self.in_flight = (action, payload)
        await ws.send_message(json.dumps([2, unique_id, action, payload]))
        with trio.fail_after(10):
            frame = json.loads(await ws.get_message())
        assert frame[:2] == [3, unique_id], f"{self.identity} {action}: {frame}"
        self.in_flight = None
        self.answered.append((action, payload, frame[2]))
        answer: dict[str, Any] = frame[2]
        return answer

    async def transactions(self, ws: WebSocketConnection, *, rounds: int | None = None) -> None:
        """Start, three MeterValues, Stop; ``rounds`` times, or until the link dies."""
        for _ in itertools.count() if rounds is None else range(rounds):
            start = {
                "connectorId": 1,
                "idTag": f"TAG-{self.index}",
                "meterStart": self.meter,
                "timestamp": self.timestamp(),
            }
            transaction_id = (await self.call(ws, "StartTransaction", start))["transactionId"]
            for _ in range(3):
                self.meter += 7
                sample = {
                    "value": str(self.meter),
                    "measurand": "Energy.Active.Import.Register",
                    "unit": "Wh",
                }
                values = {"timestamp": self.timestamp(), "sampledValue": [sample]}
                meter_values = {"connectorId": 1, "transactionId": transaction_id, "meterValue": [values]}
                await self.call(ws, "MeterValues", meter_values)
            stop = {"transactionId": transaction_id, "meterStop": self.meter, "timestamp": self.timestamp()}
            await self.call(ws, "StopTransaction", {**stop, "reason": "EVDisconnected"})


async def connected(port: int, identity: str, body: Callable[[WebSocketConnection], Awaitable[None]]) -> None:
    """Run ``body`` on a websocket to the server. The TCP stream is ours to close: trio-websocket leaves
    it open when the peer vanishes (no close handshake), which would leak the socket."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream, trio.open_nursery() as nursery:
        ws = await wrap_client_stream(
            nursery, stream, "127.0.0.1", f"/ocpp/{identity}", subprotocols=["ocpp1.6"]
        )
        try:
            await body(ws)
        finally:
            with trio.CancelScope(shield=True, deadline=trio.current_time() + 2):
                await ws.aclose()
            nursery.cancel_scope.cancel()


async def before_the_crash(port: int, charger: Charger, booted: trio.Semaphore) -> None:
    async def body(ws: WebSocketConnection) -> None:
        boot = {"chargePointVendor": "Crash", "chargePointModel": "Test"}
        assert (await charger.call(ws, "BootNotification", boot))["status"] == "Accepted"
        booted.release()
        await charger.transactions(ws)

    try:
        await connected(port, charger.identity, body)
    except* LINK_ERRORS:
        pass  # the server was killed


async def after_the_restart(port: int, charger: Charger) -> None:
    await connected(port, charger.identity, functools.partial(resume, charger))


async def resume(charger: Charger, ws: WebSocketConnection) -> None:
    """Back after the crash: no BootNotification, the charger is still Accepted (R1.28)."""
    if charger.in_flight is not None:  # first the queued transaction message, as sent before
        action, payload = charger.in_flight
        await charger.call(ws, action, payload)
    assert set(await charger.call(ws, "Heartbeat", {})) == {"currentTime"}
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    assert await charger.call(ws, "StatusNotification", status) == {}
    await charger.transactions(ws, rounds=1)


async def test_every_answered_transaction_message_survives_a_sigkill(tmp_path: Path) -> None:
    config = tmp_path / "crash.toml"
    config.write_text(CONFIG)
    db = tmp_path / "crash.sqlite"
    servers = [Server(db, config, tmp_path / "server.log") for _ in range(2)]
    chargers = [Charger(index) for index in range(CHARGERS)]
    try:
        with trio.fail_after(25):
            port = await servers[0].start()
            booted = trio.Semaphore(0, max_value=CHARGERS)
            async with trio.open_nursery() as nursery:
                for charger in chargers:
                    nursery.start_soon(before_the_crash, port, charger, booted)
                for _ in chargers:
                    await booted.acquire()
                await trio.sleep(TRAFFIC_SECONDS)
                await servers[0].kill()
            before = [(action, payload, answer) for c in chargers for action, payload, answer in c.answered]
            in_flight = sum(c.in_flight is not None for c in chargers)

            port = await servers[1].start()
            async with trio.open_nursery() as nursery:
                for charger in chargers:
                    nursery.start_soon(after_the_restart, port, charger)
            await servers[1].stop()
    finally:
        for server in servers:
            await server.kill()

    found = check_the_store(db, chargers)
    answered = {action: sum(entry[0] == action for entry in before) for action in found}
    print(
        f"\nanswered before the SIGKILL: {answered} ({in_flight} more in flight); "
        f"found in the store after the restart, with what was answered after it: {found}"
    )
    assert answered["StartTransaction"] >= CHARGERS, "too little traffic before the kill to mean anything"


def check_the_store(db: Path, chargers: list[Charger]) -> dict[str, int]:
    """Everything the chargers got an answer for is in the store; returns counts per action."""
    found: dict[str, int] = dict.fromkeys(("StartTransaction", "MeterValues", "StopTransaction"), 0)
    with SqliteStore(db) as store:
        transactions = store.list_transactions(limit=10**6)
        ids = [tx.transaction_id for tx in transactions]
        assert len(ids) == len(set(ids))
        keys = [
            (tx.charger_id, tx.connector_id, tx.id_tag, tx.meter_start, tx.start_timestamp)
            for tx in transactions
        ]
        assert len(keys) == len(set(keys)), "a start stored twice (its retry after the crash got a new id)"
        by_id = {tx.transaction_id: tx for tx in transactions}
        answered_ids: list[int] = []
        for charger in chargers:
            record = store.get_charger(charger.identity)
            assert record is not None and record.registration_status == "Accepted"
            stored_values = store.list_meter_values(charger_id=charger.identity, limit=10**6)
            values = {
                (mv.transaction_id, json.dumps(mv.sampled_values), mv.timestamp) for mv in stored_values
            }
            for action, payload, answer in charger.answered:
                if action == "StartTransaction":
                    tx = by_id.get(answer["transactionId"])
                    assert tx is not None, f"{charger.identity}: acknowledged start {answer} lost"
                    start = (tx.charger_id, tx.connector_id, tx.id_tag, tx.meter_start, tx.start_timestamp)
                    sent = (
                        charger.identity,
                        payload["connectorId"],
                        payload["idTag"],
                        payload["meterStart"],
                        payload["timestamp"],
                    )
                    assert start == sent, (start, sent)
                    answered_ids.append(tx.transaction_id)
                elif action == "StopTransaction":
                    tx = by_id.get(payload["transactionId"])
                    assert tx is not None and tx.stopped_at is not None, f"acknowledged stop {payload} lost"
                    assert (tx.meter_stop, tx.stop_timestamp) == (payload["meterStop"], payload["timestamp"])
                elif action == "MeterValues":
                    [meter_value] = payload["meterValue"]
                    key = (
                        payload["transactionId"],
                        json.dumps(meter_value["sampledValue"]),
                        meter_value["timestamp"],
                    )
                    assert key in values, f"{charger.identity}: acknowledged MeterValues {payload} lost"
                else:
                    continue
                found[action] += 1
        # every answered start is a different transaction, across chargers and across the crash
        assert len(answered_ids) == len(set(answered_ids))
    return found
