"""A tiny stand-in for the schema registry, so RPC mechanics are tested apart from the schema files."""

from __future__ import annotations

from typing import Any

from engine.protocol.actions import ACTIONS
from engine.protocol.errors import ErrorCode, RemoteOcppError


class PermissiveSchemas:
    """Knows every catalogue action; refuses only payloads holding the key ``"invalid"``."""

    def has_action(self, action: str) -> bool:
        return action in ACTIONS

    def validate_request(self, action: str, payload: dict[str, Any]) -> None:
        self._check(action, payload)

    def validate_response(self, action: str, payload: dict[str, Any]) -> None:
        self._check(action, payload)

    def _check(self, action: str, payload: dict[str, Any]) -> None:
        if action not in ACTIONS:
            raise RemoteOcppError(ErrorCode.NOT_IMPLEMENTED)
        if "invalid" in payload:
            raise RemoteOcppError(ErrorCode.PROPERTY_CONSTRAINT_VIOLATION, "bad", {"path": "$.invalid"})
