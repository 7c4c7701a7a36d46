"""A few real-socket checks on 127.0.0.1 (port 0), each bounded: the TCP listener behaves like the
in-memory path the other shell tests use."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket, wrap_client_stream

from engine.clock import format_timestamp
from engine.config import Config, ServerConfig
from engine.profiles.base import ChargerContext, Payload
from engine.protocol.validation import default_registry
from engine.server import Csms
from engine.store import MemoryStore

pytestmark = pytest.mark.socket

UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def boot(ctx: ChargerContext, payload: Payload) -> Payload:
    return {"status": "Accepted", "currentTime": format_timestamp(ctx.utc_now()), "interval": 300}


async def heartbeat(ctx: ChargerContext, payload: Payload) -> Payload:
    return {"currentTime": format_timestamp(ctx.utc_now())}


@asynccontextmanager
async def running() -> AsyncIterator[tuple[Csms, int]]:
    config = Config(server=ServerConfig(port=0, ping_interval=0))
    csms = Csms(
        config,
        schemas=default_registry(),
        handlers={"BootNotification": boot, "Heartbeat": heartbeat},
        store=MemoryStore(),
    )
    async with trio.open_nursery() as nursery:
        [port] = await nursery.start(csms.serve)
        yield csms, port
        nursery.cancel_scope.cancel()


def connect(port: int, identity: str = "CP-1") -> AbstractAsyncContextManager[WebSocketConnection]:
    return open_websocket("127.0.0.1", port, f"/ocpp/{identity}", use_ssl=False, subprotocols=["ocpp1.6"])


async def rpc(ws: WebSocketConnection, uid: str, action: str, payload: Payload) -> list[object]:
    await ws.send_message(json.dumps([2, uid, action, payload]))
    message = await ws.get_message()
    assert isinstance(message, str)
    frame = json.loads(message)
    assert isinstance(frame, list)
    return frame


async def test_boot_and_heartbeat_over_tcp() -> None:
    with trio.fail_after(10):
        async with running() as (csms, port), connect(port) as ws:
            assert ws.subprotocol == "ocpp1.6"
            boot_answer = await rpc(
                ws, "1", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}
            )
            assert boot_answer[:2] == [3, "1"]
            payload = boot_answer[2]
            assert isinstance(payload, dict)
            assert payload["status"] == "Accepted"
            assert UTC_Z.match(payload["currentTime"])
            heartbeat_answer = await rpc(ws, "2", "Heartbeat", {})
            assert isinstance(heartbeat_answer[2], dict)
            assert UTC_Z.match(heartbeat_answer[2]["currentTime"])
            assert csms.connected_chargers() == ["CP-1"]


async def test_missing_subprotocol_is_refused_with_400_before_upgrading() -> None:
    request = (
        b"GET /ocpp/CP-1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with trio.fail_after(10):
        async with running() as (_, port):
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            async with stream:
                await stream.send_all(request)
                raw = b""
                while chunk := await stream.receive_some():
                    raw += chunk
    status_line, _, rest = raw.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 400 ")
    assert rest.endswith(
        b"\r\n\r\nMissing Sec-WebSocket-Protocol header; this Central System supports ocpp1.6\n"
    )


async def test_duplicate_connection_replaces_the_old_one() -> None:
    with trio.fail_after(10):
        async with running() as (csms, port), trio.open_nursery() as nursery:
            # The old client's socket is ours to close: trio-websocket's client leaves it open when the
            # server is the side that closes.
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            async with stream:
                old = await wrap_client_stream(
                    nursery, stream, "127.0.0.1", "/ocpp/CP-1", subprotocols=["ocpp1.6"]
                )
                assert (await rpc(old, "o1", "Heartbeat", {}))[:2] == [3, "o1"]
                async with connect(port) as new:
                    with pytest.raises(ConnectionClosed) as info:
                        await old.get_message()
                    assert info.value.reason is not None
                    assert (info.value.reason.code, info.value.reason.reason) == (1000, "replaced")
                    answer = await rpc(new, "n1", "Heartbeat", {})
                    assert answer[:2] == [3, "n1"]
                    assert csms.connected_chargers() == ["CP-1"]
