"""The operator API of a real Csms (real profiles, memory store, virtual time): events, message log with
redaction, registration policy at run time, the 404 policy, queries. Chargers connect through
``Csms.open_memory_connection``, the door the in-process conformance runner uses too."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing
from trio_websocket import ConnectionRejected, WebSocketConnection

from engine.api.operator import ChargerConnected, ChargerDisconnected, MessageReceived
from engine.clock import FixedClock
from engine.config import Config, ServerConfig
from engine.policy import UnknownChargerPolicy
from engine.profiles.base import RefusedByStateError
from engine.server import Csms
from engine.store import IdTagRecord, MemoryStore

BOOT = {"chargePointVendor": "Vendor", "chargePointModel": "Model"}
STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}


@asynccontextmanager
async def running(config: Config | None = None) -> AsyncIterator[Csms]:
    csms = Csms(
        config or Config(server=ServerConfig(ping_interval=0)), clock=FixedClock(), store=MemoryStore()
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(csms.run_background)
        yield csms
        nursery.cancel_scope.cancel()


async def rpc(ws: WebSocketConnection, uid: str, action: str, payload: dict[str, Any]) -> list[Any]:
    await ws.send_message(json.dumps([2, uid, action, payload]))
    frame: list[Any] = json.loads(await ws.get_message())
    return frame


async def answer_next_call(ws: WebSocketConnection, payload: dict[str, Any]) -> list[Any]:
    """Play the charger: read the CSMS's next CALL and answer it."""
    frame: list[Any] = json.loads(await ws.get_message())
    assert frame[0] == 2
    await ws.send_message(json.dumps([3, frame[1], payload]))
    return frame


async def test_memory_connections_need_the_background_tasks() -> None:
    csms = Csms(Config(), clock=FixedClock(), store=MemoryStore())
    with pytest.raises(RuntimeError, match="run_background"):
        await csms.open_memory_connection("/ocpp/CP-1", ["ocpp1.6"])


async def test_events_follow_a_charger_through_its_session(autojump_clock: trio.testing.MockClock) -> None:
    async with running() as csms, csms.subscribe() as events:
        ws = await csms.open_memory_connection("/ocpp/CP-1", ["ocpp1.6"])
        assert (await rpc(ws, "1", "BootNotification", BOOT))[2]["status"] == "Accepted"
        await rpc(ws, "2", "StatusNotification", STATUS)
        await ws.aclose()
        seen = [await events.__anext__() for _ in range(4)]
    assert isinstance(seen[0], ChargerConnected)
    assert seen[1] == MessageReceived("CP-1", "BootNotification", BOOT, seen[1].response)  # type: ignore[union-attr]
    assert seen[2] == MessageReceived("CP-1", "StatusNotification", STATUS, {})
    assert isinstance(seen[3], ChargerDisconnected)
    assert seen[3].code == 1000


