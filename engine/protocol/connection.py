"""One charger connection as a sans-IO state machine: text in → events out; calls and replies → text out.

Theory of operation
-------------------
The shell feeds every websocket text message to :meth:`OcppConnection.receive_text` with the current
monotonic time and acts on the returned events; it asks for outbound text with :meth:`start_call`,
:meth:`reply_result` and :meth:`reply_error`. No I/O, no clock: time arrives as numbers.

RPC rules kept here, in one place (design.md decision 5):

- One outstanding CSMS→CP CALL (J §4.1.1). A second :meth:`start_call` raises
  :class:`~engine.protocol.errors.CallInProgressError`; the shell queues.
- Incoming CALLs may cross our outstanding one (legal, J §4.1.1 note); each is tracked as "in progress"
  until answered. The same id again while in progress is dropped (it must not run twice); the same id
  again after we answered gets the cached answer resent, without running again (retries MAY reuse their
  id, errata JE §3.1). The cache is keyed by id *and* the frame's text, because chargers that number
  their messages with a counter restart it on reboot: a different message under an old id is new work.
- A response whose id is not our outstanding call's is discarded and never answered (R1.22); one for a
  call that already timed out is reported as late.
- Frames nobody can answer (no readable id) and unknown message types are counted; ``bad_frame_limit`` of
  them in a row ask the shell to close with 1008 (design.md decision 4). Any good frame resets the count.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from engine.protocol import frames
from engine.protocol.actions import ACTIONS, sent_by_charger, sent_by_csms
from engine.protocol.errors import CallInProgressError, ErrorCode, LocalOcppError, RemoteOcppError
from engine.protocol.events import (
    CallReceived,
    CallRejected,
    CallTimedOut,
    CloseRequested,
    Discarded,
    DuplicateCall,
    ErrorReceived,
    Event,
    ResponseInvalid,
    ResultReceived,
    Unparseable,
)

POLICY_VIOLATION = 1008


class Schemas(Protocol):
    """The part of :class:`engine.protocol.validation.SchemaRegistry` the connection needs."""

    def has_action(self, action: str) -> bool: ...

    def validate_request(self, action: str, payload: dict[str, Any]) -> None: ...

    def validate_response(self, action: str, payload: dict[str, Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class OutgoingCall:
    """A CALL we sent and await: ``text`` goes on the wire, ``deadline`` is in the caller's time units."""

    unique_id: str
    action: str
    text: str
    deadline: float


class RecentReplies:
    """Answers to recent CALLs of one charger identity, so a retried CALL is answered without rerunning.

    Kept per identity (not per socket) by the shell, so a retry after a reconnect is recognised too.
    A charger has one CALL in flight at a time and retries only its last few, so a short memory is
    enough; it is kept short because every identity the process has seen holds one (16 answers of a
    few hundred bytes each, for 10,000 chargers, is tens of MiB; 64 was four times that).
    """

    def __init__(self, capacity: int = 16):
        self.capacity = capacity
        self._replies: OrderedDict[str, tuple[int, str]] = OrderedDict()

    def get(self, unique_id: str, fingerprint: int) -> str | None:
        entry = self._replies.get(unique_id)
        if entry is None or entry[0] != fingerprint:
            return None
        return entry[1]

    def put(self, unique_id: str, fingerprint: int, reply: str) -> None:
        self._replies[unique_id] = (fingerprint, reply)
        self._replies.move_to_end(unique_id)
        while len(self._replies) > self.capacity:
            self._replies.popitem(last=False)


