"""The simulated charge point: OCPP-J 1.6 over a trio-websocket connection, checking everything the CSMS
sends.

Theory of operation
-------------------
A :class:`ChargePoint` owns one open :class:`~trio_websocket.WebSocketConnection` and one reader task.

- :meth:`ChargePoint.call` sends a CALL (its payload checked against our own request schema first: a
  scenario that builds an invalid payload is a bug in the suite, raised as :class:`ScenarioError`) and
  waits for the matching answer for at most the OCPP response timeout (30 s). The round trip is measured
  with ``trio.current_time()`` from "frame fully sent" to "answer received" and kept in
  :attr:`ChargePoint.timings` (octt-csms-cases.md §8).
- The reader task classifies every frame (``engine.protocol.frames.parse_frame``) and checks it against
  ``schemas/``: a CALLRESULT must pass the response schema of the action we sent, a CSMS CALL must be an
  action the CSMS may send with a valid request payload, a CALLERROR must carry one of the ten OCPP-J 1.6
  codes. A valid CSMS CALL goes to the :class:`Inbox`, where expect steps take it and answer it; an
  invalid frame is answered the way a charge point would (a CALLERROR for a bad CALL, nothing for a bad
  response) and put in the inbox as a :class:`Violation`, so the step that is running when it arrives
  fails.
- The connection is opened by a :class:`Transport`: a ``ws://``/``wss://`` URL with optional HTTP Basic
  auth and TLS client certificates (:class:`UrlTransport`), a factory for in-process connections
  (:class:`FactoryTransport`, :class:`StreamTransport`), or one already-open connection
  (:class:`OpenedTransport`).

Every frame in both directions is kept in :attr:`ChargePoint.frames` for the report (AuthorizationKey
values redacted, design.md decision 13).
"""

from __future__ import annotations

import base64
import collections
import logging
import ssl
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import trio
import trio.testing
from trio_websocket import (
    ConnectionClosed,
    HandshakeError,
    WebSocketConnection,
    wrap_client_stream,
)

from engine.protocol.actions import ACTIONS, sent_by_charger, sent_by_csms
from engine.protocol.errors import ErrorCode, RemoteOcppError
from engine.protocol.frames import (
    BadCall,
    Call,
    CallError,
    CallResult,
    Garbage,
    IgnoredFrame,
    encode_call,
    encode_error,
    encode_result,
    parse_frame,
)
from engine.protocol.validation import SchemaRegistry, default_registry

logger = logging.getLogger(__name__)

SUBPROTOCOL = "ocpp1.6"
#: OCPP-J response timeout (J §4.1.1); the OCTT applies it to every answer.
RESPONSE_TIMEOUT = 30.0
#: how much of a frame the log keeps
FRAME_LOG_LIMIT = 4000
_ONE_SIX_CODES = frozenset(code.value for code in ErrorCode)


class ScenarioError(Exception):
    """The suite itself is wrong (a scenario built a payload that fails our own schema, a value was never
    captured, …). Reported as an error of the case, never blamed on the CSMS."""


class ConnectError(Exception):
    """The websocket connection could not be opened (refused, HTTP error, TLS failure, timeout)."""


# ---------------------------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Timing:
    """One CP→CSMS round trip. ``seconds`` is None when no answer came (timeout or closed)."""

    action: str
    unique_id: str
    sent_at: float
    seconds: float | None
    outcome: Literal["result", "error", "invalid", "timeout", "closed", "violation"]


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """How the CSMS answered one of our CALLs.

    ``kind``: ``result`` (a schema-valid CALLRESULT, ``payload`` set), ``error`` (a CALLERROR, ``error_code``
    set), ``invalid`` (a CALLRESULT failing the response schema, ``problem`` says why; ``payload`` holds it
    anyway), ``timeout``, ``closed``, or ``violation`` (the CSMS sent something invalid while we waited;
    ``problem`` says what).
    """

    action: str
    unique_id: str
    kind: Literal["result", "error", "invalid", "timeout", "closed", "violation"]
    payload: dict[str, Any] | None = None
    error_code: str | None = None
    error_description: str = ""
    problem: str | None = None
    seconds: float | None = None

    def describe(self, timeout: float) -> str:
        """A one-line explanation for a step failure."""
        if self.kind == "result":
            return f"{self.action}.conf received"
        if self.kind == "error":
            text = f"CSMS answered {self.action} with CALLERROR {self.error_code}"
            return f"{text}: {self.error_description}" if self.error_description else text
        if self.kind == "invalid":
            return f"CSMS answer to {self.action} fails {self.action}Response schema: {self.problem}"
        if self.kind == "timeout":
            return f"no answer to {self.action} within {timeout:g} s"
        if self.kind == "violation":
            return self.problem or "protocol violation"
        return f"connection closed before the CSMS answered {self.action}" + (
            f" ({self.problem})" if self.problem else ""
        )


