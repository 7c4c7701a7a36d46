"""The Core profile's action list and handler registry, shared by its submodules."""

from __future__ import annotations

from engine.profiles.base import HandlerRegistry
from engine.protocol.actions import Profile

ACTIONS = frozenset(
    {
        "Authorize",
        "BootNotification",
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "DataTransfer",
        "GetConfiguration",
        "Heartbeat",
        "MeterValues",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "Reset",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
        "UnlockConnector",
    }
)

handlers = HandlerRegistry(Profile.CORE)
