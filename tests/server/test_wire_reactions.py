"""Issue acceptance: each bad input of the foundation issue, sent over a websocket to a real Csms (real
profiles, registration gate, schemas), gets exactly the reaction design.md names. Frame-level details are
unit-tested in tests/protocol; this table proves the whole path, wire to wire."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing
from trio_websocket import ConnectionClosed, ConnectionRejected, WebSocketConnection

from engine.clock import FixedClock
from engine.config import Config, ServerConfig
from engine.server import Csms
from engine.store import MemoryStore

BOOT = {"chargePointVendor": "Vendor", "chargePointModel": "Model"}
NO_REPLY = None
#: how long "no reply" is waited for, in virtual seconds
QUIET = 5.0


@asynccontextmanager
async def booted_charger() -> AsyncIterator[WebSocketConnection]:
    csms = Csms(Config(server=ServerConfig(ping_interval=0)), clock=FixedClock(), store=MemoryStore())
    async with trio.open_nursery() as nursery:
        await nursery.start(csms.run_background)
        ws = await csms.open_memory_connection("/ocpp/CP-1", ["ocpp1.6"])
        await ws.send_message(json.dumps([2, "boot", "BootNotification", BOOT]))
        assert json.loads(await ws.get_message())[2]["status"] == "Accepted"
        yield ws
        nursery.cancel_scope.cancel()


async def reply_to(ws: WebSocketConnection, text: str) -> Any:
    await ws.send_message(text)
    with trio.move_on_after(QUIET):
        return json.loads(await ws.get_message())
    return NO_REPLY


def callerror(uid: str, code: str) -> tuple[str, str]:
    return (uid, code)


LONG_ID = "x" * 37
FRAMES: list[tuple[str, str, Any]] = [
    ("not JSON", "hello", NO_REPLY),
    ("a JSON object", '{"a": 1}', NO_REPLY),
    ("a 3-element CALL", '[2,"a","Heartbeat"]', callerror("a", "FormationViolation")),
    ("a numeric id", '[2,123,"Heartbeat",{}]', callerror("123", "FormationViolation")),
    ("a 37-character id", f'[2,"{LONG_ID}","Heartbeat",{{}}]', callerror(LONG_ID, "FormationViolation")),
    ("an unknown action", '[2,"b","FooBar",{}]', callerror("b", "NotImplemented")),
    ("bootnotification in lower case", '[2,"c","bootnotification",{}]', callerror("c", "NotImplemented")),
    ("a charger sending Reset", '[2,"d","Reset",{"type":"Soft"}]', callerror("d", "NotSupported")),
    (
        "a missing required field",
        '[2,"e","StartTransaction",{"connectorId":1,"idTag":"T","timestamp":"2026-01-01T00:00:00Z"}]',
        callerror("e", "ProtocolError"),
    ),
    ("a wrong type", '[2,"f","Authorize",{"idTag":5}]', callerror("f", "TypeConstraintViolation")),
    (
        "an extra property",
        '[2,"g","Heartbeat",{"extra":true}]',
        callerror("g", "FormationViolation"),
    ),
    (
        "a bad enum",
        '[2,"h","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Occupied"}]',
        callerror("h", "PropertyConstraintViolation"),
    ),
    ("NaN", '[2,"i","MeterValues",{"connectorId":NaN,"meterValue":[]}]', NO_REPLY),
    ("duplicate keys", '[2,"j","Authorize",{"idTag":"A","idTag":"B"}]', NO_REPLY),
    ("a 5,000-digit integer", '[2,"k","Heartbeat",{"n":' + "7" * 5000 + "}]", NO_REPLY),
    ("100,000 nested brackets", "[" * 100_000, NO_REPLY),
    ("a CALLRESULT for an id never sent", '[3,"never-sent",{}]', NO_REPLY),
]


@pytest.mark.parametrize(("name", "text", "expected"), FRAMES, ids=[row[0] for row in FRAMES])
async def test_bad_frame_gets_the_designed_reaction(
    autojump_clock: trio.testing.MockClock, name: str, text: str, expected: Any
) -> None:
    async with booted_charger() as ws:
        frame = await reply_to(ws, text)
        if expected is NO_REPLY:
            assert frame is NO_REPLY, f"{name}: expected no reply, got {frame}"
        else:
            uid, code = expected
            assert frame[:3] == [4, uid, code], f"{name}: {frame}"
            assert isinstance(frame[3], str)
            assert isinstance(frame[4], dict)
        # whatever happened, the session still serves
        heartbeat = await reply_to(ws, '[2,"after","Heartbeat",{}]')
        assert heartbeat[:2] == [3, "after"]
        assert heartbeat[2]["currentTime"].endswith("Z")


async def test_heartbeat_with_null_payload_is_accepted(autojump_clock: trio.testing.MockClock) -> None:
    async with booted_charger() as ws:
        frame = await reply_to(ws, '[2,"n","Heartbeat",null]')
        assert frame[:2] == [3, "n"]
        assert frame[2]["currentTime"].endswith("Z")


async def test_schema_errors_name_the_failing_path(autojump_clock: trio.testing.MockClock) -> None:
    async with booted_charger() as ws:
        frame = await reply_to(ws, '[2,"p","Authorize",{"idTag":"' + "A" * 21 + '"}]')
        assert frame[:3] == [4, "p", "TypeConstraintViolation"]
        assert frame[4]["path"] == "$.idTag"


async def test_binary_frame_and_oversized_message_close_the_socket(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with booted_charger() as ws:
        await ws.send_message(b"\x00\x01")
        with pytest.raises(ConnectionClosed) as closed:
            await ws.get_message()
        assert closed.value.reason.code == 1003
    async with booted_charger() as ws:
        await ws.send_message(
            '[2,"big","DataTransfer",{"vendorId":"v","data":"' + "x" * (2 * 1024 * 1024) + '"}]'
        )
        with pytest.raises(ConnectionClosed) as closed:
            await ws.get_message()
        assert closed.value.reason.code == 1009


@pytest.mark.parametrize(
    ("offered", "selected"),
    [
        ([], 400),
        (["ocpp0.1"], 400),
        (["ocpp0.1", "ocpp1.6"], "ocpp1.6"),
        (["ocpp1.6", "ocpp2.0.1"], "ocpp1.6"),
    ],
)
async def test_subprotocol_selection(
    autojump_clock: trio.testing.MockClock, offered: list[str], selected: int | str
) -> None:
    csms = Csms(Config(server=ServerConfig(ping_interval=0)), clock=FixedClock(), store=MemoryStore())
    async with trio.open_nursery() as nursery:
        await nursery.start(csms.run_background)
        if isinstance(selected, int):
            with pytest.raises(ConnectionRejected) as rejected:
                await csms.open_memory_connection("/ocpp/CP-1", offered)
            assert rejected.value.status_code == selected
        else:
            ws = await csms.open_memory_connection("/ocpp/CP-1", offered)
            assert ws.subprotocol == selected
        nursery.cancel_scope.cancel()
