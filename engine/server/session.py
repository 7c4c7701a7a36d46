"""One charger connection on Trio: the shell around the sans-IO :class:`OcppConnection`.

Theory of operation
-------------------
A session owns one nursery with

- a **reader** task that loops ``get_message()``, feeds text to the core and acts on its events. It never
  waits for a handler, so answers to our own CALLs keep flowing while handlers run (the mobilityhouse
  #130 deadlock cannot happen: a handler may ``await ctx.call()`` to the same charger);
- one **handler task** per received CALL (design-models principle 2), at most ``max_concurrent_handlers``
  at a time. CALLs beyond that wait in a FIFO backlog (the reader never waits for it, so answers to our
  own CALLs keep flowing) and start as handlers finish, so a burst is answered in order (rules catalogue
  #66). A charger that piles up more than ``max_queued_incoming`` waiting CALLs ignores J §4.1.1 on a
  scale no charger needs: the connection is closed with 1008 (decision 10, bounded per-charger queues);
- and the task of :meth:`Session.run` itself, which waits for a reason to close and meanwhile sends the
  keepalive: a ping every ``ping_interval``; no pong within ``pong_timeout`` closes with 1011, the code the
  ``websockets`` library uses for a keepalive timeout (the peer is presumed dead; 1001 would claim *we*
  are going away). A peer that stops reading also ends here, because the ping cannot be sent. No task of
  its own for that: an idle charger's memory is mostly its tasks' coroutine frames (1.5 KiB a task).

Writes go through one ``StrictFIFOLock`` so frames leave in the order they were produced. Operator and
handler ``call()``s queue FIFO on a second lock: one outstanding CALL per charger (decision 5), at most
``max_queued_calls`` waiting behind it. Each waits until the core's deadline with ``move_on_at``.

Closing: every reason to close (peer closed, binary frame, too many bad frames, ping timeout, replaced by
a newer connection) ends in :meth:`request_close` or the reader's exit, which fail the pending call at
once and wake :meth:`run`; ``run`` then closes the websocket (bounded by ``close_timeout``) and cancels
the rest. Close codes: 1003 for a binary frame (OCPP-J is text only, J §4.1.2; RFC 6455 "unsupported
data"), 1008 when the core asks (bad frames), 1011 for a ping timeout or an internal failure, 1000
"replaced" (decision 9), 1001 when the server shuts down.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, final

import trio

from engine.api.operator import CsmsEvent, MessageReceived
from engine.clock import Clock
from engine.config import ServerConfig
from engine.policy import ChargerState, CsmsPolicy
from engine.profiles.base import ChargerContext, Handler, Payload
from engine.protocol.connection import OcppConnection
from engine.protocol.errors import ErrorCode, LocalOcppError, RemoteOcppError
from engine.protocol.events import (
    CallReceived,
    CallRejected,
    CloseRequested,
    Discarded,
    DuplicateCall,
    ErrorReceived,
    Event,
    ResponseInvalid,
    ResultReceived,
    Unparseable,
)
from engine.server.errors import (
    CallErrorResponse,
    CallQueueFullError,
    CallTimeoutError,
    ChargerOfflineError,
    ResponseInvalidError,
)
from engine.server.websocket import ConnectionClosed, ServerWebSocket

if TYPE_CHECKING:
    from engine.profiles.core.data_transfer import VendorHandler
    from engine.store import Store

logger = logging.getLogger(__name__)
T = TypeVar("T")

NORMAL_CLOSURE = 1000
GOING_AWAY = 1001
UNSUPPORTED_DATA = 1003
POLICY_VIOLATION = 1008
INTERNAL_ERROR = 1011


class Services(Protocol):
    """What the Central System lends every session (implemented by :class:`~engine.server.csms.Csms`).
    Read on every use, so an operator's policy change reaches live sessions."""

    @property
    def policy(self) -> CsmsPolicy: ...

    @property
    def vendors(self) -> Mapping[str, VendorHandler]: ...

    @property
    def store(self) -> Store: ...

    async def run_store(self, operation: Callable[[], T]) -> T: ...

    def note_seen(self, charger_id: str, at: str) -> None:
        """The charger's last-seen time, stored in the background (never blocks)."""
        ...

    def record_frame(self, charger_id: str, direction: str, text: str) -> None:
        """Queue one frame for the message log (never blocks; redaction is the receiver's job)."""
        ...

    def publish(self, event: CsmsEvent) -> None:
        """Tell subscribers (operator API) what happened; never blocks."""
        ...


