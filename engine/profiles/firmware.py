"""Firmware Management (C §3.12, §4.4, §4.5, §5.9, §5.19).

The profile's actions are declared here; its handlers and state machine arrive with its issue. Until then
the charger-initiated ones are answered ``NotSupported`` by the shell (known action, no handler).
"""

from __future__ import annotations

from engine.profiles.base import HandlerRegistry
from engine.protocol.actions import Profile

ACTIONS = frozenset(
    {
        "GetDiagnostics",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "UpdateFirmware",
    }
)

handlers = HandlerRegistry(Profile.FIRMWARE)
