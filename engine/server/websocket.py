"""The server side of RFC 6455 on Trio, over any ``trio.abc.Stream`` (TCP, ``trio.SSLStream``, memory).

:func:`read_handshake` reads the opening handshake (parsed with h11) and returns a
:class:`HandshakeRequest`, which the listener accepts (101, giving a :class:`ServerWebSocket`) or rejects
with a status and a body. Requests that are no websocket upgrade are answered here: 405 for another
method, 426 (with ``Upgrade: websocket`` and ``Sec-WebSocket-Version: 13``) for a plain GET or another
websocket version, 400 for other malformed requests, including headers over ``max_header_size`` bytes.

:class:`ServerWebSocket` has no task of its own and no channel: the task calling :meth:`get_message`
reads the stream and runs the sans-IO :class:`~engine.protocol.wsframes.FrameDecoder` inline, answers
pings with pongs, notes pongs to our pings, and takes part in the closing handshake. It follows that
:meth:`answered` turns true only while some task is in :meth:`get_message` (a session's reader always
is); the task that sent the ping looks at it when its pong is due, without waiting on anything.

Closing (RFC 6455 §7): the peer's close frame is answered with a close frame echoing its code, then the
stream is closed (the server closes TCP first). On a protocol failure the decoder reports (1002, 1007,
1009) the close frame carries that code. After our close frame, the peer's close frame or the end of
the stream is awaited, reading and discarding what the peer still sends; then the stream is closed.
Sending the close frame and waiting take at most ``close_timeout`` seconds together (a peer that reads
nothing cannot hold a close up). That reading matters: closing a TCP socket with unread data resets
the connection, and a reset can destroy our close frame before the peer reads it. :meth:`aclose` may
be called from another task while :meth:`get_message` is blocked: it sends the close frame and leaves
the reading to the blocked reader (or takes it over when the reader is gone).

Writes: the session serialises its :meth:`send_message` calls with its own lock, so none is kept here
for messages. Control frames are sent from other tasks, though (pongs from the reader, pings from the
session's supervising task, close frames from :meth:`aclose`), and a Trio stream refuses two concurrent
``send_all`` calls; a busy flag makes a second writer wait, with a ``ParkingLot`` created only on such
contention.

Per-connection memory is kept small: ``__slots__``, no nursery, no task, receive buffers of
:data:`RECEIVE_SIZE` bytes that are dropped once parsed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import http
import logging
from typing import Any, Final

import h11
import trio

from engine.protocol.wsframes import (
    ABNORMAL_CLOSURE,
    BinaryMessage,
    CloseReceived,
    Event,
    FrameDecoder,
    Ping,
    Pong,
    ProtocolFailure,
    TextMessage,
    encode_close,
    encode_ping,
    encode_pong,
    encode_text,
    is_valid_close_code,
)

logger = logging.getLogger(__name__)

RECEIVE_SIZE: Final = 16384
#: our ping payloads: the ping's number, big-endian
PING_PAYLOAD_SIZE: Final = 8
MAX_HEADER_SIZE: Final = 16384
ACCEPT_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
Header = tuple[bytes, bytes]


class CloseReason:
    """How a websocket ended: the close code (1006 when the stream ended without a close frame) and the
    reason (None when there was none)."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str | None) -> None:
        self.code = code
        self.reason = reason

    def __repr__(self) -> str:
        return f"CloseReason(code={self.code}, reason={self.reason!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CloseReason):
            return NotImplemented
        return (self.code, self.reason) == (other.code, other.reason)

    def __hash__(self) -> int:
        return hash((self.code, self.reason))


class ConnectionClosed(Exception):
    """The websocket is closed (or closing); ``reason`` says how."""

    def __init__(self, reason: CloseReason) -> None:
        super().__init__(reason)
        self.reason = reason


class HandshakeError(Exception):
    """The opening handshake failed: not a websocket upgrade (already answered), or the stream ended."""


# ------------------------------------------------------------------------------------------- handshake


