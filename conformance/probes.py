"""Raw-level probes for the robustness profile: a websocket client at byte level, for the things the
simulated charge point (:mod:`conformance.simulator`) is too well-behaved to do.

Theory of operation
-------------------
The robustness rows send what a broken or hostile charge point sends: handshakes with chosen
subprotocol headers and paths, plain HTTP, a handshake that never finishes, text frames that are not
OCPP-J, binary frames, frames over the size limit, invalid UTF-8, unmasked frames, endless fragments. The
simulator cannot produce these (it validates everything it sends), and the CSMS's reaction to them is
often below OCPP: an HTTP status, a close code, or nothing at all. So this module speaks the websocket
protocol itself, with `wsproto <https://python-hyper.org/projects/wsproto/>`_ as a sans-IO client:

- a :class:`StreamSource` opens a byte stream to the CSMS under test: TCP (TLS for ``wss://``) for a URL
  target, or an in-memory stream served by the CSMS's own ``serve_stream`` for an in-process target
  (ocpp-trio's ``Csms``, the test suite's fake), so virtual time stays exact;
- :class:`Wire` runs the opening handshake on that stream and reports the CSMS's answer exactly (the HTTP
  status of a refusal, the selected subprotocol of a 101); after an upgrade it reads while a step waits,
  keeping every message and the close code (or that the connection was dropped without a close frame),
  and answers pings like any client;
- :meth:`Wire.send_raw` writes bytes as they are, so a step can put an invalid frame on the wire
  (:func:`ws_frame` builds one with any opcode, fin bit and masking).

Nothing here judges the CSMS: :mod:`conformance.raw_steps` builds the steps that do, on these parts.
Every frame in both directions goes to the case's frame log (shortened), like the simulator's.
"""

from __future__ import annotations

import logging
import os
import struct
import urllib.parse
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import trio
import trio.testing
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from conformance.simulator import (
    FRAME_LOG_LIMIT,
    SUBPROTOCOL,
    FactoryTransport,
    FrameRecord,
    ScenarioError,
    StreamTransport,
    Transport,
    UrlTransport,
    basic_auth_header,
)

logger = logging.getLogger(__name__)

OPCODE_CONTINUATION = 0x0
OPCODE_TEXT = 0x1
OPCODE_BINARY = 0x2
OPCODE_CLOSE = 0x8

Header = tuple[bytes, bytes]
StreamServer = Callable[[trio.abc.Stream], Awaitable[None]]


