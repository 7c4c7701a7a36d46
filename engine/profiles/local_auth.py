"""Local Authorization List Management (C §3.5.2, §5.10, §5.15).

The profile's actions are declared here; its handlers and state machine arrive with its issue. Until then
the charger-initiated ones are answered ``NotSupported`` by the shell (known action, no handler).
"""

from __future__ import annotations

from engine.profiles.base import HandlerRegistry
from engine.protocol.actions import Profile

ACTIONS = frozenset(
    {
        "GetLocalListVersion",
        "SendLocalList",
    }
)

handlers = HandlerRegistry(Profile.LOCAL_AUTH)
