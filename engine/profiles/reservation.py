"""Reservation (C §3.11, §5.1, §5.13).

The profile's actions are declared here; its handlers and state machine arrive with its issue. Until then
the charger-initiated ones are answered ``NotSupported`` by the shell (known action, no handler).
"""

from __future__ import annotations

from engine.profiles.base import HandlerRegistry
from engine.protocol.actions import Profile

ACTIONS = frozenset(
    {
        "CancelReservation",
        "ReserveNow",
    }
)

handlers = HandlerRegistry(Profile.RESERVATION)
