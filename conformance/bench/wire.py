"""A lean RFC 6455 websocket client on raw Trio sockets, for the load generator.

The conformance simulator uses trio-websocket (wsproto underneath), which checks everything and costs
tens of microseconds of Python per frame. A load generator that is slower than the server it measures
measures itself, so the bench speaks the wire protocol directly: an HTTP/1.1 upgrade with
``Sec-WebSocket-Protocol: ocpp1.6`` (the answer's ``Sec-WebSocket-Accept`` is checked), masked client
frames (RFC 6455 §5.3, a fresh key per frame), pings answered with pongs, fragmented messages
reassembled, a close frame answered. No extensions are offered (no permessage-deflate), as most
chargers do.

One :class:`WsClient` is used by one task at a time: the charger task that sends its CALL also reads
the answer (and answers any ping that arrives meanwhile), so no lock is needed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import struct

import trio

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEADER = 16_384
RECEIVE_SIZE = 65_536

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class WsClosed(Exception):
    """The connection ended (close frame, EOF or a socket error)."""

    def __init__(self, code: int, reason: str):
        super().__init__(f"{code} {reason}".strip())
        self.code = code
        self.reason = reason


class HandshakeFailed(Exception):
    """The server refused or botched the websocket upgrade."""


def encode_frame(opcode: int, payload: bytes, key: int) -> bytes:
    """One FIN frame, masked with the 32-bit ``key`` (client to server frames must be masked)."""
    n = len(payload)
    if n < 126:
        header = struct.pack("!BBI", 0x80 | opcode, 0x80 | n, key)
    elif n < 65_536:
        header = struct.pack("!BBHI", 0x80 | opcode, 0xFE, n, key)
    else:
        header = struct.pack("!BBQI", 0x80 | opcode, 0xFF, n, key)
    if not n:
        return header
    # XOR the whole payload as one big integer: a few C calls instead of a Python loop per byte.
    mask = key.to_bytes(4, "big") * ((n + 3) // 4)
    masked = int.from_bytes(payload, "little") ^ int.from_bytes(mask[:n], "little")
    return header + masked.to_bytes(n, "little")


def unmask(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    mask = key * ((n + 3) // 4)
    return (int.from_bytes(payload, "little") ^ int.from_bytes(mask[:n], "little")).to_bytes(n, "little")


class WsClient:
    """An open websocket connection (after the upgrade)."""

    __slots__ = ("_buffer", "_closed", "_sock")

    def __init__(self, sock: trio.socket.SocketType, leftover: bytes = b""):
        self._sock = sock
        self._buffer = bytearray(leftover)
        self._closed = False

    @classmethod
    async def connect(cls, host: str, port: int, resource: str, subprotocol: str = "ocpp1.6") -> WsClient:
        """TCP connect to ``host:port`` and upgrade ``resource``; raises OSError, HandshakeFailed."""
        family = trio.socket.AF_INET6 if ":" in host else trio.socket.AF_INET
        sock = trio.socket.socket(family, trio.socket.SOCK_STREAM)
        try:
            sock.setsockopt(trio.socket.IPPROTO_TCP, trio.socket.TCP_NODELAY, 1)
            await sock.connect((host, port))
            key = base64.b64encode(os.urandom(16))
            host_header = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            request = (
                f"GET {resource} HTTP/1.1\r\nHost: {host_header}\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: " + key.decode() + "\r\n"
                f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {subprotocol}\r\n\r\n"
            ).encode()
            await _send_all(sock, request)
            head = bytearray()
            while b"\r\n\r\n" not in head:
                if len(head) > MAX_HEADER:
                    raise HandshakeFailed("upgrade answer header too long")
                data = await sock.recv(RECEIVE_SIZE)
                if not data:
                    raise HandshakeFailed("connection closed during the websocket handshake")
                head += data
            end = head.index(b"\r\n\r\n")
            _check_upgrade(bytes(head[:end]), key, subprotocol)
            return cls(sock, bytes(head[end + 4 :]))
        except BaseException:
            sock.close()
            raise

    async def send_text(self, text: str) -> None:
        await self._send(OP_TEXT, text.encode())

    async def _send(self, opcode: int, payload: bytes) -> None:
        try:
            await _send_all(self._sock, encode_frame(opcode, payload, random.getrandbits(32)))
        except OSError as exc:
            raise WsClosed(1006, f"send failed: {exc}") from None

    async def receive_text(self) -> str:
        """The next text message; pings are answered on the way. Raises WsClosed when the connection
        ends (after answering a close frame)."""
        fragments: list[bytes] | None = None
        while True:
            opcode, fin, payload = await self._frame()
            if opcode in (OP_TEXT, OP_BINARY):
                if fin:
                    return payload.decode()  # a binary frame is returned as text too; the caller's JSON fails
                fragments = [payload]
            elif opcode == OP_CONT and fragments is not None:
                fragments.append(payload)
                if fin:
                    return b"".join(fragments).decode()
            elif opcode == OP_PING:
                with trio.CancelScope(shield=True):  # half a frame on the wire would break the stream
                    await self._send(OP_PONG, payload)
            elif opcode == OP_CLOSE:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                reason = payload[2:].decode(errors="replace")
                if not self._closed:
                    self._closed = True
                    try:
                        with trio.CancelScope(shield=True):
                            await self._send(OP_CLOSE, payload[:2])
                    except WsClosed:
                        pass
                raise WsClosed(code, reason)
            # pong, or a stray continuation frame: ignored

    async def _frame(self) -> tuple[int, bool, bytes]:
        buffer = self._buffer
        while True:
            if len(buffer) >= 2:
                second = buffer[1]
                length = second & 0x7F
                start = 2
                if length == 126:
                    start = 4
                    length = int.from_bytes(buffer[2:4], "big") if len(buffer) >= 4 else -1
                elif length == 127:
                    start = 10
                    length = int.from_bytes(buffer[2:10], "big") if len(buffer) >= 10 else -1
                masked = second & 0x80
                if masked:
                    start += 4
                if length >= 0 and len(buffer) >= start + length:
                    first = buffer[0]
                    payload = bytes(buffer[start : start + length])
                    if masked:  # servers must not mask, but be lenient
                        payload = unmask(payload, bytes(buffer[start - 4 : start]))
                    del buffer[: start + length]
                    return first & 0x0F, bool(first & 0x80), payload
            try:
                data = await self._sock.recv(RECEIVE_SIZE)
            except OSError as exc:
                raise WsClosed(1006, f"receive failed: {exc}") from None
            if not data:
                raise WsClosed(1006, "connection closed without a close frame")
            buffer += data

    async def aclose(self, wait: float = 2.0) -> None:
        """Send a normal close (1000), wait (bounded) for the server's close frame, close the socket."""
        try:
            if not self._closed:
                self._closed = True
                with trio.move_on_after(wait):
                    await self._send(OP_CLOSE, (1000).to_bytes(2, "big"))
                    while True:
                        opcode, _fin, _payload = await self._frame()
                        if opcode == OP_CLOSE:
                            break
        except WsClosed:
            pass
        finally:
            self._sock.close()

    def abort(self) -> None:
        self._closed = True
        self._sock.close()


async def _send_all(sock: trio.socket.SocketType, data: bytes) -> None:
    view = memoryview(data)
    while view:
        sent = await sock.send(view)
        view = view[sent:]


def _check_upgrade(head: bytes, key: bytes, subprotocol: str) -> None:
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ", 2)
    if len(status) < 2 or status[1] != "101":
        raise HandshakeFailed(f"upgrade refused: {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    expected = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
    if headers.get("sec-websocket-accept") != expected:
        raise HandshakeFailed("wrong Sec-WebSocket-Accept in the upgrade answer")
    if headers.get("sec-websocket-protocol") != subprotocol:
        raise HandshakeFailed(f"server did not select subprotocol {subprotocol}")
