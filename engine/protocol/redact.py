"""Secrets out of frames before they are logged or stored (design.md decision 13; S §7.2, A01.FR.09).

The AuthorizationKey (the Basic-auth password of security profiles 1 and 2) travels in
ChangeConfiguration requests and GetConfiguration answers as ``{"key": "AuthorizationKey", "value": …}``.
Any object whose ``key`` names a secret gets its ``value`` replaced, whatever the action, so a response
frame (which carries no action name) is covered too. Frames that cannot hold a secret are returned as
they are without parsing: the check is one substring search.
"""

from __future__ import annotations

from typing import Any

from engine.protocol.jsontext import JsonTextError, dumps, loads

SECRET_KEYS = frozenset({"AuthorizationKey"})
REDACTED = "<redacted>"


def redact_frame(text: str) -> str:
    """``text`` with every secret configuration value replaced by :data:`REDACTED`."""
    if not any(key in text for key in SECRET_KEYS):
        return text
    try:
        frame = loads(text)
    except JsonTextError:
        # Unparseable, so no structure to trust: keep the frame's shape visible, not its content.
        return f"<unparseable frame of {len(text)} characters mentioning a secret key; not stored>"
    return dumps(_redact(frame))


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        key = value.get("key")
        # Peer input: "key" may be any JSON value (a list is unhashable), so test the type first.
        if isinstance(key, str) and key in SECRET_KEYS and "value" in value:
            value = {**value, "value": REDACTED}
        return {key: _redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value
