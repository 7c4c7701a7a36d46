"""Connector status (C §4.9, §7.6, §7.7; rules §4.5).

Every StatusNotification is stored in the connector's history; the current status moves only forward in
time, so a notification that arrives late (older timestamp) never regresses it (R4.20). "Impossible"
transitions and connector 0 with a charging status are accepted, not refused: a charger may skip states
(MinimumStatusDuration), and a CALLERROR would only make it resend.
"""

from __future__ import annotations

from engine.clock import format_timestamp
from engine.profiles.base import ChargerContext, Payload
from engine.profiles.core._registry import handlers


@handlers.handles("StatusNotification")
async def status_notification(ctx: ChargerContext, payload: Payload) -> Payload:
    received_at = format_timestamp(ctx.utc_now())
    await ctx.run_store(
        lambda: ctx.store.record_status(
            ctx.charger_id,
            payload["connectorId"],
            payload["status"],
            payload["errorCode"],
            info=payload.get("info"),
            vendor_id=payload.get("vendorId"),
            vendor_error_code=payload.get("vendorErrorCode"),
            # C §6.47: an absent timestamp means the time of receipt
            timestamp=payload.get("timestamp") or received_at,
            received_at=received_at,
        )
    )
    return {}
