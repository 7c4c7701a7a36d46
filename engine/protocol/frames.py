"""OCPP-J 1.6 frames: text ↔ ``Call`` / ``CallResult`` / ``CallError`` (J §4.2).

``parse_frame`` never raises: every text maps to exactly one outcome, so the caller can always decide the
reaction. The outcomes and why:

- :class:`Call`, :class:`CallResult`, :class:`CallError` — well-formed frames.
- :class:`BadCall` — a CALL (type 2) whose unique id can be read but whose shape is wrong; OCPP-J wants a
  CALLERROR for it, echoing the id (``FormationViolation`` for shape, J §4.2.3).
- :class:`IgnoredFrame` — read but not answered: a message type other than 2/3/4 (the receiver "SHALL
  ignore the message payload", J §4.1.3) or a malformed CALLRESULT/CALLERROR (never answer a response:
  that makes error loops, rules R1.15).
- :class:`Garbage` — no readable id (not JSON, not an array, NaN, duplicate keys, bombs): OCPP 1.6 has no
  way to answer it (design.md decision 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.protocol.errors import ErrorCode, RemoteOcppError
from engine.protocol.jsontext import JsonTextError, dumps, has_lone_surrogate, loads

CALL = 2
CALLRESULT = 3
CALLERROR = 4

#: J §4.1.4: "a maximum of 36 characters, to allow for GUIDs".
MAX_ID_LENGTH = 36
#: Ids longer than this are not echoed back at all (rules catalogue #45: drop and count).
ECHO_ID_LIMIT = 255


@dataclass(frozen=True, slots=True)
class Call:
    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    unique_id: str
    payload: Any


@dataclass(frozen=True, slots=True)
class CallError:
    unique_id: str
    error_code: str
    description: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BadCall:
    unique_id: str
    action: str | None
    error: RemoteOcppError


@dataclass(frozen=True, slots=True)
class IgnoredFrame:
    reason: str
    unique_id: str | None = None
    #: Unknown message types count towards the bad-frame limit; a malformed response does too.
    counts_as_bad: bool = True


@dataclass(frozen=True, slots=True)
class Garbage:
    reason: str


ParsedFrame = Call | CallResult | CallError | BadCall | IgnoredFrame | Garbage


def _formation(unique_id: str, action: str | None, description: str) -> BadCall:
    return BadCall(unique_id, action, RemoteOcppError(ErrorCode.FORMATION_VIOLATION, description))


def _readable_id(value: Any) -> str | None:
    """The id to echo in a CALLERROR, or None when there is nothing sensible to echo.

    A number is echoed as its text (rules catalogue #43: "echo the id as received if scalar"); null,
    booleans, objects and arrays are not ids at all.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def parse_frame(text: str) -> ParsedFrame:
    """Classify one websocket text message. Never raises."""
    try:
        frame = loads(text)
    except JsonTextError as exc:
        return Garbage(exc.reason)
    if not isinstance(frame, list) or not frame:
        return Garbage("not a JSON array" if not isinstance(frame, list) else "empty array")
    if has_lone_surrogate(text, frame):
        unique_id = frame[1] if len(frame) > 1 else None
        if frame[0] == CALL and isinstance(unique_id, str) and not has_lone_surrogate(text, unique_id):
            action = frame[2] if len(frame) > 2 and isinstance(frame[2], str) else None
            error = RemoteOcppError(
                ErrorCode.PROPERTY_CONSTRAINT_VIOLATION, "string holds a lone UTF-16 surrogate"
            )
            return BadCall(
                unique_id, None if action is None or has_lone_surrogate(text, action) else action, error
            )
        return Garbage("lone UTF-16 surrogate in a frame without a usable id")

    message_type = frame[0]
    # 2.0 or "2" are not message type 2: the type is an integer (J §4.1.3); bool is an int in Python.
    if not isinstance(message_type, int) or isinstance(message_type, bool):
        return IgnoredFrame(f"message type id is not an integer ({type(message_type).__name__})")
    if message_type == CALL:
        return _parse_call(frame)
    if message_type == CALLRESULT:
        return _parse_result(frame)
    if message_type == CALLERROR:
        return _parse_error(frame)
    return IgnoredFrame(f"unknown message type id {message_type}")


def _parse_call(frame: list[Any]) -> ParsedFrame:
    if len(frame) < 2:
        return Garbage("CALL without a message id")
    unique_id = _readable_id(frame[1])
    if unique_id is None:
        return Garbage(f"CALL message id is {type(frame[1]).__name__}, not a string")
    if len(unique_id) > ECHO_ID_LIMIT:
        return Garbage(f"CALL message id of {len(unique_id)} characters")
    action = frame[2] if len(frame) > 2 and isinstance(frame[2], str) else None
    if not isinstance(frame[1], str):
        return _formation(unique_id, action, "message id must be a string")
    if not unique_id:
        return _formation(unique_id, action, "message id is empty")
    if len(unique_id) > MAX_ID_LENGTH:
        return _formation(unique_id, action, f"message id longer than {MAX_ID_LENGTH} characters")
    if len(frame) != 4:
        return _formation(unique_id, action, f"a CALL has 4 elements, this one has {len(frame)}")
    if action is None:
        return _formation(unique_id, None, "action must be a string")
    payload = frame[3]
    if payload is None:  # J §4.2.1: null and {} both mean "no payload"
        payload = {}
    if not isinstance(payload, dict):
        return _formation(unique_id, action, "payload must be a JSON object")
    return Call(unique_id, action, payload)


def _parse_result(frame: list[Any]) -> ParsedFrame:
    unique_id = frame[1] if len(frame) > 1 and isinstance(frame[1], str) else None
    if len(frame) != 3 or unique_id is None:
        return IgnoredFrame("malformed CALLRESULT", unique_id)
    payload = {} if frame[2] is None else frame[2]
    return CallResult(unique_id, payload)


def _parse_error(frame: list[Any]) -> ParsedFrame:
    unique_id = frame[1] if len(frame) > 1 and isinstance(frame[1], str) else None
    # Be lenient on the optional tail (some peers omit errorDetails), strict on id and code.
    if len(frame) not in (4, 5) or unique_id is None or not isinstance(frame[2], str):
        return IgnoredFrame("malformed CALLERROR", unique_id)
    description = frame[3] if isinstance(frame[3], str) else ""
    details = frame[4] if len(frame) == 5 and isinstance(frame[4], dict) else {}
    return CallError(unique_id, frame[2], description, details)


def encode_call(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    return dumps([CALL, unique_id, action, payload])


def encode_result(unique_id: str, payload: dict[str, Any]) -> str:
    return dumps([CALLRESULT, unique_id, payload])


def encode_error(unique_id: str, code: ErrorCode | str, description: str, details: dict[str, Any]) -> str:
    return dumps([CALLERROR, unique_id, str(code), description, details])
