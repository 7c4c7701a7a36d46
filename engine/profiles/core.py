"""Core profile (C §4, §5): the charger-initiated Core actions.

Foundation stage: BootNotification is answered Accepted and Heartbeat with the current time, enough to
prove the whole path. Registration policy, authorization, transactions and the store arrive with the Core
issue; until then every other Core action has no handler and is answered ``NotSupported`` by the shell.
"""

from __future__ import annotations

from engine.clock import format_timestamp
from engine.profiles.base import ChargerContext, HandlerRegistry, Payload
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

#: Heartbeat interval sent with Accepted (C §4.2: "interval" is the heartbeat interval when Accepted).
DEFAULT_HEARTBEAT_INTERVAL = 300

handlers = HandlerRegistry(Profile.CORE)


@handlers.handles("BootNotification")
async def boot_notification(ctx: ChargerContext, payload: Payload) -> Payload:
    del payload
    return {
        "status": "Accepted",
        "currentTime": format_timestamp(ctx.utc_now()),
        "interval": DEFAULT_HEARTBEAT_INTERVAL,
    }


@handlers.handles("Heartbeat")
async def heartbeat(ctx: ChargerContext, payload: Payload) -> Payload:
    del payload
    return {"currentTime": format_timestamp(ctx.utc_now())}
