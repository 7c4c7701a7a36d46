"""The server websocket layer on Trio: the opening handshake, messages, ping/pong, both closing
directions, the close frames for protocol failures, aclose racing a blocked reader, concurrent control
frames, and interoperability with trio-websocket's client (memory streams, virtual time; a loopback
TCP pair at the end)."""

from __future__ import annotations

import base64
import datetime as dt
import ssl
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import pytest
import trio
import trio.lowlevel
import trio.testing
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from trio_websocket import ConnectionClosed as ClientClosed
from trio_websocket import open_websocket, wrap_client_stream

from engine.protocol.wsframes import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    close_payload,
    encode_client_frame,
)
from engine.server.websocket import (
    CloseReason,
    ConnectionClosed,
    HandshakeError,
    ServerWebSocket,
    accept_key,
    format_address,
    read_handshake,
)

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def upgrade(
    target: str = "/ocpp/CP-1",
    *,
    protocols: list[str] | None = None,
    key: str | None = KEY,
    version: str | None = "13",
    connection: str = "Upgrade",
    upgrade_to: str | None = "websocket",
    method: str = "GET",
    extra: list[str] | None = None,
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: localhost"]
    if upgrade_to is not None:
        lines.append(f"Upgrade: {upgrade_to}")
    lines.append(f"Connection: {connection}")
    if key is not None:
        lines.append(f"Sec-WebSocket-Key: {key}")
    if version is not None:
        lines.append(f"Sec-WebSocket-Version: {version}")
    lines.extend(f"Sec-WebSocket-Protocol: {value}" for value in (protocols or []))
    lines.extend(extra or [])
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class RawClient:
    """The client end of a memory stream, speaking bytes: reads responses and server frames."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.buffer = b""

    async def _fill(self) -> bool:
        chunk = await self.stream.receive_some()
        self.buffer += chunk
        return bool(chunk)

    async def response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            assert await self._fill(), f"EOF before a full response: {self.buffer!r}"
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        status = int(status_line.split()[1])
        if status != 101:
            while await self._fill():
                pass
        return status, headers, self.buffer

    async def frame(self) -> tuple[int, bytes] | None:
        """The next server frame (None at EOF); server frames are never masked."""
        while True:
            if len(self.buffer) >= 2:
                first, second = self.buffer[0], self.buffer[1]
                assert not second & 0x80, "a server frame must not be masked"
                assert first & 0x80, "this server never fragments"
                length, header = second & 0x7F, 2
                if length == 126:
                    header = 4
                elif length == 127:
                    header = 10
                if len(self.buffer) >= header:
                    if header > 2:
                        length = int.from_bytes(self.buffer[2:header], "big")
                    if len(self.buffer) >= header + length:
                        payload = self.buffer[header : header + length]
                        self.buffer = self.buffer[header + length :]
                        return first & 0x0F, payload
            if not await self._fill():
                assert not self.buffer, f"EOF inside a frame: {self.buffer!r}"
                return None

    async def close_frame(self) -> tuple[int | None, str]:
        got = await self.frame()
        assert got is not None and got[0] == OP_CLOSE, got
        payload = got[1]
        if not payload:
            return None, ""
        return int.from_bytes(payload[:2], "big"), payload[2:].decode()

    async def at_eof(self) -> bool:
        return await self.frame() is None

    async def send(
        self, opcode: int, payload: bytes = b"", *, fin: bool = True, mask: bytes | None = None
    ) -> None:
        await self.stream.send_all(encode_client_frame(opcode, payload, fin=fin, mask=mask))

    async def send_close(self, code: int | None = 1000, reason: str = "") -> None:
        await self.send(OP_CLOSE, close_payload(code, reason))


async def connected(
    *, trailing: bytes = b"", max_message_size: int = 1 << 20, close_timeout: float = 5.0
) -> tuple[ServerWebSocket, RawClient, trio.testing.MemorySendStream]:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    await client_stream.send_all(upgrade(protocols=["ocpp1.6"]) + trailing)
    request = await read_handshake(
        server_stream, max_message_size=max_message_size, close_timeout=close_timeout
    )
    ws = await request.accept("ocpp1.6")
    client = RawClient(client_stream)
    status, _, _ = await client.response()
    assert status == 101
    send_stream = server_stream.send_stream
    assert isinstance(send_stream, trio.testing.MemorySendStream)
    return ws, client, send_stream


async def closed_with(get: Callable[[], Awaitable[object]]) -> CloseReason:
    with pytest.raises(ConnectionClosed) as raised:
        await get()
    return raised.value.reason


# ---------------------------------------------------------------------------------------------- handshake


async def test_the_request_shows_path_subprotocols_and_remote() -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    await client_stream.send_all(
        upgrade("/ocpp/CP-1?token=a%20b&x=/y", protocols=["ocpp1.5, ocpp1.6", "  ocpp2.0.1 ,"])
    )
    request = await read_handshake(server_stream)
    assert request.path == "/ocpp/CP-1?token=a%20b&x=/y"
    assert request.proposed_subprotocols == ["ocpp1.5", "ocpp1.6", "ocpp2.0.1"]
    assert request.remote == "an in-memory stream"
    assert (b"host", b"localhost") in request.headers


@pytest.mark.parametrize("subprotocol", ["ocpp1.6", None])
async def test_accept_answers_101_with_the_accept_key(subprotocol: str | None) -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    await client_stream.send_all(upgrade(protocols=["ocpp1.6"]))
    request = await read_handshake(server_stream)
    await request.accept(subprotocol)
    status, headers, rest = await RawClient(client_stream).response()
    assert status == 101
    assert headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 §1.3
    assert headers["upgrade"] == "websocket"
    assert headers["connection"].lower() == "upgrade"
    assert headers.get("sec-websocket-protocol") == subprotocol
    assert rest == b""
    with pytest.raises(RuntimeError, match="already answered"):
        await request.reject(400)


def test_accept_key_and_addresses() -> None:
    assert accept_key(KEY.encode()) == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert format_address(("127.0.0.1", 5555)) == "127.0.0.1:5555"
    assert format_address(("::1", 5555, 0, 0)) == "[::1]:5555"


async def test_reject_sends_status_headers_and_body() -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    await client_stream.send_all(upgrade())
    request = await read_handshake(server_stream)
    await request.reject(404, extra_headers=[(b"Content-Type", b"text/plain")], body=b"nope\n")
    await server_stream.aclose()
    status, headers, body = await RawClient(client_stream).response()
    assert status == 404
    assert headers["content-type"] == "text/plain"
    assert headers["content-length"] == "5"
    assert body == b"nope\n"


@pytest.mark.parametrize(
    ("request_bytes", "status", "header"),
    [
        (b"GET /ocpp/CP-1 HTTP/1.1\r\nHost: localhost\r\n\r\n", 426, ("upgrade", "websocket")),
        (upgrade(upgrade_to=None), 426, ("upgrade", "websocket")),
        (upgrade(upgrade_to="h2c"), 426, ("upgrade", "websocket")),
        (upgrade(version="8"), 426, ("sec-websocket-version", "13")),
        (upgrade(version=None), 426, ("sec-websocket-version", "13")),
        (upgrade(key=None), 400, None),
        (upgrade(key="c2hvcnQ="), 400, None),  # decodes to 5 bytes, not 16
        (upgrade(key="not base64!"), 400, None),
        (upgrade(extra=[f"Sec-WebSocket-Key: {KEY}"]), 400, None),
        (upgrade(connection="keep-alive"), 400, None),
        (upgrade(method="POST"), 405, ("allow", "GET")),
        (upgrade(extra=["Content-Length: 4"]), 400, None),
        (upgrade("/ocpp/\xe9t\xe9".encode().decode("latin-1")), 400, None),
        (b"\x16\x03\x01\x02\x00 not http at all\r\n\r\n", 400, None),
        (upgrade(extra=["X-Padding: " + "a" * 20_000]), 400, None),
        (b"GET /ocpp/CP-1 HTTP/1.1\r\n\r\n", 400, None),  # HTTP/1.1 without Host
    ],
)
async def test_requests_that_are_no_websocket_upgrade_are_answered_and_refused(
    request_bytes: bytes, status: int, header: tuple[str, str] | None
) -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    await client_stream.send_all(request_bytes)
    with pytest.raises(HandshakeError):
        await read_handshake(server_stream)
    await server_stream.aclose()
    got, headers, body = await RawClient(client_stream).response()
    assert got == status
    assert headers["connection"] == "close"
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert body.endswith(b"\n")
    if header is not None:
        assert headers[header[0]] == header[1]


async def test_connection_and_upgrade_are_case_insensitive_token_lists() -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    await client_stream.send_all(upgrade(connection="keep-alive, UPGRADE", upgrade_to="WebSocket"))
    request = await read_handshake(server_stream)
    assert request.proposed_subprotocols == []


async def test_a_stream_ending_before_the_request_is_a_handshake_error() -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    await client_stream.send_all(upgrade()[:20])
    await client_stream.aclose()
    with pytest.raises(HandshakeError, match="ended before a complete request"):
        await read_handshake(server_stream)


async def test_a_request_arriving_a_byte_at_a_time_is_read() -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:

        async def trickle() -> None:
            for byte in upgrade(protocols=["ocpp1.6"]):
                await client_stream.send_all(bytes((byte,)))
                await trio.lowlevel.checkpoint()

        nursery.start_soon(trickle)
        request = await read_handshake(server_stream)
    assert request.proposed_subprotocols == ["ocpp1.6"]


async def test_bytes_sent_right_after_the_request_are_not_lost() -> None:
    trailing = encode_client_frame(OP_TEXT, b"first") + encode_client_frame(OP_TEXT, b"second")
    ws, _, _ = await connected(trailing=trailing)
    assert await ws.get_message() == "first"
    assert await ws.get_message() == "second"


# ---------------------------------------------------------------------------------------------- messages


async def test_messages_both_ways() -> None:
    ws, client, _ = await connected()
    await client.send(OP_TEXT, "héllo".encode())
    await client.send(OP_BINARY, b"\x00\x01")
    await client.send(OP_TEXT, b"frag", fin=False)
    await client.send(OP_CONTINUATION, b"mented")
    assert await ws.get_message() == "héllo"
    assert await ws.get_message() == b"\x00\x01"
    assert await ws.get_message() == "fragmented"
    await ws.send_message("answer")
    assert await client.frame() == (OP_TEXT, b"answer")
    assert ws.closed is None


async def test_a_client_ping_is_answered_by_the_reader() -> None:
    ws, client, _ = await connected()
    await client.send(OP_PING, b"p1")
    await client.send(OP_TEXT, b"after the ping")
    assert await ws.get_message() == "after the ping"
    assert await client.frame() == (OP_PONG, b"p1")


async def test_a_ping_is_answered_once_its_pong_is_read(autojump_clock: trio.testing.MockClock) -> None:
    ws, client, _ = await connected()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(ws.get_message)  # the reader that sees the pongs
        first = await ws.send_ping()
        opcode, payload = await client.frame() or (None, b"")
        assert opcode == OP_PING
        assert len(payload) == 8
        assert not ws.answered(first)
        await client.send(OP_PONG, b"unsolicited")
        await client.send(OP_PONG, (99).to_bytes(8, "big"))  # the payload of a ping never sent
        await trio.sleep(1)
        assert not ws.answered(first)
        await client.send(OP_PONG, payload)
        await trio.sleep(1)
        assert ws.answered(first)
        # A pong for a later ping answers the earlier ones too; an older pong does not answer a later ping.
        second, third = await ws.send_ping(), await ws.send_ping()
        frames = [await client.frame(), await client.frame()]
        assert [f[0] for f in frames if f] == [OP_PING, OP_PING]
        assert frames[0] and frames[1] and frames[0][1] != frames[1][1]
        await client.send(OP_PONG, payload)
        await trio.sleep(1)
        assert not ws.answered(second)
        await client.send(OP_PONG, frames[1][1])
        await trio.sleep(1)
        assert ws.answered(second) and ws.answered(third)
        nursery.cancel_scope.cancel()


async def test_a_ping_stays_unanswered_and_pings_fail_once_the_connection_closed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ws, client, _ = await connected()
    async with trio.open_nursery() as nursery:
        reader: list[CloseReason] = []

        async def reader_fails() -> None:
            reader.append(await closed_with(ws.get_message))

        nursery.start_soon(reader_fails)
        ping = await ws.send_ping()
        assert (await client.frame() or (0,))[0] == OP_PING
        await client.stream.aclose()
    assert reader == [CloseReason(1006, None)]
    assert not ws.answered(ping)
    assert await closed_with(ws.send_ping) == CloseReason(1006, None)


# ---------------------------------------------------------------------------------------------- closing


async def test_the_peers_close_frame_is_echoed_and_the_stream_closed() -> None:
    ws, client, _ = await connected()
    await client.send_close(1001, "going away")
    reason = await closed_with(ws.get_message)
    assert reason == CloseReason(1001, "going away")
    assert ws.closed == reason
    assert await client.close_frame() == (1001, "")
    assert await client.at_eof()
    assert await closed_with(lambda: ws.send_message("late")) == reason
    await ws.aclose()  # idempotent, nothing more sent


async def test_a_close_frame_without_a_code_is_answered_with_an_empty_one() -> None:
    ws, client, _ = await connected()
    await client.send_close(None)
    assert await closed_with(ws.get_message) == CloseReason(1005, None)
    assert await client.close_frame() == (None, "")


async def test_aclose_sends_our_code_and_waits_for_the_peers_close(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ws, client, _ = await connected()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(ws.aclose, 1008, "policy")
        assert await client.close_frame() == (1008, "policy")
        assert ws.closed == CloseReason(1008, "policy")
        await trio.sleep(1)
        await client.send_close(1008)
    assert trio.current_time() == 1.0  # returned at the peer's close, not at the timeout
    assert await client.at_eof()
    assert await closed_with(ws.get_message) == CloseReason(1008, "policy")
    assert await closed_with(lambda: ws.send_message("late")) == CloseReason(1008, "policy")
    await ws.aclose(1000)
    assert ws.closed == CloseReason(1008, "policy")


async def test_aclose_gives_up_on_a_silent_peer_after_close_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ws, client, _ = await connected(close_timeout=3.0)
    await ws.aclose()
    assert trio.current_time() == 3.0
    assert await client.close_frame() == (1000, "")
    assert await client.at_eof()


async def test_a_peer_that_reads_nothing_cannot_hold_a_close_up(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ws, _, send_stream = await connected(close_timeout=4.0)

    async def never_drains() -> None:
        await trio.sleep_forever()

    send_stream.send_all_hook = never_drains
    async with trio.open_nursery() as nursery:
        nursery.start_soon(ws.send_message, "stuck")  # holds the writer until cancelled
        await trio.testing.wait_all_tasks_blocked()
        await ws.aclose(1001)
        nursery.cancel_scope.cancel()  # a socket would fail that send once closed; a memory stream does not
    assert trio.current_time() == 4.0
    assert ws.closed == CloseReason(1001, None)


async def test_aclose_refuses_a_code_no_endpoint_may_send() -> None:
    ws, _, _ = await connected()
    with pytest.raises(ValueError, match="1006"):
        await ws.aclose(1006)
    assert ws.closed is None


async def test_aclose_from_another_task_while_get_message_is_blocked(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ws, client, _ = await connected()
    reasons: list[CloseReason] = []

    async def reader() -> None:
        reasons.append(await closed_with(ws.get_message))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(reader)
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(ws.aclose, 1001, "shutting down")
        assert await client.close_frame() == (1001, "shutting down")
        await client.send(OP_TEXT, b"still in flight")  # read and dropped while closing
        await trio.sleep(1)
        assert reasons == []
        await client.send_close(1001)
    assert reasons == [CloseReason(1001, "shutting down")]
    assert trio.current_time() == 1.0
    assert await client.at_eof()


async def test_aclose_takes_over_reading_when_the_blocked_reader_is_cancelled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ws, client, _ = await connected()
    async with trio.open_nursery() as nursery:
        reader_scope = trio.CancelScope()

        async def reader() -> None:
            with reader_scope:
                await ws.get_message()

        nursery.start_soon(reader)
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(ws.aclose, 1000, None)
        assert await client.close_frame() == (1000, "")
        reader_scope.cancel()
        await trio.sleep(1)
        await client.send_close(1000)
    assert trio.current_time() == 1.0
    assert await client.at_eof()


async def test_the_end_of_the_stream_without_a_close_frame_is_1006() -> None:
    ws, client, _ = await connected()
    await client.stream.aclose()
    assert await closed_with(ws.get_message) == CloseReason(1006, None)
    assert ws.closed == CloseReason(1006, None)
    await ws.aclose()


@pytest.mark.parametrize(
    ("wire", "code"),
    [
        (encode_client_frame(OP_TEXT, b'[2,"u","Heartbeat",{}]', mask=b""), 1002),
        (encode_client_frame(OP_TEXT, b'[2,"u","Authorize",{"idTag":"\xff"}]'), 1007),
        (encode_client_frame(OP_TEXT, b"x" * 101), 1009),
        (
            encode_client_frame(OP_TEXT, b"x" * 60, fin=False)
            + encode_client_frame(OP_CONTINUATION, b"x" * 41),
            1009,
        ),
        (encode_client_frame(0x3, b""), 1002),
        (encode_client_frame(OP_CLOSE, (1006).to_bytes(2, "big")), 1002),
    ],
)
async def test_a_protocol_failure_is_answered_with_a_real_close_frame(
    autojump_clock: trio.testing.MockClock, wire: bytes, code: int
) -> None:
    ws, client, _ = await connected(max_message_size=100)
    await client.stream.send_all(wire)
    reasons: list[CloseReason] = []

    async def reader() -> None:
        reasons.append(await closed_with(ws.get_message))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(reader)
        got_code, _ = await client.close_frame()
        assert got_code == code
        await trio.sleep(1)
        await client.send_close(code)  # the peer's answer ends the wait at once
    assert [reason.code for reason in reasons] == [code]
    assert ws.closed is not None and ws.closed.code == code
    assert trio.current_time() == 1.0
    assert await client.at_eof()


async def test_a_failure_with_a_silent_peer_closes_after_close_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ws, client, _ = await connected(close_timeout=2.0)
    await client.send(OP_TEXT, b"\xc3\x28")
    assert (await closed_with(ws.get_message)).code == 1007
    assert trio.current_time() == 2.0
    assert await client.close_frame() == (1007, "text message is not valid UTF-8")
    assert await client.at_eof()


async def test_a_huge_declared_length_is_refused_before_its_payload(
    autojump_clock: trio.testing.MockClock,
) -> None:
    ws, client, _ = await connected()
    header = bytes((0x81, 0xFF)) + (1 << 40).to_bytes(8, "big") + b"\x01\x02\x03\x04"
    await client.stream.send_all(header + b"x" * 1000)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(closed_with, ws.get_message)
        assert await client.close_frame() == (1009, "message over the 1048576-byte limit")
        await client.stream.aclose()  # the charger hangs up: EOF ends the server's wait
    assert ws.closed == CloseReason(1009, "message over the 1048576-byte limit")


# -------------------------------------------------------------------------------------- concurrent writes


async def test_control_frames_wait_for_a_message_being_written(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A Trio stream refuses two concurrent send_all calls: a pong or a ping sent while a message is
    being written must wait for it, not fail."""
    ws, client, send_stream = await connected()
    pump = send_stream.send_all_hook
    assert pump is not None

    async def slow_send() -> None:
        await pump()
        await trio.sleep(1)  # send_all stays busy for a second after the bytes went out

    send_stream.send_all_hook = slow_send
    async with trio.open_nursery() as nursery:
        nursery.start_soon(ws.send_message, "slow")
        await trio.testing.wait_all_tasks_blocked()
        await client.send(OP_PING, b"from the client")
        await client.send(OP_TEXT, b"next")
        assert await ws.get_message() == "next"  # its pong waited for the message, then went out
        nursery.start_soon(ws.send_ping)
        nursery.start_soon(ws.send_message, "more")
        assert await client.frame() == (OP_TEXT, b"slow")
        assert await client.frame() == (OP_PONG, b"from the client")
        third = await client.frame()
        fourth = await client.frame()
        assert third is not None and fourth is not None
        assert sorted([third[0], fourth[0]]) == [OP_TEXT, OP_PING]
        nursery.cancel_scope.cancel()


# --------------------------------------------------------------------------------------- trio-websocket


async def echo(ws: ServerWebSocket) -> CloseReason:
    """Echo every message until the peer closes; returns how it ended."""
    while True:
        try:
            message = await ws.get_message()
        except ConnectionClosed as closed:
            return closed.reason
        if message == "close please":
            await ws.aclose(4000, "as asked")
            return CloseReason(4000, "as asked")
        await ws.send_message(message if isinstance(message, str) else f"{len(message)} bytes")


async def test_trio_websockets_client_over_a_memory_stream(autojump_clock: trio.testing.MockClock) -> None:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    ended: list[CloseReason] = []

    async def server() -> None:
        request = await read_handshake(server_stream)
        assert request.proposed_subprotocols == ["ocpp1.6"]
        ws = await request.accept("ocpp1.6")
        ended.append(await echo(ws))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(server)
        client = await wrap_client_stream(
            nursery,
            client_stream,  # type: ignore[arg-type]
            "localhost",
            "/ocpp/CP-1",
            subprotocols=["ocpp1.6"],
        )
        assert client.subprotocol == "ocpp1.6"
        await client.send_message("hello")
        assert await client.get_message() == "hello"
        big = "é" * 100_000
        await client.send_message(big)
        assert await client.get_message() == big
        await client.send_message(b"\x00" * 10)
        assert await client.get_message() == "10 bytes"
        await client.ping(b"keepalive")  # returns on our pong
        await client.aclose(1000, "bye")
    assert ended == [CloseReason(1000, "bye")]


def tls_contexts(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh self-signed certificate for "localhost", and a client trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(str(cert_file), str(key_file))
    client = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(cert_file))
    return server, client


async def test_over_tls_on_a_memory_stream(tmp_path: Path) -> None:
    server_context, client_context = tls_contexts(tmp_path)
    client_raw, server_raw = trio.testing.memory_stream_pair()
    server_stream = trio.SSLStream(server_raw, server_context, server_side=True)
    client_stream = trio.SSLStream(client_raw, client_context, server_hostname="localhost")
    ended: list[CloseReason] = []

    async def server() -> None:
        request = await read_handshake(server_stream)
        assert request.remote == "an in-memory stream"
        ended.append(await echo(await request.accept("ocpp1.6")))

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(server)
            client = await wrap_client_stream(
                nursery,
                client_stream,  # type: ignore[arg-type]
                "localhost",
                "/ocpp/CP-1",
                subprotocols=["ocpp1.6"],
            )
            await client.send_message("over TLS")
            assert await client.get_message() == "over TLS"
            await client.aclose(1000)
    assert ended == [CloseReason(1000, None)]


@pytest.mark.socket
async def test_trio_websockets_client_over_loopback_tcp() -> None:
    ended: list[CloseReason] = []

    async def handler(stream: trio.SocketStream) -> None:
        request = await read_handshake(stream)
        assert request.remote.startswith("127.0.0.1:")
        ws = await request.accept("ocpp1.6")
        ended.append(await echo(ws))

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            [listener] = await nursery.start(partial(trio.serve_tcp, handler, 0, host="127.0.0.1"))
            port = listener.socket.getsockname()[1]
            # Our own TCP stream: trio-websocket's client never closes its stream when the server closed
            # first (its aclose returns early), which would leave the socket to the garbage collector.
            async with await trio.open_tcp_stream("127.0.0.1", port) as stream, trio.open_nursery() as client:
                ws = await wrap_client_stream(
                    client, stream, "127.0.0.1", "/ocpp/CP-1", subprotocols=["ocpp1.6"]
                )
                assert ws.subprotocol == "ocpp1.6"
                for size in (1, 125, 126, 65535, 65536, 300_000):
                    await ws.send_message("a" * size)
                    assert await ws.get_message() == "a" * size
                await ws.ping()
                await ws.send_message("close please")
                with pytest.raises(ClientClosed) as closed:
                    await ws.get_message()
                reason = closed.value.reason
                assert reason is not None and (reason.code, reason.reason) == (4000, "as asked")
                client.cancel_scope.cancel()
            async with open_websocket(
                "127.0.0.1", port, "/ocpp/CP-2", use_ssl=False, subprotocols=["ocpp1.6"]
            ) as ws:
                await ws.send_message("one")
                assert await ws.get_message() == "one"
            nursery.cancel_scope.cancel()
    assert ended == [CloseReason(4000, "as asked"), CloseReason(1000, None)]


def test_the_accept_key_is_base64_of_20_bytes() -> None:
    assert len(base64.b64decode(accept_key(b"x"))) == 20