def ws_frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True) -> bytes:
    """One websocket frame as it goes on the wire (RFC 6455 §5.2). A client must mask its frames; with
    ``masked=False`` the frame breaks that rule on purpose."""
    first = (0x80 if fin else 0) | (opcode & 0x0F)
    mask_bit = 0x80 if masked else 0
    length = len(payload)
    if length < 126:
        header = bytes([first, mask_bit | length])
    elif length < 1 << 16:
        header = bytes([first, mask_bit | 126]) + struct.pack("!H", length)
    else:
        header = bytes([first, mask_bit | 127]) + struct.pack("!Q", length)
    if not masked:
        return header + payload
    key = os.urandom(4)
    mask = (key * (length // 4 + 1))[:length]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(length, "big")
    return header + key + body


def log_text(data: str | bytes) -> str:
    """A frame as the report shows it: text shortened, bytes summarised."""
    if isinstance(data, bytes):
        return f"<{len(data)} bytes: {data[:60]!r}{'…' if len(data) > 60 else ''}>"
    if len(data) > FRAME_LOG_LIMIT:
        return data[:FRAME_LOG_LIMIT] + f"… ({len(data)} characters)"
    return data


# ------------------------------------------------------------------------------------------ stream sources


@dataclass(frozen=True)
class StreamSource:
    """Where raw connections to the CSMS under test come from. ``base_path`` is the path chargers connect
    under (``/ocpp``), ``host`` the Host header, ``headers`` what every handshake carries (Basic auth)."""

    base_path: str
    host: str
    headers: tuple[Header, ...] = ()

    def path(self, segment: str) -> str:
        """The request target for a raw (already percent-encoded) identity segment."""
        return f"{self.base_path}/{segment}"

    def identity_path(self, charger_id: str) -> str:
        return self.path(urllib.parse.quote(charger_id, safe=""))

    def open(self) -> AbstractAsyncContextManager[trio.abc.Stream]:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class TcpSource(StreamSource):
    """A ws:// or wss:// CSMS: a TCP stream (TLS first for wss)."""

    address: str = ""
    port: int = 0
    ssl_context: Any = None
    connect_timeout: float = 10.0

    def describe(self) -> str:
        scheme = "wss" if self.ssl_context is not None else "ws"
        return f"{scheme}://{self.host}{self.base_path}"

    @asynccontextmanager
    async def open(self) -> AsyncIterator[trio.abc.Stream]:
        stream: trio.abc.Stream
        try:
            with trio.fail_after(self.connect_timeout):
                if self.ssl_context is not None:
                    tls = await trio.open_ssl_over_tcp_stream(
                        self.address, self.port, ssl_context=self.ssl_context, https_compatible=True
                    )
                    await tls.do_handshake()
                    stream = tls
                else:
                    stream = await trio.open_tcp_stream(self.address, self.port)
        except (OSError, trio.TooSlowError, trio.BrokenResourceError) as exc:
            raise ProbeConnectError(
                f"cannot connect to {self.describe()}: {exc or type(exc).__name__}"
            ) from None
        try:
            yield stream
        finally:
            await trio.aclose_forcefully(stream)


@dataclass(frozen=True)
class MemorySource(StreamSource):
    """An in-process CSMS: each connection is a memory stream pair whose other end ``serve`` runs (e.g.
    ``Csms.serve_stream``) in a nursery of its own, stopped when the connection ends."""

    serve: StreamServer | None = None

    def describe(self) -> str:
        return f"in-process {self.base_path}"

    async def _serve(self, stream: trio.abc.Stream) -> None:
        assert self.serve is not None
        # The CSMS end's failures are its own; they must not end the probe.
        try:
            await self.serve(stream)
        except Exception:
            logger.exception("the in-process CSMS failed while serving a probe connection")

    @asynccontextmanager
    async def open(self) -> AsyncIterator[trio.abc.Stream]:
        client, server = trio.testing.memory_stream_pair()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._serve, server)
            try:
                yield client
            finally:
                await trio.aclose_forcefully(client)
                # A bounded moment for the CSMS side to notice and clean up, then stop it.
                nursery.cancel_scope.deadline = trio.current_time() + 5


class ProbeConnectError(Exception):
    """No byte stream to the CSMS could be opened (refused, unreachable, TLS failure)."""


def stream_source(transport: Transport) -> StreamSource:
    """The raw-stream equivalent of the runner's transport for a case.

    A URL target gives TCP/TLS to the same host, port and path; an in-process target gives memory streams
    served by the CSMS's ``serve_stream`` (for ``Csms.open_memory_connection`` the Csms it is bound to).
    Raises :class:`ScenarioError` for a transport that offers neither.
    """
    if isinstance(transport, UrlTransport):
        parts = urllib.parse.urlsplit(transport.csms_url)
        secure = parts.scheme == "wss"
        address = parts.hostname or ""
        port = parts.port or (443 if secure else 80)
        host = address if port in (80, 443) else f"{address}:{port}"
        if ":" in address and port not in (80, 443):
            host = f"[{address}]:{port}"
        context = transport.ssl_context
        if secure and context is None:
            import ssl

            context = ssl.create_default_context()
        headers: tuple[Header, ...] = ()
        if transport.password is not None:
            headers = (basic_auth_header(transport.charger_id, transport.password),)
        return TcpSource(
            base_path=parts.path.rstrip("/"),
            host=host,
            headers=headers,
            address=address,
            port=port,
            ssl_context=context if secure else None,
            connect_timeout=transport.connect_timeout,
        )
    if isinstance(transport, StreamTransport):
        return MemorySource(
            base_path=transport.path.rsplit("/", 1)[0],
            host="localhost",
            headers=tuple(transport.extra_headers or ()),
            serve=transport.serve_stream,
        )
    if isinstance(transport, FactoryTransport):
        owner = getattr(transport.open_connection, "__self__", None)
        serve = getattr(owner, "serve_stream", None)
        if callable(serve):
            return MemorySource(
                base_path=transport.path.rsplit("/", 1)[0],
                host="localhost",
                headers=tuple(transport.extra_headers or ()),
                serve=serve,
            )
    raise ScenarioError(
        f"the robustness probes need a ws:// or wss:// URL or an in-process CSMS with serve_stream, "
        f"not {transport.describe()}"
    )


# ------------------------------------------------------------------------------------------------ wire


@dataclass(frozen=True)
class CloseInfo:
    """How a connection ended, as the client saw it. ``code`` None: no close frame (TCP just closed)."""

    code: int | None
    reason: str = ""
    #: the CSMS sent something that is not a valid websocket frame (wsproto's code in ``code``)
    invalid_frame: bool = False

    def describe(self) -> str:
        if self.invalid_frame:
            return f"the CSMS sent an invalid websocket frame ({self.reason})"
        if self.code is None:
            return "connection dropped without a close frame (1006)"
        return f"close {self.code}" + (f" {self.reason!r}" if self.reason else "")


@dataclass(frozen=True)
class HandshakeOutcome:
    """The CSMS's answer to an opening handshake. ``status`` is 101 after an upgrade, the HTTP status of
    a refusal, or None when no HTTP answer came (``problem`` says what happened instead)."""

    status: int | None
    subprotocol: str | None = None
    headers: tuple[Header, ...] = ()
    body: bytes = b""
    problem: str = ""

    @property
    def upgraded(self) -> bool:
        return self.status == 101

    def header(self, name: str) -> list[str]:
        wanted = name.lower().encode()
        return [value.decode("latin-1") for key, value in self.headers if key.lower() == wanted]

    def describe(self) -> str:
        if self.status is None:
            return self.problem or "no HTTP answer"
        if self.status == 101:
            return f"101 upgrade (subprotocol {self.subprotocol or 'none'})"
        detail = self.body.decode("utf-8", "replace").strip()[:120]
        return f"HTTP {self.status}" + (f" {detail!r}" if detail else "")


class WireClosed(Exception):
    """The connection ended; ``info`` says how."""

    def __init__(self, info: CloseInfo):
        self.info = info
        super().__init__(info.describe())


class Wire:
    """One raw connection to the CSMS: the opening handshake, then messages in and out. Build it with
    :func:`open_wire`.

    There is no background reader (a nursery would wrap every failure of the caller in an exception
    group): :meth:`receive` and :meth:`wait_closed` read the stream while they wait, keep every message,
    answer pings on the way and notice the close frame, or that the stream ended without one.
    """

    def __init__(self, stream: trio.abc.Stream, log: list[FrameRecord], *, receive_size: int = 65536):
        self.stream = stream
        self.log = log
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.closed: CloseInfo | None = None
        self._inbox: deque[str | bytes] = deque()
        self._receive_size = receive_size
        self._parts: list[str | bytes] = []

    # ----------------------------------------------------------------------------------- handshake

    async def handshake(
        self,
        path: str,
        host: str,
        subprotocols: Sequence[str],
        headers: Sequence[Header] = (),
        *,
        timeout: float,  # noqa: ASYNC109 - a bound on the CSMS's answer, reported not raised
    ) -> HandshakeOutcome:
        """Send an upgrade request for ``path`` offering ``subprotocols`` (none: no header at all) and
        wait at most ``timeout`` for the CSMS's answer."""
        request = Request(
            host=host, target=path, subprotocols=list(subprotocols), extra_headers=list(headers)
        )
        data = self.ws.send(request)
        offered = ", ".join(subprotocols) if subprotocols else "no Sec-WebSocket-Protocol"
        self.log.append(FrameRecord(trio.current_time(), "sent", f"GET {log_text(path)} upgrade ({offered})"))
        try:
            await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            return HandshakeOutcome(None, problem=f"the CSMS closed the connection: {exc}")
        outcome: HandshakeOutcome | None = None
        with trio.move_on_after(timeout):
            outcome = await self._read_handshake_answer()
        if outcome is None:
            outcome = HandshakeOutcome(None, problem=f"no handshake answer within {timeout:g} s")
        self.log.append(FrameRecord(trio.current_time(), "received", outcome.describe()))
        return outcome

    async def _read_handshake_answer(self) -> HandshakeOutcome:
        rejected: RejectConnection | None = None
        body = b""
        while True:
            data = await self._receive_bytes()
            if not data:
                if rejected is not None:
                    return HandshakeOutcome(rejected.status_code, headers=tuple(rejected.headers), body=body)
                return HandshakeOutcome(None, problem="the CSMS closed the connection without an HTTP answer")
            try:
                self.ws.receive_data(data)
                for event in self.ws.events():
                    if isinstance(event, AcceptConnection):
                        return HandshakeOutcome(
                            101, subprotocol=event.subprotocol, headers=tuple(event.extra_headers)
                        )
                    if isinstance(event, RejectConnection):
                        rejected = event
                        if not event.has_body:
                            return HandshakeOutcome(event.status_code, headers=tuple(event.headers))
                    elif isinstance(event, RejectData) and rejected is not None:
                        body += event.data
                        if event.body_finished:
                            return HandshakeOutcome(
                                rejected.status_code, headers=tuple(rejected.headers), body=body
                            )
            except RemoteProtocolError as exc:
                return HandshakeOutcome(None, problem=f"invalid handshake answer: {exc}")

    async def _receive_bytes(self) -> bytes:
        try:
            return bytes(await self.stream.receive_some(self._receive_size))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return b""

    # -------------------------------------------------------------------------------------- reading

    async def _read_until(self, deadline: float) -> bool:
        """Read once (at most until ``deadline``) and feed wsproto; False when the deadline passed."""
        data: bytes | None = None
        with trio.move_on_at(deadline):
            data = await self._receive_bytes()
        if data is None:
            return False
        if not data:
            self._mark_closed(CloseInfo(None))
            return True
        try:
            self.ws.receive_data(data)
        except (RemoteProtocolError, LocalProtocolError) as exc:
            self._mark_closed(CloseInfo(None, str(exc), invalid_frame=True))
        return True

    async def _process_events(self) -> None:
        try:
            events = list(self.ws.events())
        except RemoteProtocolError as exc:
            self._mark_closed(CloseInfo(None, str(exc), invalid_frame=True))
            return
        for event in events:
            now = trio.current_time()
            if isinstance(event, TextMessage | BytesMessage):
                self._parts.append(event.data if isinstance(event.data, str) else bytes(event.data))
                if event.message_finished:
                    message: str | bytes
                    if isinstance(event, TextMessage):
                        message = "".join(str(part) for part in self._parts)
                    else:
                        message = b"".join(bytes(part) for part in self._parts if isinstance(part, bytes))
                    self._parts = []
                    self.log.append(FrameRecord(now, "received", log_text(message)))
                    self._inbox.append(message)
            elif isinstance(event, Ping):
                try:
                    await self._send_event(event.response())
                except WireClosed:
                    return
            elif isinstance(event, CloseConnection):
                if self.ws.state is ConnectionState.OPEN:
                    # wsproto could not parse what the CSMS sent (it reports that as a close event).
                    self._mark_closed(CloseInfo(event.code, event.reason or "", invalid_frame=True))
                    return
                info = CloseInfo(event.code, event.reason or "")
                if self.ws.state is ConnectionState.REMOTE_CLOSING:
                    try:
                        await self._send_event(event.response())
                    except WireClosed:
                        pass
                self._mark_closed(info)
                return

    def _mark_closed(self, info: CloseInfo) -> None:
        if self.closed is None:
            self.log.append(FrameRecord(trio.current_time(), "received", f"<{info.describe()}>"))
            self.closed = info

    async def receive(self, timeout: float) -> str | bytes | None:  # noqa: ASYNC109 - reported, not raised
        """The next message within ``timeout`` (None if none came); raises :class:`WireClosed` when the
        connection has ended and every message before the end was taken."""
        deadline = trio.current_time() + timeout
        while True:
            await self._process_events()
            if self._inbox:
                return self._inbox.popleft()
            if self.closed is not None:
                raise WireClosed(self.closed)
            if not await self._read_until(deadline):
                return None

    async def wait_closed(self, timeout: float) -> CloseInfo | None:  # noqa: ASYNC109
        """How the connection ended, if it does within ``timeout``; messages before the end are kept."""
        deadline = trio.current_time() + timeout
        while True:
            await self._process_events()
            if self.closed is not None:
                return self.closed
            if not await self._read_until(deadline):
                return None

    # -------------------------------------------------------------------------------------- sending

    async def send_text(self, text: str, *, logged: str | None = None) -> None:
        await self._send_event(Message(data=text), logged if logged is not None else log_text(text))

    async def send_texts(self, texts: Sequence[str], *, logged: str) -> None:
        """Several text frames in one write (a burst the CSMS receives all at once)."""
        if self.closed is not None:
            raise WireClosed(self.closed)
        try:
            data = b"".join(self.ws.send(Message(data=text)) for text in texts)
        except LocalProtocolError:
            raise WireClosed(self.closed or CloseInfo(None, "the connection is closing")) from None
        self.log.append(FrameRecord(trio.current_time(), "sent", logged))
        await self._send_bytes(data)

    async def send_binary(self, data: bytes) -> None:
        await self._send_event(Message(data=data), f"<binary frame, {len(data)} bytes>")

    async def send_raw(self, data: bytes, *, logged: str) -> None:
        """Bytes exactly as given (a hand-made frame, a trickle of a request)."""
        if self.closed is not None:
            raise WireClosed(self.closed)
        self.log.append(FrameRecord(trio.current_time(), "sent", logged))
        await self._send_bytes(data)

    async def _send_event(self, event: Any, logged: str | None = None) -> None:
        if self.closed is not None:
            raise WireClosed(self.closed)
        try:
            data = self.ws.send(event)
        except LocalProtocolError:
            raise WireClosed(self.closed or CloseInfo(None, "the connection is closing")) from None
        if logged is not None:
            self.log.append(FrameRecord(trio.current_time(), "sent", logged))
        await self._send_bytes(data)

    async def _send_bytes(self, data: bytes) -> None:
        try:
            await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            # Whatever the CSMS sent before it went away (a close frame) explains why.
            while self.closed is None and await self._read_until(trio.current_time() + 1):
                await self._process_events()
            self._mark_closed(CloseInfo(None))
            assert self.closed is not None
            raise WireClosed(self.closed) from None

    async def close(self, timeout: float = 2.0) -> None:  # noqa: ASYNC109
        """Normal closure (1000), waiting at most ``timeout`` for the CSMS's close frame."""
        if self.closed is None and self.ws.state is ConnectionState.OPEN:
            try:
                await self._send_event(CloseConnection(code=1000, reason="probe done"))
            except WireClosed:
                return
            await self.wait_closed(timeout)


@dataclass
class WireSession:
    """What :func:`open_wire` yields: the handshake outcome and the wire (open after a 101)."""

    outcome: HandshakeOutcome
    wire: Wire
    source: StreamSource


@asynccontextmanager
async def open_wire(
    source: StreamSource,
    path: str,
    log: list[FrameRecord],
    *,
    subprotocols: Sequence[str] = (SUBPROTOCOL,),
    headers: Sequence[Header] | None = None,
    timeout: float = 10.0,  # noqa: ASYNC109 - bound on the handshake answer
) -> AsyncIterator[WireSession]:
    """Open a stream, run the handshake and yield a :class:`WireSession`; when the block ends an upgraded
    connection is closed normally (bounded) and the stream dropped. Raises :class:`ProbeConnectError`
    when no stream can be opened.

    For an in-process source the block runs inside a nursery: exceptions raised in it come out wrapped
    in an exception group, so callers catch their own failures inside the block.
    """
    sent_headers = list(source.headers) if headers is None else list(headers)
    async with source.open() as stream:
        wire = Wire(stream, log)
        outcome = await wire.handshake(path, source.host, subprotocols, sent_headers, timeout=timeout)
        if not outcome.upgraded:
            wire.closed = CloseInfo(None, "not upgraded")
        try:
            yield WireSession(outcome, wire, source)
        finally:
            if outcome.upgraded:
                await wire.close()


async def http_exchange(
    stream: trio.abc.Stream,
    request: bytes,
    *,
    timeout: float,  # noqa: ASYNC109 - reported, not raised
) -> tuple[int | None, str]:
    """Send ``request`` as is and read the start of the answer: (HTTP status or None, what happened)."""
    try:
        await stream.send_all(request)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        return None, "the CSMS closed the connection before the request was sent"
    received = b""
    with trio.move_on_after(timeout):
        while b"\r\n" not in received:
            try:
                data = await stream.receive_some(65536)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
            if not data:
                break
            received += data
    if not received:
        return None, "no HTTP answer (connection closed or silent)"
    line = received.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ", 2)
    if len(parts) >= 2 and parts[0].startswith("HTTP/") and parts[1].isdigit():
        return int(parts[1]), line
    return None, f"not an HTTP answer: {line[:80]!r}"