def accept_key(key: bytes) -> bytes:
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key`` (RFC 6455 §4.2.2)."""
    return base64.b64encode(hashlib.sha1(key + ACCEPT_GUID).digest())


def format_address(sockname: Any) -> str:
    """``host:port`` for a socket address (``[host]:port`` for IPv6)."""
    host, port = str(sockname[0]), sockname[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def describe_peer(stream: trio.abc.Stream) -> str:
    """The peer's address for logs: ``host:port``, or what kind of stream it is."""
    transport: trio.abc.Stream = stream
    while isinstance(transport, trio.SSLStream):
        transport = transport.transport_stream
    if isinstance(transport, trio.SocketStream):
        try:
            return format_address(transport.socket.getpeername())
        except OSError:
            return "a disconnected peer"
    return "an in-memory stream"


def _tokens(values: list[bytes]) -> list[str]:
    """The comma-separated tokens of one or more header values, stripped, empty ones dropped."""
    return [
        token
        for value in values
        for token in (part.strip() for part in value.decode("latin-1").split(","))
        if token
    ]


def http_response(status: int, headers: list[Header], body: bytes = b"") -> bytes:
    """A complete HTTP/1.1 response that ends the connection (a 101 has no body and stays open)."""
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    lines = [f"HTTP/1.1 {status} {phrase}".encode("latin-1")]
    lines.extend(name + b": " + value for name, value in headers)
    if status != 101:
        lines.append(b"Content-Length: " + str(len(body)).encode())
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class HandshakeRequest:
    """A websocket upgrade request, valid as such, waiting to be accepted or rejected."""

    __slots__ = (
        "_answered",
        "_close_timeout",
        "_key",
        "_max_message_size",
        "_stream",
        "_trailing",
        "headers",
        "path",
        "proposed_subprotocols",
        "remote",
    )

    def __init__(
        self,
        stream: trio.abc.Stream,
        *,
        path: str,
        headers: list[Header],
        proposed_subprotocols: list[str],
        key: bytes,
        trailing: bytes,
        max_message_size: int,
        close_timeout: float,
        remote: str | None = None,
    ) -> None:
        self._stream = stream
        #: the request target as sent, query included
        self.path = path
        #: the request's headers, names in lower case
        self.headers = headers
        #: from all ``Sec-WebSocket-Protocol`` headers, in the order offered
        self.proposed_subprotocols = proposed_subprotocols
        #: ``host:port`` of the peer, or what kind of stream it is
        self.remote = describe_peer(stream) if remote is None else remote
        self._key = key
        self._trailing = trailing
        self._max_message_size = max_message_size
        self._close_timeout = close_timeout
        self._answered = False

    async def reject(
        self, status: int, *, extra_headers: list[Header] | None = None, body: bytes = b""
    ) -> None:
        """Answer ``status`` with ``body``; the caller then closes the stream."""
        self._answer()
        await _send_response(self._stream, http_response(status, list(extra_headers or ()), body))

    async def accept(self, subprotocol: str | None) -> ServerWebSocket:
        """Answer 101 (with ``Sec-WebSocket-Protocol`` only when ``subprotocol`` is not None)."""
        self._answer()
        headers: list[Header] = [
            (b"Upgrade", b"websocket"),
            (b"Connection", b"Upgrade"),
            (b"Sec-WebSocket-Accept", accept_key(self._key)),
        ]
        if subprotocol is not None:
            headers.append((b"Sec-WebSocket-Protocol", subprotocol.encode("ascii")))
        await _send_response(self._stream, http_response(101, headers))
        ws = ServerWebSocket(
            self._stream, max_message_size=self._max_message_size, close_timeout=self._close_timeout
        )
        if self._trailing:
            ws._backlog = ws._decoder.receive(self._trailing)
            self._trailing = b""
        return ws

    def _answer(self) -> None:
        if self._answered:
            raise RuntimeError("this handshake was already answered")
        self._answered = True


async def _send_response(stream: trio.abc.Stream, response: bytes) -> None:
    try:
        await stream.send_all(response)
    except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
        raise ConnectionClosed(CloseReason(ABNORMAL_CLOSURE, None)) from exc


