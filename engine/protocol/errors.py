"""OCPP-J 1.6 error codes and the engine's error types.

The ten codes of OCPP-J 1.6 Table 7 keep their 1.6 spellings on the wire: ``FormationViolation`` and
``OccurenceConstraintViolation`` are misspelt in the spec and listed by the errata as "will not be fixed";
a 2.0.1 spelling on a 1.6 connection is a bug (rules §1.5).

Errors are split like h11's: a :class:`RemoteOcppError` means the peer broke a rule and carries the code to
answer with; a :class:`LocalOcppError` means our own code misused the engine (it never goes on the wire).
"""

from __future__ import annotations

import enum
from typing import Any


class ErrorCode(enum.StrEnum):
    """The OCPP-J 1.6 CALLERROR codes, values exactly as sent on the wire."""

    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    FORMATION_VIOLATION = "FormationViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    OCCURENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"

    @property
    def description(self) -> str:
        """The meaning OCPP-J 1.6 Table 7 gives the code (used as the default errorDescription)."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS: dict[ErrorCode, str] = {
    ErrorCode.NOT_IMPLEMENTED: "Requested Action is not known by receiver",
    ErrorCode.NOT_SUPPORTED: "Requested Action is recognized but not supported by the receiver",
    ErrorCode.INTERNAL_ERROR: "An internal error occurred and the receiver was not able to process the "
    "requested Action successfully",
    ErrorCode.PROTOCOL_ERROR: "Payload for Action is incomplete",
    ErrorCode.SECURITY_ERROR: "During the processing of Action a security issue occurred preventing "
    "receiver from completing the Action successfully",
    ErrorCode.FORMATION_VIOLATION: "Payload for Action is syntactically incorrect or not conform the PDU "
    "structure for Action",
    ErrorCode.PROPERTY_CONSTRAINT_VIOLATION: "Payload is syntactically correct but at least one field "
    "contains an invalid value",
    ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION: "Payload for Action is syntactically correct but at least one "
    "of the fields violates occurence constraints",
    ErrorCode.TYPE_CONSTRAINT_VIOLATION: "Payload for Action is syntactically correct but at least one of "
    'the fields violates data type constraints (e.g. "somestring": 12)',
    ErrorCode.GENERIC_ERROR: "Any other error not covered by the previous ones",
}


class OcppError(Exception):
    """Base of every error the engine raises on purpose."""


class RemoteOcppError(OcppError):
    """The peer broke a rule; answer its CALL with a CALLERROR carrying :attr:`code`.

    ``details`` becomes the CALLERROR's errorDetails object (``{}`` when empty); for schema failures it
    names the failing JSON path.
    """

    def __init__(self, code: ErrorCode, description: str = "", details: dict[str, Any] | None = None):
        self.code = code
        self.description = description or code.description
        self.details: dict[str, Any] = details or {}
        super().__init__(f"{code.value}: {self.description}")


class LocalOcppError(OcppError):
    """Our own code misused the engine (a second outstanding CALL, an invalid outbound payload, …).

    Never sent to a charger; the caller learns about its own mistake.
    """


class CallInProgressError(LocalOcppError):
    """A CALL to this charger is still outstanding; OCPP-J allows one at a time (J §4.1.1)."""
