"""What the sans-IO core reports after reading a frame (``OcppConnection.receive_text``) or checking its
deadlines (``OcppConnection.expire``). Frozen dataclasses; the shell pattern-matches on them.

Every event that asks the shell to write carries the exact text in ``reply``: the core has already
decided what goes on the wire, so the shell never builds frames itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.protocol.errors import RemoteOcppError


@dataclass(frozen=True, slots=True)
class CallReceived:
    """A valid CALL from the charger; run its handler and answer with ``reply_result``/``reply_error``."""

    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallRejected:
    """A CALL that fails before any handler runs (shape, action, schema); send ``reply`` (a CALLERROR)."""

    unique_id: str
    action: str | None
    error: RemoteOcppError
    reply: str


@dataclass(frozen=True, slots=True)
class DuplicateCall:
    """A CALL id seen again. ``reply`` is the cached answer to resend, or None while the first copy is
    still being handled (the copy is dropped: it must not run twice)."""

    unique_id: str
    reply: str | None


@dataclass(frozen=True, slots=True)
class ResultReceived:
    """The CALLRESULT to our outstanding CALL, schema-valid."""

    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ErrorReceived:
    """A CALLERROR answering our outstanding CALL. ``error_code`` is kept as sent (it may be outside the
    1.6 table, e.g. a 2.0.1 peer's ``FormatViolation``)."""

    unique_id: str
    action: str
    error_code: str
    description: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ResponseInvalid:
    """A CALLRESULT to our outstanding CALL whose payload fails the response schema: the call failed."""

    unique_id: str
    action: str
    error: RemoteOcppError


@dataclass(frozen=True, slots=True)
class CallTimedOut:
    """Our outstanding CALL passed its deadline without an answer."""

    unique_id: str
    action: str


@dataclass(frozen=True, slots=True)
class Discarded:
    """A frame that is read and dropped without reply: a response with an unknown or late id, a message
    type other than 2/3/4, a malformed response. Logged by the shell."""

    reason: str
    unique_id: str | None = None


@dataclass(frozen=True, slots=True)
class Unparseable:
    """Text that is not an OCPP-J frame with a readable id (not JSON, not an array, NaN, duplicate keys,
    size or depth bombs). OCPP 1.6 has no id to answer, so no reply; logged and counted."""

    reason: str


@dataclass(frozen=True, slots=True)
class CloseRequested:
    """Too many bad frames in a row: close the websocket with ``code`` (1008, policy violation)."""

    code: int
    reason: str


Event = (
    CallReceived
    | CallRejected
    | DuplicateCall
    | ResultReceived
    | ErrorReceived
    | ResponseInvalid
    | CallTimedOut
    | Discarded
    | Unparseable
    | CloseRequested
)