class Profiles(Protocol):
    """The engine's doors for CALLs in both directions; the module :mod:`engine.profiles` is one."""

    async def handle_incoming(self, ctx: ChargerContext, action: str, payload: Payload) -> Payload: ...

    def before_outgoing(
        self, charger: ChargerState, action: str, payload: Payload, now: dt.datetime
    ) -> None: ...

    async def after_outgoing(
        self, ctx: ChargerContext, action: str, payload: Payload, answer: Payload | None
    ) -> None: ...


class HandlerTable:
    """:class:`Profiles` from a plain handler mapping, without registration gates (tests, embedding)."""

    def __init__(self, handlers: Mapping[str, Handler]):
        self.handlers = handlers

    async def handle_incoming(self, ctx: ChargerContext, action: str, payload: Payload) -> Payload:
        handler = self.handlers.get(action)
        if handler is None:
            raise RemoteOcppError(
                ErrorCode.NOT_SUPPORTED, f"{action} is not supported by this Central System"
            )
        return await handler(ctx, payload)

    def before_outgoing(self, charger: ChargerState, action: str, payload: Payload, now: dt.datetime) -> None:
        pass

    async def after_outgoing(
        self, ctx: ChargerContext, action: str, payload: Payload, answer: Payload | None
    ) -> None:
        pass


class _Waiter:
    """The one outstanding CALL's rendezvous between the caller's task and the reader."""

    __slots__ = ("done", "outcome", "unique_id")

    def __init__(self, unique_id: str):
        self.unique_id = unique_id
        self.done = trio.Event()
        self.outcome: Payload | Exception | None = None

    def settle(self, outcome: Payload | Exception) -> None:
        if not self.done.is_set():
            self.outcome = outcome
            self.done.set()


