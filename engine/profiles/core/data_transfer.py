"""DataTransfer from the charger (C §4.3; rules R3.3; OCA TC_064).

Vendor-specific messages go to a handler registered for their vendorId. An unknown vendorId is answered
``UnknownVendorId`` (no data), never with a CALLERROR; an unknown messageId is the vendor handler's to
answer (``UnknownMessageId``). Every transfer is recorded with its outcome.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from engine.clock import format_timestamp
from engine.profiles.base import ChargerContext, Payload
from engine.profiles.core._registry import handlers

#: (ctx, messageId, data) -> (status, response data or None)
VendorHandler = Callable[[ChargerContext, str | None, str | None], Awaitable[tuple[str, str | None]]]


@handlers.handles("DataTransfer")
async def data_transfer(ctx: ChargerContext, payload: Payload) -> Payload:
    vendor_id = payload["vendorId"]
    message_id, data = payload.get("messageId"), payload.get("data")
    vendor = ctx.vendors.get(vendor_id)
    response: Payload
    if vendor is None:
        response = {"status": "UnknownVendorId"}
    else:
        status, answer = await vendor(ctx, message_id, data)
        response = {"status": status} if answer is None else {"status": status, "data": answer}
    at = format_timestamp(ctx.utc_now())
    await ctx.run_store(
        lambda: ctx.store.add_data_transfer(
            ctx.charger_id, "in", vendor_id, message_id, data, status=response["status"], at=at
        )
    )
    return response