async def read_handshake(
    stream: trio.abc.Stream,
    *,
    max_message_size: int = 1 << 20,
    close_timeout: float = 5.0,
    max_header_size: int = MAX_HEADER_SIZE,
    remote: str | None = None,
) -> HandshakeRequest:
    """Read one HTTP request from ``stream``; a websocket upgrade becomes a :class:`HandshakeRequest`.
    Anything else is answered here and raises :class:`HandshakeError` (so does a stream that ends).
    ``remote`` names the peer (default: :func:`describe_peer`)."""
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=max_header_size)
    received = 0
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            # h11 hints 431 for headers over the limit; 400 is what this server has always answered.
            await _refuse(stream, 400, f"Bad HTTP request: {exc}")
            raise HandshakeError(f"bad HTTP request: {exc}") from None
        if event is h11.NEED_DATA:
            # Never more than one byte past the limit before the request is complete: h11 checks the
            # limit only against what it could not parse yet, so a request read in one piece would pass.
            room = max_header_size + 1 - received
            if room <= 0:
                await _refuse(stream, 400, "Bad HTTP request: request head too large")
                raise HandshakeError("bad HTTP request: request head too large")
            try:
                data = await stream.receive_some(min(RECEIVE_SIZE, room))
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
            if not data:
                raise HandshakeError("the stream ended before a complete request")
            received += len(data)
            conn.receive_data(bytes(data))
            continue
        if isinstance(event, h11.Request):
            break
        raise HandshakeError(f"unexpected {type(event).__name__} before a request")  # pragma: no cover
    headers = list(event.headers)
    problem = _judge(event.method, headers)
    if problem is not None:
        status, reason, extra = problem
        await _refuse(stream, status, reason, extra)
        raise HandshakeError(f"{status} {reason}")
    try:
        path = event.target.decode("ascii")
    except UnicodeDecodeError:
        await _refuse(stream, 400, "Request target is not ASCII")
        raise HandshakeError("400 request target is not ASCII") from None
    # A GET without a body: the request ends here (h11 then pauses for the protocol switch), and what the
    # client sent right after it already belongs to the websocket.
    conn.next_event()
    trailing = conn.trailing_data[0]
    return HandshakeRequest(
        stream,
        path=path,
        headers=headers,
        proposed_subprotocols=_tokens([v for n, v in headers if n == b"sec-websocket-protocol"]),
        key=next(v for n, v in headers if n == b"sec-websocket-key").strip(),
        trailing=trailing,
        max_message_size=max_message_size,
        close_timeout=close_timeout,
        remote=remote,
    )


def _judge(method: bytes, headers: list[Header]) -> tuple[int, str, list[Header]] | None:
    """Why a request is no valid websocket upgrade (status, reason, extra headers), or None."""
    if method != b"GET":
        return 405, "A websocket upgrade is a GET request", [(b"Allow", b"GET")]

    def values(name: bytes) -> list[bytes]:
        return [value for key, value in headers if key == name]

    if "websocket" not in (token.lower() for token in _tokens(values(b"upgrade"))):
        upgrade = [(b"Upgrade", b"websocket"), (b"Sec-WebSocket-Version", b"13")]
        return 426, "This is a websocket endpoint: a websocket upgrade is required", upgrade
    if "upgrade" not in (token.lower() for token in _tokens(values(b"connection"))):
        return 400, "Missing 'Connection: Upgrade' header", []
    if values(b"sec-websocket-version") != [b"13"]:
        return (
            426,
            "Unsupported websocket version; this server speaks 13",
            [(b"Sec-WebSocket-Version", b"13")],
        )
    keys = values(b"sec-websocket-key")
    if len(keys) != 1:
        return 400, "Missing or repeated Sec-WebSocket-Key header", []
    try:
        valid_key = len(base64.b64decode(keys[0].strip(), validate=True)) == 16
    except binascii.Error:
        valid_key = False
    if not valid_key:
        return 400, "Sec-WebSocket-Key is not 16 bytes in base64", []
    if values(b"transfer-encoding") or any(value.strip() != b"0" for value in values(b"content-length")):
        return 400, "A websocket upgrade request has no body", []
    return None


async def _refuse(
    stream: trio.abc.Stream, status: int, reason: str, extra: list[Header] | None = None
) -> None:
    headers: list[Header] = [(b"Content-Type", b"text/plain; charset=utf-8"), *(extra or ())]
    try:
        await stream.send_all(http_response(status, headers, reason.encode() + b"\n"))
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass


# ------------------------------------------------------------------------------------------- websocket


class ServerWebSocket:
    """One accepted websocket (see the module documentation for the reading and closing model)."""

    __slots__ = (
        "_backlog",
        "_close_timeout",
        "_closed",
        "_decoder",
        "_finished",
        "_ping_seq",
        "_pong_seq",
        "_receiving",
        "_send_lot",
        "_sending",
        "_stream",
        "_wake",
    )

    def __init__(
        self, stream: trio.abc.Stream, *, max_message_size: int = 1 << 20, close_timeout: float = 5.0
    ) -> None:
        self._stream = stream
        self._decoder = FrameDecoder(max_message_size)
        self._close_timeout = close_timeout
        #: events decoded but not yet handled (rare: several frames in one read)
        self._backlog: list[Event] | None = None
        self._closed: CloseReason | None = None
        #: the peer's close frame or the end of the stream was seen, or the stream is closed
        self._finished = False
        self._receiving = False  # a task is in receive_some
        self._wake: trio.Event | None = None  # set when that task leaves receive_some
        self._sending = False  # a task is in send_all
        self._send_lot: trio.lowlevel.ParkingLot | None = None
        self._ping_seq = 0  # our pings are numbered: the payload is the number, 8 bytes big-endian
        self._pong_seq = 0  # the highest number answered

    @property
    def closed(self) -> CloseReason | None:
        """None while open; else the peer's close code when it closed first, ours when we did, 1006 when
        the stream ended without a close frame."""
        return self._closed

    # ------------------------------------------------------------------------------------------ reading

    async def get_message(self) -> str | bytes:
        """The next text (str) or binary (bytes) message; raises :class:`ConnectionClosed` once closed."""
        while True:
            if self._closed is not None:
                await self._close_after(None)  # closing began in another task: help it finish
                raise ConnectionClosed(self._closed)
            backlog = self._backlog
            if backlog:
                event = backlog.pop(0)
                if not backlog:
                    self._backlog = None
            else:
                # _receive(), inlined: an idle connection waits here, one coroutine frame less per charger.
                self._receiving = True
                try:
                    data = await self._stream.receive_some(RECEIVE_SIZE)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    data = b""
                finally:
                    self._receiving = False
                    if self._wake is not None:
                        self._wake.set()
                        self._wake = None
                if not data:
                    if self._closed is None:
                        self._closed = CloseReason(ABNORMAL_CLOSURE, None)
                    await self._close_stream()
                    raise ConnectionClosed(self._closed)
                events = self._decoder.receive(data)
                if len(events) != 1 or self._closed is not None:
                    self._backlog = events
                    continue
                event = events[0]
            if type(event) is TextMessage:
                return event.text
            if isinstance(event, BinaryMessage):
                return event.data
            if isinstance(event, Ping):
                await self._send(encode_pong(event.payload))
            elif isinstance(event, Pong):
                self._on_pong(event.payload)
            elif isinstance(event, CloseReceived):
                raise ConnectionClosed(await self._on_peer_close(event))
            elif isinstance(event, ProtocolFailure):
                raise ConnectionClosed(await self._on_failure(event))

    async def _receive(self) -> bytes | bytearray:
        self._receiving = True
        try:
            return await self._stream.receive_some(RECEIVE_SIZE)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return b""
        finally:
            self._receiving = False
            wake = self._wake
            if wake is not None:
                self._wake = None
                wake.set()

    def _on_pong(self, payload: bytes) -> None:
        # A pong answers its ping and every earlier one (a peer may answer only the latest, §5.5.3);
        # unsolicited pongs, and pongs with payloads we never sent, answer nothing.
        if len(payload) == PING_PAYLOAD_SIZE:
            seq = int.from_bytes(payload, "big")
            if self._pong_seq < seq <= self._ping_seq:
                self._pong_seq = seq

    async def _on_peer_close(self, event: CloseReceived) -> CloseReason:
        self._closed = closed = CloseReason(event.code, event.reason or None)
        self._finished = True  # nothing to wait for: echo the code (none for none) and close
        await self._close_after(encode_close(event.code if is_valid_close_code(event.code) else None))
        return closed

    async def _on_failure(self, failure: ProtocolFailure) -> CloseReason:
        logger.info(
            "websocket from %s failed with %d: %s", describe_peer(self._stream), failure.code, failure.reason
        )
        self._closed = closed = CloseReason(failure.code, failure.reason)
        await self._close_after(encode_close(failure.code, failure.reason))
        return closed

    async def _close_after(self, frame: bytes | None) -> None:
        """Send ``frame`` (our close frame, unless it went already), wait for the peer's close frame or
        the end of the stream, then close the stream; sending and waiting take at most ``close_timeout``
        seconds together."""
        try:
            with trio.move_on_after(self._close_timeout):
                if frame is not None:
                    await self._send(frame, close_frame=True)
                await self._await_peer_close()
        except ConnectionClosed:
            pass  # the stream broke: nothing more to send or to wait for
        finally:
            await self._close_stream()

    async def _await_peer_close(self) -> None:
        """Read (and drop) until the peer's close frame or the end of the stream."""
        while not self._finished:
            backlog = self._backlog
            if backlog:
                self._backlog = None
                if any(type(event) is CloseReceived for event in backlog):
                    self._finished = True
                continue
            if self._receiving:
                # Another task is reading (a reader blocked in get_message): it passes on what it reads,
                # or leaves receive_some when cancelled, and then this task looks again.
                wake = self._wake
                if wake is None:
                    wake = self._wake = trio.Event()
                await wake.wait()
                continue
            data = await self._receive()
            if not data:
                self._finished = True
            else:
                self._backlog = self._decoder.receive(data)

    # ------------------------------------------------------------------------------------------ writing

    async def send_message(self, message: str) -> None:
        """Send one text message; raises :class:`ConnectionClosed` when the websocket is closed or closing.
        Not for concurrent use with itself (the session's write lock serialises it)."""
        if self._closed is not None:
            raise ConnectionClosed(self._closed)
        await self._send(encode_text(message))

    async def send_ping(self) -> int:
        """Send a ping with a payload unique on this connection; return its number, for :meth:`answered`
        (the pong is read by the task in :meth:`get_message`). Raises :class:`ConnectionClosed` when the
        websocket is closed or closing."""
        if self._closed is not None:
            raise ConnectionClosed(self._closed)
        self._ping_seq += 1
        seq = self._ping_seq
        await self._send(encode_ping(seq.to_bytes(PING_PAYLOAD_SIZE, "big")))
        return seq

    def answered(self, ping: int) -> bool:
        """Whether the pong for ping number ``ping`` (or for a later one) has arrived."""
        return self._pong_seq >= ping

    async def _send(self, frame: bytes, *, close_frame: bool = False) -> None:
        """Write one frame; only a close frame may follow the start of closing (RFC 6455 §5.5.1)."""
        while self._sending:
            lot = self._send_lot
            if lot is None:
                lot = self._send_lot = trio.lowlevel.ParkingLot()
            await lot.park()
        if not close_frame and self._closed is not None:
            raise ConnectionClosed(self._closed)  # closing began while this frame waited
        self._sending = True
        try:
            await self._stream.send_all(frame)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            if self._closed is None:
                self._closed = CloseReason(ABNORMAL_CLOSURE, None)
            self._finished = True
            await self._close_stream()
            raise ConnectionClosed(self._closed) from exc
        finally:
            self._sending = False
            lot = self._send_lot
            if lot:
                lot.unpark()

    # ------------------------------------------------------------------------------------------ closing

    async def aclose(self, code: int = 1000, reason: str | None = None) -> None:
        """Close: send a close frame (unless one was sent or received), wait for the peer's close frame
        or the end of the stream, close the stream; at most ``close_timeout`` seconds in all. Idempotent;
        safe while another task is blocked in :meth:`get_message` (that task raises ConnectionClosed)."""
        frame = None
        if self._closed is None:
            frame = encode_close(code, reason)  # ValueError for a code no endpoint may send
            self._closed = CloseReason(code, reason)
        await self._close_after(frame)

    async def _close_stream(self) -> None:
        self._finished = True
        wake = self._wake
        if wake is not None:
            self._wake = None
            wake.set()
        await trio.aclose_forcefully(self._stream)