@dataclass(slots=True)
class IncomingCall:
    """A schema-valid CALL from the CSMS, waiting for a step to answer it."""

    unique_id: str
    action: str
    payload: dict[str, Any]
    received_at: float
    answered: bool = False


@dataclass(frozen=True, slots=True)
class Violation:
    """Something the CSMS sent that breaks OCPP-J 1.6 or the schemas; fails the running step."""

    received_at: float
    message: str


@dataclass(frozen=True, slots=True)
class Closed:
    """The connection ended (as seen by the reader)."""

    received_at: float
    code: int | None
    reason: str


InboxItem = IncomingCall | Violation | Closed


@dataclass(frozen=True, slots=True)
class FrameRecord:
    at: float
    direction: Literal["sent", "received"]
    text: str


class Inbox:
    """What the reader hands to the steps, in arrival order. Unlike a memory channel, steps can take the
    violations out while leaving CALLs queued for a later expect step."""

    def __init__(self) -> None:
        self._items: collections.deque[InboxItem] = collections.deque()
        self._wakeup = trio.Event()

    def put(self, item: InboxItem) -> None:
        self._items.append(item)
        self._wakeup.set()
        self._wakeup = trio.Event()

    async def get(self) -> InboxItem:
        """The oldest item; waits for one (use a cancel scope for a deadline)."""
        while not self._items:
            await self._wakeup.wait()
        return self._items.popleft()

    def take_violations(self) -> list[Violation]:
        taken = [item for item in self._items if isinstance(item, Violation)]
        if taken:
            self._items = collections.deque(item for item in self._items if not isinstance(item, Violation))
        return taken

    def take_calls(self) -> list[IncomingCall]:
        taken = [item for item in self._items if isinstance(item, IncomingCall)]
        if taken:
            self._items = collections.deque(
                item for item in self._items if not isinstance(item, IncomingCall)
            )
        return taken

    def __len__(self) -> int:
        return len(self._items)


@dataclass(slots=True)
class _Pending:
    action: str
    unique_id: str
    sent_at: float
    done: trio.Event = field(default_factory=trio.Event)
    outcome: CallOutcome | None = None


# ---------------------------------------------------------------------------------------------- the charger


