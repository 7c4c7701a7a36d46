"""Remote Trigger (C §5.17).

The profile's actions are declared here; its handlers and state machine arrive with its issue. Until then
the charger-initiated ones are answered ``NotSupported`` by the shell (known action, no handler).
"""

from __future__ import annotations

from engine.profiles.base import HandlerRegistry
from engine.protocol.actions import Profile

ACTIONS = frozenset(
    {
        "TriggerMessage",
    }
)

handlers = HandlerRegistry(Profile.REMOTE_TRIGGER)
