"""What an operator's ``call()`` raises when the charger does not give a usable answer.

One base class, :class:`CallFailedError`, so callers that do not care why can catch everything at once;
each subclass says what happened, and the CALL it concerned where there was one. None of these is an
:class:`~engine.protocol.errors.OcppError`: they never go on the wire. A payload our own schema refuses
is a programming error and surfaces as :class:`~engine.protocol.errors.LocalOcppError` instead.
"""

from __future__ import annotations

from typing import Any


class CallFailedError(Exception):
    """A CALL to a charger did not produce a valid CALLRESULT."""


class ChargerOfflineError(CallFailedError):
    """The charger has no live connection, or it closed (or was replaced) before the answer came."""

    def __init__(self, charger_id: str, detail: str = "not connected"):
        self.charger_id = charger_id
        super().__init__(f"{charger_id}: {detail}")


class CallQueueFullError(CallFailedError):
    """Too many calls already wait for this charger (``max_queued_calls``); try again later."""

    def __init__(self, charger_id: str, limit: int):
        self.charger_id = charger_id
        self.limit = limit
        super().__init__(f"{charger_id}: {limit} calls already queued")


class CallTimeoutError(CallFailedError):
    """No answer within the response timeout (J §4.1.1). A late answer is discarded, never matched."""

    def __init__(self, charger_id: str, action: str, unique_id: str, timeout: float):
        self.charger_id = charger_id
        self.action = action
        self.unique_id = unique_id
        self.timeout = timeout
        super().__init__(f"{charger_id}: no answer to {action} id={unique_id} within {timeout:g} s")


class CallErrorResponse(CallFailedError):
    """The charger answered with a CALLERROR. ``code`` is kept as sent: it may be outside the 1.6 table
    (a 2.0.1 peer's ``FormatViolation``), so it is a string, not an ``ErrorCode``."""

    def __init__(self, code: str, description: str = "", details: dict[str, Any] | None = None):
        self.code = code
        self.description = description
        self.details: dict[str, Any] = details or {}
        super().__init__(f"{code}: {description}" if description else code)


class ResponseInvalidError(CallFailedError):
    """The charger's CALLRESULT fails the response schema; the call failed (R1.23), nothing was replied."""

    def __init__(self, action: str, unique_id: str, reason: str):
        self.action = action
        self.unique_id = unique_id
        self.reason = reason
        super().__init__(f"invalid {action} answer id={unique_id}: {reason}")