class ChargePoint:
    """One connection of the simulated charge point. Build it with :func:`open_charge_point`."""

    def __init__(
        self,
        ws: WebSocketConnection,
        *,
        schemas: SchemaRegistry | None = None,
        response_timeout: float = RESPONSE_TIMEOUT,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ):
        self.ws = ws
        self.schemas = schemas if schemas is not None else default_registry()
        self.response_timeout = response_timeout
        self.inbox = Inbox()
        self.timings: list[Timing] = []
        self.frames: list[FrameRecord] = []
        self.closed: Closed | None = None
        self._new_id = new_id
        self._pending: _Pending | None = None
        self._send_lock = trio.Lock()
        #: the CSMS CALL we have not answered yet (OCPP-J: one outstanding CALL per direction)
        self._unanswered: IncomingCall | None = None

    # ---------------------------------------------------------------------------------------- sending

    async def call(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - the OCPP response timeout, reported not raised
    ) -> CallOutcome:
        """Send a CALL and wait for its answer; never raises for anything the CSMS does."""
        if not sent_by_charger(action):
            raise ScenarioError(f"{action} is not a message a charge point sends")
        try:
            self.schemas.validate_request(action, payload)
        except RemoteOcppError as exc:
            raise ScenarioError(f"the suite built an invalid {action}.req: {exc.description}") from None
        if self._pending is not None:  # pragma: no cover - steps run one at a time
            raise ScenarioError("a second CALL while one is outstanding (OCPP-J allows one per direction)")
        limit = self.response_timeout if timeout is None else timeout
        unique_id = self._new_id()
        if self.closed is not None:
            return CallOutcome(action, unique_id, "closed", problem=self.closed.reason or None)
        try:
            await self._send(encode_call(unique_id, action, payload))
        except ConnectionClosed as exc:
            return CallOutcome(action, unique_id, "closed", problem=_close_text(exc))
        pending = _Pending(action, unique_id, trio.current_time())
        self._pending = pending
        try:
            with trio.move_on_after(limit):
                await pending.done.wait()
        finally:
            self._pending = None
        outcome = pending.outcome
        if outcome is None:
            outcome = CallOutcome(action, unique_id, "timeout")
        self.timings.append(Timing(action, unique_id, pending.sent_at, outcome.seconds, outcome.kind))
        return outcome

    async def answer(self, call: IncomingCall, payload: dict[str, Any]) -> None:
        """Answer a CSMS CALL with a CALLRESULT (checked against our own response schema first)."""
        try:
            self.schemas.validate_response(call.action, payload)
        except RemoteOcppError as exc:
            raise ScenarioError(f"the suite built an invalid {call.action}.conf: {exc.description}") from None
        await self._answer(call, encode_result(call.unique_id, payload))

    async def answer_error(self, call: IncomingCall, code: ErrorCode, description: str) -> None:
        """Answer a CSMS CALL with a CALLERROR."""
        await self._answer(call, encode_error(call.unique_id, code, description, {}))

    async def _answer(self, call: IncomingCall, text: str) -> None:
        if call.answered:
            raise ScenarioError(f"{call.action} id={call.unique_id} answered twice")
        call.answered = True
        if self._unanswered is call:
            self._unanswered = None
        if self.closed is not None:
            return
        try:
            await self._send(text)
        except ConnectionClosed:
            pass  # the closure reaches the steps through the inbox

    async def _send(self, text: str) -> None:
        async with self._send_lock:
            self.frames.append(FrameRecord(trio.current_time(), "sent", _for_log(text)))
            await self.ws.send_message(text)

    async def aclose(self) -> None:
        """Close the websocket normally (1000), waiting at most 5 s for the CSMS's close frame."""
        with trio.move_on_after(5):
            await self.ws.aclose()

    # ---------------------------------------------------------------------------------------- reading

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The reader: runs until the connection closes; then everything waiting learns about it."""
        task_status.started()
        try:
            while True:
                message = await self.ws.get_message()
                now = trio.current_time()
                if isinstance(message, bytes):
                    self.frames.append(FrameRecord(now, "received", f"<binary frame, {len(message)} bytes>"))
                    self._violation(now, "CSMS sent a binary frame; OCPP-J uses text frames only (J §4.1)")
                    continue
                self.frames.append(FrameRecord(now, "received", _for_log(message)))
                await self._dispatch(message, now)
        except ConnectionClosed as exc:
            self._on_closed(_close_code(exc), _close_text(exc))
        except Exception as exc:  # a bug in the simulator must not take the run down with it
            logger.exception("charge point reader failed")
            self._violation(trio.current_time(), f"simulator reader failed: {exc!r}")
            self._on_closed(None, "simulator reader failed")

    def _on_closed(self, code: int | None, reason: str) -> None:
        now = trio.current_time()
        self.closed = Closed(now, code, reason)
        pending = self._pending
        if pending is not None and pending.outcome is None:
            pending.outcome = CallOutcome(pending.action, pending.unique_id, "closed", problem=reason or None)
            pending.done.set()
        self.inbox.put(self.closed)

    def _violation(self, now: float, message: str) -> None:
        """Something the CSMS sent is wrong: the running step fails, a CALL we wait on stops waiting."""
        logger.info("CSMS violation: %s", message)
        self.inbox.put(Violation(now, message))
        pending = self._pending
        if pending is not None and pending.outcome is None:
            pending.outcome = CallOutcome(pending.action, pending.unique_id, "violation", problem=message)
            pending.done.set()

    async def _dispatch(self, text: str, now: float) -> None:
        frame = parse_frame(text)
        if isinstance(frame, Call):
            await self._on_call(frame, now)
        elif isinstance(frame, CallResult | CallError):
            self._on_answer(frame, now)
        elif isinstance(frame, BadCall):
            # Answer first: the violation ends the running step, and the case may close the connection.
            await self._send_quietly(
                encode_error(frame.unique_id, frame.error.code, frame.error.description, {})
            )
            self._violation(
                now, f"CSMS sent a malformed CALL (id {frame.unique_id!r}): {frame.error.description}"
            )
        elif isinstance(frame, IgnoredFrame):
            self._violation(now, f"CSMS sent an unusable frame: {frame.reason}")
        elif isinstance(frame, Garbage):
            self._violation(now, f"CSMS sent a frame that is not OCPP-J: {frame.reason}")

    async def _on_call(self, frame: Call, now: float) -> None:
        problem: RemoteOcppError | None = None
        if frame.action not in ACTIONS:
            problem = RemoteOcppError(ErrorCode.NOT_IMPLEMENTED, f"unknown action {frame.action!r}")
        elif not sent_by_csms(frame.action):
            problem = RemoteOcppError(ErrorCode.NOT_SUPPORTED, f"{frame.action} is sent by a charge point")
        else:
            try:
                self.schemas.validate_request(frame.action, frame.payload)
            except RemoteOcppError as exc:
                problem = exc
        if problem is not None:
            await self._send_quietly(
                encode_error(frame.unique_id, problem.code, problem.description, problem.details)
            )
            self._violation(
                now, f"CSMS sent {frame.action} CALL that fails the schema/direction rules: {problem}"
            )
            return
        if self._unanswered is not None and not self._unanswered.answered:
            self._violation(
                now,
                f"CSMS sent {frame.action} while its {self._unanswered.action} was still unanswered "
                "(OCPP-J allows one outstanding CALL per direction)",
            )
        call = IncomingCall(frame.unique_id, frame.action, frame.payload, now)
        self._unanswered = call
        self.inbox.put(call)

    def _on_answer(self, frame: CallResult | CallError, now: float) -> None:
        pending = self._pending
        if pending is None or pending.unique_id != frame.unique_id or pending.outcome is not None:
            kind = "CALLRESULT" if isinstance(frame, CallResult) else "CALLERROR"
            self._violation(
                now, f"CSMS sent a {kind} for unknown or already answered message id {frame.unique_id!r}"
            )
            return
        seconds = now - pending.sent_at
        if isinstance(frame, CallError):
            pending.outcome = CallOutcome(
                pending.action,
                pending.unique_id,
                "error",
                error_code=frame.error_code,
                error_description=frame.description,
                seconds=seconds,
            )
            if frame.error_code not in _ONE_SIX_CODES:
                self._violation(
                    now, f"CALLERROR code {frame.error_code!r} is not one of the ten OCPP-J 1.6 codes"
                )
        elif not isinstance(frame.payload, dict):
            pending.outcome = CallOutcome(
                pending.action,
                pending.unique_id,
                "invalid",
                problem="the payload is not a JSON object",
                seconds=seconds,
            )
        else:
            try:
                self.schemas.validate_response(pending.action, frame.payload)
            except RemoteOcppError as exc:
                pending.outcome = CallOutcome(
                    pending.action,
                    pending.unique_id,
                    "invalid",
                    payload=frame.payload,
                    problem=f"{exc.code.value}: {exc.description}",
                    seconds=seconds,
                )
            else:
                pending.outcome = CallOutcome(
                    pending.action, pending.unique_id, "result", payload=frame.payload, seconds=seconds
                )
        pending.done.set()

    async def _send_quietly(self, text: str) -> None:
        try:
            await self._send(text)
        except ConnectionClosed:
            pass


def _close_code(exc: ConnectionClosed) -> int | None:
    reason = exc.reason
    code = getattr(reason, "code", None)
    return int(code) if code is not None else None


def _close_text(exc: ConnectionClosed) -> str:
    reason = exc.reason
    code = getattr(reason, "code", None)
    text = getattr(reason, "reason", None)
    parts = [f"code {int(code)}" if code is not None else "", f"'{text}'" if text else ""]
    return " ".join(part for part in parts if part) or "no close code"


def _for_log(text: str) -> str:
    """The frame as logged: AuthorizationKey values hidden, very long frames cut."""
    if "AuthorizationKey" in text:
        frame = parse_frame(text)
        if isinstance(frame, Call) and frame.payload.get("key") == "AuthorizationKey":
            text = encode_call(frame.unique_id, frame.action, {**frame.payload, "value": "***"})
    if len(text) > FRAME_LOG_LIMIT:
        return text[:FRAME_LOG_LIMIT] + f"… ({len(text)} characters)"
    return text


# --------------------------------------------------------------------------------------------- transports


class Transport(Protocol):
    """Opens a fresh websocket connection of the simulated charger each time it is entered."""

    def connect(self) -> AbstractAsyncContextManager[WebSocketConnection]: ...

    def describe(self) -> str: ...


def basic_auth_header(charger_id: str, password: str | bytes) -> tuple[bytes, bytes]:
    """``Authorization: Basic base64(<ChargePointId>:<password>)`` (security whitepaper, SP1/SP2)."""
    secret = password.encode() if isinstance(password, str) else password
    token = base64.b64encode(charger_id.encode() + b":" + secret)
    return (b"Authorization", b"Basic " + token)


def charger_url(csms_url: str, charger_id: str) -> str:
    """``<CSMS URL>/<ChargePointId>``, the identity percent-encoded (§4.1)."""
    return csms_url.rstrip("/") + "/" + urllib.parse.quote(charger_id, safe="")


@dataclass(frozen=True)
class UrlTransport:
    """A real websocket to ``<csms_url>/<charger_id>`` (ws:// or wss://)."""

    csms_url: str
    charger_id: str
    password: str | bytes | None = None
    ssl_context: ssl.SSLContext | None = None
    subprotocols: Sequence[str] = (SUBPROTOCOL,)
    connect_timeout: float = 10.0

    def __post_init__(self) -> None:
        scheme = urllib.parse.urlsplit(self.csms_url).scheme
        if scheme not in ("ws", "wss"):
            raise ValueError(f"CSMS URL must start with ws:// or wss://, not {self.csms_url!r}")
        if self.ssl_context is not None and scheme != "wss":
            raise ValueError("TLS options need a wss:// CSMS URL")

    def describe(self) -> str:
        return charger_url(self.csms_url, self.charger_id)

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[WebSocketConnection]:
        # The stream is opened and closed here rather than by trio_websocket.open_websocket_url, which
        # leaves the socket open when the CSMS refuses the upgrade (401, 404, …).
        url = self.describe()
        parts = urllib.parse.urlsplit(url)
        secure = parts.scheme == "wss"
        host = parts.hostname or ""
        port = parts.port or (443 if secure else 80)
        resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = host if port in (80, 443) else f"{host}:{port}"
        if ":" in host and port not in (80, 443):
            host_header = f"[{host}]:{port}"
        headers = [basic_auth_header(self.charger_id, self.password)] if self.password is not None else None
        context = self.ssl_context if self.ssl_context is not None else ssl.create_default_context()
        stream: trio.SocketStream | trio.SSLStream[trio.SocketStream] | None = None
        phase = "connect"
        try:
            with trio.fail_after(self.connect_timeout):
                if secure:
                    stream = await trio.open_ssl_over_tcp_stream(
                        host, port, ssl_context=context, https_compatible=True
                    )
                    # Handshake now: a TLS failure inside trio-websocket's reader only shows as close 1006,
                    # and the websocket handshake would then wait for ever.
                    await stream.do_handshake()
                else:
                    stream = await trio.open_tcp_stream(host, port)
            phase = "websocket handshake"
            async with trio.open_nursery() as nursery:
                with trio.fail_after(self.connect_timeout):
                    ws = await wrap_client_stream(
                        nursery,
                        stream,
                        host_header,
                        resource,
                        subprotocols=list(self.subprotocols),
                        extra_headers=headers,
                    )
                try:
                    yield ws
                finally:
                    with trio.move_on_after(5):
                        await ws.aclose()
                    nursery.cancel_scope.cancel()
        except* HandshakeError as group:
            raise ConnectError(f"websocket handshake with {url} failed: {_handshake_text(group)}") from None
        except* trio.TooSlowError:
            if phase == "websocket handshake":
                raise ConnectError(
                    f"no websocket handshake answer from {url} within {self.connect_timeout:g} s (the "
                    "CSMS closed the connection or never answered; a refused TLS client certificate "
                    "looks like this)"
                ) from None
            raise ConnectError(
                f"cannot connect to {url}: timed out after {self.connect_timeout:g} s"
            ) from None
        except* (OSError, trio.BrokenResourceError, ssl.SSLError) as group:
            raise ConnectError(f"cannot connect to {url}: {_error_text(group.exceptions[0])}") from None
        finally:
            if stream is not None:
                await trio.aclose_forcefully(stream)


def _error_text(exc: BaseException) -> str:
    """The most telling text of a connection error (a TLS failure hides behind BrokenResourceError)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError | OSError) and str(seen):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return str(exc) or type(exc).__name__


def _handshake_text(error: HandshakeError | BaseExceptionGroup[HandshakeError]) -> str:
    exc: BaseException = error.exceptions[0] if isinstance(error, BaseExceptionGroup) else error
    status = getattr(exc, "status_code", None)
    if status is not None:
        body = getattr(exc, "body", b"") or b""
        detail = body.decode("utf-8", "replace").strip()[:200]
        return f"HTTP {status}" + (f" {detail}" if detail else "")
    return str(exc) or type(exc).__name__


def _refused(path: str, group: BaseExceptionGroup[HandshakeError]) -> str:
    return f"in-process handshake for {path} failed: {_handshake_text(group)}"


MemoryOpener = Callable[[str, list[str], list[tuple[bytes, bytes]] | None], Awaitable[WebSocketConnection]]


@dataclass(frozen=True)
class FactoryTransport:
    """In-process: ``open_connection(path, subprotocols, extra_headers)`` returns an open connection
    (``Csms.open_memory_connection``). The connection is closed on exit."""

    open_connection: MemoryOpener
    path: str
    subprotocols: Sequence[str] = (SUBPROTOCOL,)
    extra_headers: Sequence[tuple[bytes, bytes]] | None = None

    def describe(self) -> str:
        return f"in-process {self.path}"

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[WebSocketConnection]:
        headers = list(self.extra_headers) if self.extra_headers is not None else None
        try:
            ws = await self.open_connection(self.path, list(self.subprotocols), headers)
        except* HandshakeError as group:
            raise ConnectError(_refused(self.path, group)) from None
        try:
            yield ws
        finally:
            with trio.move_on_after(5):
                await ws.aclose()


@dataclass(frozen=True)
class StreamTransport:
    """In-process over a memory stream pair: ``serve_stream(server_side)`` runs the CSMS end (e.g.
    ``Csms.serve_stream``) and a trio-websocket client is wrapped around the other end."""

    serve_stream: Callable[[trio.abc.Stream], Awaitable[None]]
    path: str
    subprotocols: Sequence[str] = (SUBPROTOCOL,)
    extra_headers: Sequence[tuple[bytes, bytes]] | None = None

    def describe(self) -> str:
        return f"in-process {self.path}"

    async def _serve(self, stream: trio.abc.Stream) -> None:
        # The CSMS end's failures are its own; they must not end the simulated charger's run.
        try:
            await self.serve_stream(stream)
        except Exception:
            logger.exception("the in-process CSMS failed while serving a connection")

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[WebSocketConnection]:
        server_stream, client_stream = trio.testing.memory_stream_pair()
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._serve, server_stream)
                # A refused handshake is raised by trio-websocket's reader task, so it leaves the nursery
                # (as an exception group), not wrap_client_stream.
                ws = await wrap_client_stream(
                    nursery,
                    client_stream,  # type: ignore[arg-type]  # any trio Stream works
                    "localhost",
                    self.path,
                    subprotocols=list(self.subprotocols),
                    extra_headers=list(self.extra_headers) if self.extra_headers is not None else None,
                )
                try:
                    yield ws
                finally:
                    with trio.move_on_after(5):
                        await ws.aclose()
                    # Give the CSMS side a bounded moment to finish its own clean-up, then stop it.
                    nursery.cancel_scope.deadline = trio.current_time() + 5
        except* HandshakeError as group:
            raise ConnectError(_refused(self.path, group)) from None


@dataclass
class OpenedTransport:
    """One connection that is already open (opened by the caller); it cannot be reopened, so a scenario
    that disconnects and reconnects fails with a clear message."""

    ws: WebSocketConnection
    used: bool = False

    def describe(self) -> str:
        return "an already-open connection"

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[WebSocketConnection]:
        if self.used:
            raise ConnectError("this run was given one open connection and cannot reconnect")
        self.used = True
        yield self.ws


@asynccontextmanager
async def open_charge_point(
    transport: Transport,
    *,
    schemas: SchemaRegistry | None = None,
    response_timeout: float = RESPONSE_TIMEOUT,
) -> AsyncIterator[ChargePoint]:
    """Connect through ``transport``, start the reader, and yield the :class:`ChargePoint`; on exit the
    connection is closed and the reader stopped. Raises :class:`ConnectError` when it cannot connect."""
    async with transport.connect() as ws, trio.open_nursery() as nursery:
        charger = ChargePoint(ws, schemas=schemas, response_timeout=response_timeout)
        await nursery.start(charger.run)
        try:
            yield charger
        finally:
            await charger.aclose()
            nursery.cancel_scope.cancel()