async def test_a_callerror_answer_is_an_event_without_response(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with running() as csms, csms.subscribe() as events:
        ws = await csms.open_memory_connection("/ocpp/CP-1", ["ocpp1.6"])
        assert (await rpc(ws, "1", "Heartbeat", {}))[2] == "SecurityError"  # never booted
        await events.__anext__()  # connected
        assert await events.__anext__() == MessageReceived("CP-1", "Heartbeat", {}, None)


async def test_message_log_keeps_every_frame_and_no_authorization_key(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with running() as csms:
        ws = await csms.open_memory_connection("/ocpp/CP-1", ["ocpp1.6"])
        await rpc(ws, "1", "BootNotification", BOOT)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(answer_next_call, ws, {"status": "Accepted"})
            key = {"key": "AuthorizationKey", "value": "0123456789abcdef0123"}
            assert await csms.call("CP-1", "ChangeConfiguration", key) == {"status": "Accepted"}
        await trio.sleep(1)  # let the log writer catch up
        log = await csms.message_log("CP-1")
    texts = [entry.text for entry in reversed(log)]
    assert [entry.direction for entry in reversed(log)] == ["in", "out", "out", "in"]
    assert "0123456789abcdef0123" not in "".join(texts)
    assert '"value":"<redacted>"' in texts[2]


async def test_pending_policy_gates_and_trigger_opens_the_door(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with running() as csms:
        await csms.update_policy(boot="Pending", boot_retry_interval=30)
        ws = await csms.open_memory_connection("/ocpp/CP-1", ["ocpp1.6"])
        assert (await rpc(ws, "1", "BootNotification", BOOT))[2] == {
            "status": "Pending",
            "currentTime": "2026-01-01T00:00:00.000Z",
            "interval": 30,
        }
        assert (await rpc(ws, "2", "StatusNotification", STATUS))[2] == "SecurityError"
        with pytest.raises(RefusedByStateError):
            await csms.call("CP-1", "RemoteStartTransaction", {"idTag": "T"})
        async with trio.open_nursery() as nursery:
            nursery.start_soon(answer_next_call, ws, {"status": "Accepted"})
            await csms.call("CP-1", "TriggerMessage", {"requestedMessage": "StatusNotification"})
        assert await rpc(ws, "3", "StatusNotification", STATUS) == [3, "3", {}]
        await csms.update_policy(boot="Accepted")
        assert (await rpc(ws, "4", "BootNotification", BOOT))[2]["status"] == "Accepted"
        assert await rpc(ws, "5", "StatusNotification", STATUS) == [3, "5", {}]


async def test_per_charger_policy_set_before_the_charger_ever_connects(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with running() as csms:
        await csms.set_charger_policy("CP-9", boot_policy="Rejected", heartbeat_interval=None)
        ws = await csms.open_memory_connection("/ocpp/CP-9", ["ocpp1.6"])
        assert (await rpc(ws, "1", "BootNotification", BOOT))[2]["status"] == "Rejected"
        await csms.set_charger_policy("CP-9", boot_policy=None, heartbeat_interval=42)
        assert (await rpc(ws, "2", "BootNotification", BOOT))[2] == {
            "status": "Accepted",
            "currentTime": "2026-01-01T00:00:00.000Z",
            "interval": 42,
        }


async def test_unknown_identities_get_404_when_the_policy_says_reject(
    autojump_clock: trio.testing.MockClock,
) -> None:
    config = Config(server=ServerConfig(ping_interval=0), chargers={"CP-LISTED": {}})
    async with running(config) as csms:
        await csms.update_policy(unknown_chargers=UnknownChargerPolicy.REJECT)
        with pytest.raises(ConnectionRejected) as rejected:
            await csms.open_memory_connection("/ocpp/STRANGER", ["ocpp1.6"])
        assert rejected.value.status_code == 404
        ws = await csms.open_memory_connection("/ocpp/CP-LISTED", ["ocpp1.6"])
        assert (await rpc(ws, "1", "BootNotification", BOOT))[2]["status"] == "Accepted"
        await ws.aclose()
        await csms.set_charger_policy("CP-KNOWN", boot_policy=None, heartbeat_interval=None)
        ws = await csms.open_memory_connection("/ocpp/CP-KNOWN", ["ocpp1.6"])
        assert (await rpc(ws, "1", "Heartbeat", {}))[2] == "SecurityError"  # known, but never booted


async def test_queries_read_back_a_charging_session(autojump_clock: trio.testing.MockClock) -> None:
    async with running() as csms:
        await csms.put_id_tag(IdTagRecord("TAG-1", "Accepted", None, None))
        ws = await csms.open_memory_connection("/ocpp/CP-1", ["ocpp1.6"])
        await rpc(ws, "1", "BootNotification", BOOT)
        await rpc(ws, "2", "StatusNotification", STATUS)
        start = {"connectorId": 1, "idTag": "tag-1", "meterStart": 10, "timestamp": "2026-01-01T00:00:00Z"}
        tx = (await rpc(ws, "3", "StartTransaction", start))[2]["transactionId"]
        sample = {"timestamp": "2026-01-01T00:01:00Z", "sampledValue": [{"value": "15"}]}
        await rpc(ws, "4", "MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [sample]})
        stop = {"transactionId": tx, "meterStop": 20, "timestamp": "2026-01-01T00:02:00Z"}
        await rpc(ws, "5", "StopTransaction", stop)
        assert csms.connected_chargers() == ["CP-1"]
        [charger] = await csms.chargers()
        assert (charger.charger_id, charger.registration_status) == ("CP-1", "Accepted")
        assert [c.status for c in await csms.connectors("CP-1")] == ["Available"]
        [record] = await csms.transactions(charger_id="CP-1")
        assert (record.transaction_id, record.meter_start, record.meter_stop) == (tx, 10, 20)
        assert await csms.transaction(tx) == record
        assert [m.sampled_values for m in await csms.meter_values(transaction_id=tx)] == [[{"value": "15"}]]
        assert [t.id_tag for t in await csms.id_tags()] == ["TAG-1"]
        assert await csms.delete_id_tag("TAG-1")
        assert await csms.id_tags() == []


async def test_setting_a_once_policy_rearms_it_for_chargers_that_booted(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with running() as csms:
        ws = await csms.open_memory_connection("/ocpp/CP-1", ["ocpp1.6"])
        assert (await rpc(ws, "1", "BootNotification", BOOT))[2]["status"] == "Accepted"
        await csms.update_policy(boot="RejectedOnce")
        assert (await rpc(ws, "2", "BootNotification", BOOT))[2]["status"] == "Rejected"
        assert (await rpc(ws, "3", "BootNotification", BOOT))[2]["status"] == "Accepted"
        await csms.set_charger_policy("CP-1", boot_policy="PendingOnce", heartbeat_interval=None)
        assert (await rpc(ws, "4", "BootNotification", BOOT))[2]["status"] == "Pending"
        assert (await rpc(ws, "5", "BootNotification", BOOT))[2]["status"] == "Accepted"