class OcppConnection:
    """The OCPP-J state of one charger connection, seen from the Central System."""

    def __init__(
        self,
        schemas: Schemas,
        *,
        recent: RecentReplies | None = None,
        bad_frame_limit: int = 10,
        id_factory: Callable[[], str] | None = None,
    ):
        self._schemas = schemas
        self._recent = recent if recent is not None else RecentReplies()
        self._bad_frame_limit = bad_frame_limit
        self._new_id = id_factory or (lambda: str(uuid.uuid4()))
        self._outstanding: OutgoingCall | None = None
        # id -> (action, fingerprint) of CALLs we received and have not answered yet
        self._in_progress: dict[str, tuple[str, int]] = {}
        # ids of our calls that timed out, to tell a late answer from a bogus one in the log
        self._expired: OrderedDict[str, str] = OrderedDict()
        self._bad_in_a_row = 0

    # ------------------------------------------------------------------ inbound

    @property
    def outstanding(self) -> OutgoingCall | None:
        return self._outstanding

    @property
    def in_progress(self) -> int:
        """How many received CALLs still await our answer."""
        return len(self._in_progress)

    def receive_text(self, text: str, now: float) -> list[Event]:
        """Read one websocket text message; return what happened. Never raises on peer input."""
        del now  # deadlines are checked in expire(); kept in the signature so callers always pass time
        parsed = frames.parse_frame(text)
        match parsed:
            case frames.Garbage(reason=reason):
                return self._bad([Unparseable(reason)])
            case frames.IgnoredFrame(reason=reason, unique_id=unique_id, counts_as_bad=counts):
                events: list[Event] = [Discarded(reason, unique_id)]
                return self._bad(events) if counts else events
            case frames.BadCall(unique_id=unique_id, action=action, error=error):
                self._bad_in_a_row = 0
                return [self._reject(unique_id, action, error)]
            case frames.Call():
                self._bad_in_a_row = 0
                return [self._on_call(parsed, hash(text))]
            case frames.CallResult() | frames.CallError():
                self._bad_in_a_row = 0
                return [self._on_response(parsed)]

    def _bad(self, events: list[Event]) -> list[Event]:
        self._bad_in_a_row += 1
        if self._bad_in_a_row >= self._bad_frame_limit:
            events.append(CloseRequested(POLICY_VIOLATION, f"{self._bad_in_a_row} malformed frames in a row"))
        return events

    def _reject(self, unique_id: str, action: str | None, error: RemoteOcppError) -> CallRejected:
        reply = frames.encode_error(unique_id, error.code, error.description, error.details)
        return CallRejected(unique_id, action, error, reply)

    def _on_call(self, call: frames.Call, fingerprint: int) -> Event:
        unique_id, action = call.unique_id, call.action
        if unique_id in self._in_progress:
            return DuplicateCall(unique_id, None)
        cached = self._recent.get(unique_id, fingerprint)
        if cached is not None:
            return DuplicateCall(unique_id, cached)
        if action not in ACTIONS or not self._schemas.has_action(action):
            error = RemoteOcppError(ErrorCode.NOT_IMPLEMENTED, f"unknown action {action[:40]!r}")
            return self._reject(unique_id, action, error)
        if not sent_by_charger(action):
            error = RemoteOcppError(ErrorCode.NOT_SUPPORTED, f"{action} is sent by a Central System")
            return self._reject(unique_id, action, error)
        try:
            self._schemas.validate_request(action, call.payload)
        except RemoteOcppError as error:
            return self._reject(unique_id, action, error)
        self._in_progress[unique_id] = (action, fingerprint)
        return CallReceived(unique_id, action, call.payload)

    def _on_response(self, response: frames.CallResult | frames.CallError) -> Event:
        unique_id = response.unique_id
        outstanding = self._outstanding
        if outstanding is None or outstanding.unique_id != unique_id:
            if unique_id in self._expired:
                return Discarded(f"late answer to {self._expired[unique_id]} (timed out)", unique_id)
            return Discarded("answer to a message id we are not waiting for", unique_id)
        self._outstanding = None
        action = outstanding.action
        if isinstance(response, frames.CallError):
            return ErrorReceived(
                unique_id, action, response.error_code, response.description, response.details
            )
        payload = response.payload
        try:
            if not isinstance(payload, dict):
                raise RemoteOcppError(ErrorCode.FORMATION_VIOLATION, "payload must be a JSON object")
            self._schemas.validate_response(action, payload)
        except RemoteOcppError as error:
            return ResponseInvalid(unique_id, action, error)
        return ResultReceived(unique_id, action, payload)

    # ------------------------------------------------------------------ outbound

    def start_call(self, action: str, payload: dict[str, Any], now: float, timeout: float) -> OutgoingCall:
        """Build a CALL to the charger. Raises :class:`CallInProgressError` while one is outstanding,
        :class:`LocalOcppError` for an action the CSMS may not send or a payload its schema refuses."""
        if not sent_by_csms(action):
            raise LocalOcppError(f"{action!r} is not an action a Central System sends")
        if self._outstanding is not None:
            raise CallInProgressError(
                f"{self._outstanding.action} ({self._outstanding.unique_id}) is still outstanding"
            )
        try:
            self._schemas.validate_request(action, payload)
        except RemoteOcppError as error:
            raise LocalOcppError(f"invalid {action} payload: {error.description} {error.details}") from None
        unique_id = self._new_id()
        call = OutgoingCall(unique_id, action, frames.encode_call(unique_id, action, payload), now + timeout)
        self._outstanding = call
        return call

    def expire(self, now: float) -> list[CallTimedOut]:
        """Give up on the outstanding call if its deadline has passed."""
        outstanding = self._outstanding
        if outstanding is None or now < outstanding.deadline:
            return []
        self.abandon_call(outstanding.unique_id)
        return [CallTimedOut(outstanding.unique_id, outstanding.action)]

    def abandon_call(self, unique_id: str) -> None:
        """Stop waiting for ``unique_id`` (timed out or the caller went away); a later answer is late."""
        outstanding = self._outstanding
        if outstanding is None or outstanding.unique_id != unique_id:
            return
        self._outstanding = None
        self._expired[unique_id] = outstanding.action
        while len(self._expired) > 64:
            self._expired.popitem(last=False)

    def reply_result(self, unique_id: str, payload: dict[str, Any]) -> str:
        """The CALLRESULT text answering a received CALL. Raises :class:`LocalOcppError` when the id is
        not awaiting an answer or ``payload`` fails the response schema (the CALL stays unanswered, so
        the caller can still :meth:`reply_error`)."""
        entry = self._in_progress.get(unique_id)
        if entry is None:
            raise LocalOcppError(f"no received CALL {unique_id!r} awaits an answer")
        action, fingerprint = entry
        try:
            self._schemas.validate_response(action, payload)
        except RemoteOcppError as error:
            raise LocalOcppError(f"invalid {action} answer: {error.description} {error.details}") from None
        text = frames.encode_result(unique_id, payload)
        del self._in_progress[unique_id]
        self._recent.put(unique_id, fingerprint, text)
        return text

    def reply_error(
        self,
        unique_id: str,
        code: ErrorCode,
        description: str = "",
        details: dict[str, Any] | None = None,
    ) -> str:
        """The CALLERROR text answering a received CALL. Errors are not cached: a retry runs again (an
        ``InternalError`` from a store outage should succeed on the charger's retry)."""
        self._in_progress.pop(unique_id, None)
        return frames.encode_error(unique_id, code, description or code.description, details or {})