@final
class Session:
    """A live charger connection; implements :class:`~engine.profiles.base.ChargerContext`."""

    def __init__(
        self,
        charger: ChargerState,
        ws: ServerWebSocket,
        conn: OcppConnection,
        *,
        profiles: Profiles,
        services: Services,
        clock: Clock,
        limits: ServerConfig,
        response_timeout: float | None = None,
    ):
        self._charger = charger
        self._charger_id = charger.charger_id
        self._ws = ws
        self._conn = conn
        self._profiles = profiles
        self._services = services
        self._clock = clock
        self._limits = limits
        self._response_timeout = limits.response_timeout if response_timeout is None else response_timeout
        self._write_lock = trio.StrictFIFOLock()
        self._call_lock = trio.StrictFIFOLock()
        self._callers = 0  # the caller holding _call_lock plus those queued behind it
        self._waiter: _Waiter | None = None
        self._active_handlers = 0
        #: CALLs waiting for a handler slot; made on first use (an empty deque is 600 bytes per charger)
        self._backlog: collections.deque[CallReceived] | None = None
        self._stop = trio.Event()
        self._offline_detail: str | None = None
        self._close_code: int | None = None
        self._close_reason = ""
        self._nursery: trio.Nursery | None = None

    # ------------------------------------------------------------------ ChargerContext

    @property
    def charger_id(self) -> str:
        return self._charger_id

    def utc_now(self) -> dt.datetime:
        return self._clock.utc_now()

    @property
    def charger(self) -> ChargerState:
        return self._charger

    @property
    def policy(self) -> CsmsPolicy:
        return self._services.policy

    @property
    def vendors(self) -> Mapping[str, VendorHandler]:
        return self._services.vendors

    @property
    def store(self) -> Store:
        return self._services.store

    async def run_store(self, operation: Callable[[], T]) -> T:
        return await self._services.run_store(operation)

    def note_seen(self, at: str) -> None:
        self._services.note_seen(self._charger_id, at)

    # Same ASYNC109 reasoning as ChargerContext.call: the timeout is OCPP's response deadline.
    async def call(
        self,
        action: str,
        payload: Payload,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> Payload:
        """Send a CALL and return the charger's CALLRESULT payload.

        Raises :class:`~engine.profiles.base.RefusedByStateError` when the charger's state forbids the
        CALL (nothing is sent), :class:`CallQueueFullError` when ``max_queued_calls`` already wait,
        :class:`CallTimeoutError` when no answer comes within ``timeout`` (default: the charger's response
        timeout) of sending, :class:`CallErrorResponse` for a CALLERROR, :class:`ResponseInvalidError` for
        an answer failing the response schema, :class:`ChargerOfflineError` when the connection closes
        first, and :class:`LocalOcppError` when ``action``/``payload`` are not a valid CSMS→CP request.
        """
        self._raise_if_offline()
        if self._callers > self._limits.max_queued_calls:
            raise CallQueueFullError(self._charger_id, self._limits.max_queued_calls)
        self._callers += 1
        try:
            async with self._call_lock:
                # Checked once our turn comes: the state may have changed while we queued.
                self._raise_if_offline()
                self._profiles.before_outgoing(self._charger, action, payload, self.utc_now())
                answer: Payload | None = None
                try:
                    answer = await self._call_now(action, payload, timeout)
                    return answer
                finally:
                    await self._after_outgoing(action, payload, answer)
        finally:
            self._callers -= 1

    async def _after_outgoing(self, action: str, payload: Payload, answer: Payload | None) -> None:
        # The CALL's outcome is already decided; a failure to learn from it must not change it.
        try:
            await self._profiles.after_outgoing(self, action, payload, answer)
        except Exception:
            logger.exception("%s bookkeeping after %s failed", self._charger_id, action)

    async def _call_now(self, action: str, payload: Payload, seconds: float | None) -> Payload:
        if seconds is None:
            seconds = self._response_timeout
        out = self._conn.start_call(action, payload, trio.current_time(), seconds)
        waiter = self._waiter = _Waiter(out.unique_id)
        try:
            if not await self._send(out.text):
                raise ChargerOfflineError(self._charger_id, self._offline_detail or "connection closed")
            with trio.move_on_at(out.deadline):
                await waiter.done.wait()
            # Checked even past the deadline: an answer the reader delivered in the same tick counts.
            if not waiter.done.is_set():
                self._conn.expire(trio.current_time())
                logger.warning(
                    "%s no answer to %s id=%s within %g s", self._charger_id, action, out.unique_id, seconds
                )
                raise CallTimeoutError(self._charger_id, action, out.unique_id, seconds)
        finally:
            self._waiter = None
            if not waiter.done.is_set():
                # Timed out, cancelled or offline: whatever arrives later for this id is late.
                self._conn.abandon_call(out.unique_id)
        if isinstance(waiter.outcome, Exception):
            raise waiter.outcome
        assert waiter.outcome is not None
        return waiter.outcome

    def _raise_if_offline(self) -> None:
        if self._offline_detail is not None:
            raise ChargerOfflineError(self._charger_id, self._offline_detail)

    # ------------------------------------------------------------------ lifecycle

    @property
    def is_open(self) -> bool:
        return self._offline_detail is None

    @property
    def close_info(self) -> tuple[int | None, str]:
        """Close code and reason: ours when we closed, the peer's otherwise (None while open)."""
        if self._close_code is not None:
            return self._close_code, self._close_reason
        closed = self._ws.closed
        if closed is None:
            return None, ""
        return closed.code, closed.reason or ""

    def request_close(self, code: int, reason: str) -> None:
        """Close this connection soon with ``code``; pending calls fail now. Safe to call at any time."""
        if self._stop.is_set():
            return
        self._close_code, self._close_reason = code, reason
        self._go_offline(f"connection closed ({code} {reason})")
        self._stop.set()

    async def run(self) -> None:
        """Serve the connection until it closes; returns when it has."""
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._read_loop)
                await self._keep_alive()
                self._go_offline("connection closed")
                await self._close_websocket(self._close_code or NORMAL_CLOSURE, self._close_reason)
                nursery.cancel_scope.cancel()
        except BaseException as exc:
            # Shutdown (Cancelled) or a bug in this session: the peer still deserves a close frame.
            code, reason = (
                (INTERNAL_ERROR, "internal error")
                if isinstance(exc, Exception)
                else (GOING_AWAY, "server shutting down")
            )
            # A peer that closed first keeps its own code in close_info, even if shutdown follows.
            if self._close_code is None and self._ws.closed is None:
                self._close_code, self._close_reason = code, reason
            await self._close_websocket(code, reason)
            raise
        finally:
            self._go_offline("connection closed")

    async def _close_websocket(self, code: int, reason: str) -> None:
        # Shielded: aclose() marks the websocket closed before the close frame is written, so a
        # cancelled aclose() would leave the peer without a close frame and no way to send one later.
        with trio.CancelScope(deadline=trio.current_time() + self._limits.close_timeout, shield=True):
            await self._ws.aclose(code, reason or None)

    def _go_offline(self, detail: str) -> None:
        if self._offline_detail is not None:
            return
        self._offline_detail = detail
        if self._waiter is not None:
            self._waiter.settle(ChargerOfflineError(self._charger_id, detail))

    # ------------------------------------------------------------------ tasks

    async def _read_loop(self) -> None:
        try:
            while not self._stop.is_set():
                # A helper, so that the last message and its events are not kept alive by this frame while
                # it waits for the next one (an idle charger's last frame would cost ~1 KiB for nothing).
                if not await self._take(await self._ws.get_message()):
                    return
        except ConnectionClosed:
            pass
        # Not in a ``finally``: when the reader crashes, the nursery's cancellation (and run's 1011) must
        # win over the normal close path.
        self._stop.set()

    async def _take(self, message: str | bytes) -> bool:
        """Log and act on one received message; False when the connection is to close."""
        logged = message if isinstance(message, str) else f"<binary frame of {len(message)} bytes>"
        self._services.record_frame(self._charger_id, "in", logged)
        if isinstance(message, bytes):
            logger.warning("%s sent a binary frame; closing %d", self._charger_id, UNSUPPORTED_DATA)
            self.request_close(UNSUPPORTED_DATA, "binary frames are not OCPP-J")
            return False
        for event in self._conn.receive_text(message, trio.current_time()):
            await self._on_event(event)
        return True

    async def _keep_alive(self) -> None:
        """Return once the session is to close; until then ping every ``ping_interval`` and close with
        1011 when a pong is ``pong_timeout`` late (the reader notes pongs: ``ServerWebSocket.answered``)."""
        interval, timeout = self._limits.ping_interval, self._limits.pong_timeout
        if interval <= 0:
            await self._stop.wait()
            return
        due = trio.current_time() + interval
        while True:
            with trio.move_on_at(due):
                await self._stop.wait()
                return
            ping: int | None = None  # stays None when the ping cannot even be sent in time
            with trio.move_on_at(due + timeout):
                try:
                    ping = await self._ws.send_ping()
                except ConnectionClosed:
                    await self._stop.wait()  # the reader sees the closed websocket too, and ends
                    return
                await self._stop.wait()  # until the pong is due
                return
            if ping is None or not self._ws.answered(ping):
                logger.warning("%s no pong within %g s; closing", self._charger_id, timeout)
                self.request_close(INTERNAL_ERROR, "ping timeout")
                return
            due += interval

    async def _on_event(self, event: Event) -> None:
        cid = self._charger_id
        match event:
            case CallReceived():
                await self._dispatch(event)
            case CallRejected(unique_id=uid, action=action, error=error, reply=reply):
                self._log_callerror(error.code, action, uid, error.description)
                await self._send(reply)
            case DuplicateCall(unique_id=uid, reply=reply):
                if reply is None:
                    logger.info("%s duplicate CALL id=%s while the first is handled; dropped", cid, uid)
                else:
                    logger.info("%s repeated CALL id=%s; resending the cached answer", cid, uid)
                    await self._send(reply)
            case ResultReceived(unique_id=uid, payload=payload):
                self._settle(uid, payload)
            case ErrorReceived(
                unique_id=uid, action=action, error_code=code, description=text, details=details
            ):
                logger.info("%s answered %s id=%s with CALLERROR %s: %s", cid, action, uid, code, text)
                self._settle(uid, CallErrorResponse(code, text, details))
            case ResponseInvalid(unique_id=uid, action=action, error=error):
                logger.warning(
                    "%s invalid %s answer id=%s: %s %s", cid, action, uid, error.code, error.description
                )
                self._settle(uid, ResponseInvalidError(action, uid, f"{error.code}: {error.description}"))
            case Discarded(reason=reason, unique_id=uid):
                logger.info("%s discarded frame id=%s: %s", cid, uid, reason)
            case Unparseable(reason=reason):
                logger.warning("%s unparseable frame: %s", cid, reason)
            case CloseRequested(code=code, reason=reason):
                logger.warning("%s %s; closing %d", cid, reason, code)
                self.request_close(code, reason)

    def _settle(self, unique_id: str, outcome: Payload | Exception) -> None:
        waiter = self._waiter
        if waiter is not None and waiter.unique_id == unique_id:
            waiter.settle(outcome)

    async def _dispatch(self, event: CallReceived) -> None:
        if self._active_handlers >= self._limits.max_concurrent_handlers:
            backlog = self._backlog
            if backlog is None:
                backlog = self._backlog = collections.deque()
            if len(backlog) >= self._limits.max_queued_incoming:
                reason = f"more than {len(backlog)} CALLs waiting for an answer"
                logger.warning("%s %s; closing %d", self._charger_id, reason, POLICY_VIOLATION)
                self.request_close(POLICY_VIOLATION, reason)
                return
            backlog.append(event)
            return
        self._start_handler(event)

    def _start_handler(self, event: CallReceived) -> None:
        assert self._nursery is not None
        self._active_handlers += 1
        self._nursery.start_soon(
            self._handle, event, name=f"{self._charger_id} {event.action} {event.unique_id}"
        )

    async def _handle(self, event: CallReceived) -> None:
        try:
            text, result = await self._answer(event)
            await self._send(text)
            self._services.publish(MessageReceived(self._charger_id, event.action, event.payload, result))
        finally:
            self._active_handlers -= 1
            if self._backlog and self._offline_detail is None:
                self._start_handler(self._backlog.popleft())

    async def _answer(self, event: CallReceived) -> tuple[str, Payload | None]:
        """The reply text, and the CALLRESULT payload (None when the reply is a CALLERROR)."""
        uid, action = event.unique_id, event.action
        try:
            result = await self._profiles.handle_incoming(self, action, event.payload)
        except RemoteOcppError as error:
            return self._error(uid, action, error.code, error.description, error.details), None
        except Exception:
            logger.exception("%s handler for %s id=%s crashed", self._charger_id, action, uid)
            return self._error(uid, action, ErrorCode.INTERNAL_ERROR), None
        try:
            return self._conn.reply_result(uid, result), result
        except LocalOcppError:
            logger.exception("%s handler for %s id=%s built an invalid answer", self._charger_id, action, uid)
            return self._error(uid, action, ErrorCode.INTERNAL_ERROR), None

    def _error(
        self,
        uid: str,
        action: str,
        code: ErrorCode,
        description: str = "",
        details: dict[str, Any] | None = None,
    ) -> str:
        self._log_callerror(code, action, uid, description or code.description)
        return self._conn.reply_error(uid, code, description, details)

    def _log_callerror(self, code: ErrorCode, action: str | None, uid: str, description: str) -> None:
        logger.warning("%s CALLERROR %s for %s id=%s: %s", self._charger_id, code, action, uid, description)

    async def _send(self, text: str) -> bool:
        """Write one frame; False when the connection is already closed (the reader sees that too)."""
        lock = self._write_lock
        try:
            # Uncontended (the usual case): no trip through the scheduler for the lock, the send itself
            # is the checkpoint. acquire_nowait fails while others wait, so the order stays FIFO.
            lock.acquire_nowait()
        except trio.WouldBlock:
            await lock.acquire()
        try:
            await self._ws.send_message(text)
        except ConnectionClosed:
            return False
        finally:
            lock.release()
        self._services.record_frame(self._charger_id, "out", text)
        return True
