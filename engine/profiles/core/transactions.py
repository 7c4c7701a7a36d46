"""Transactions (C §3.6, §3.7, §4.7, §4.8, §4.10; rules §4.1–4.4, §8.1–8.2; design.md decision 7).

Nothing acknowledged is ever lost: every handler here returns only after the store committed. None of
them answers with a CALLERROR for a business reason — a CALLERROR makes the charger retry and finally
drop billing data (R4.3) — so unknown ids, ``-1``, replays and odd values are stored and flagged instead.

StartTransaction always gets a real transaction id, even for Invalid/Blocked/Expired/ConcurrentTx tags
(the charger may already be charging, R4.6). A retried identical start gets the same id and the same
status (R8.4): the store keys starts by (charger, connector, idTag, meterStart, timestamp).
"""

from __future__ import annotations

from engine.clock import format_timestamp
from engine.profiles.base import ChargerContext, Payload
from engine.profiles.core._registry import handlers
from engine.profiles.core.authorization import id_tag_info
from engine.store import TransactionRecord


@handlers.handles("StartTransaction")
async def start_transaction(ctx: ChargerContext, payload: Payload) -> Payload:
    info = await id_tag_info(ctx, payload["idTag"])
    store, charger_id = ctx.store, ctx.charger_id
    connector_id, id_tag = payload["connectorId"], payload["idTag"]
    meter_start, timestamp = payload["meterStart"], payload["timestamp"]
    received_at = format_timestamp(ctx.utc_now())

    def is_this_start(active: TransactionRecord) -> bool:
        # the same start retried, or a transaction on this very connector whose Stop was lost
        return active.charger_id == charger_id and active.connector_id == connector_id

    def start() -> TransactionRecord:
        status = info["status"]
        if status == "Accepted":
            active = store.active_transaction_for_tag(id_tag)
            if active is not None and not is_this_start(active):
                status = "ConcurrentTx"
        record, _created = store.start_transaction(
            charger_id,
            connector_id,
            id_tag,
            meter_start,
            timestamp,
            reservation_id=payload.get("reservationId"),
            start_status=status,
            received_at=received_at,
        )
        return record

    record = await ctx.run_store(start)
    return {"transactionId": record.transaction_id, "idTagInfo": {**info, "status": record.start_status}}


@handlers.handles("StopTransaction")
async def stop_transaction(ctx: ChargerContext, payload: Payload) -> Payload:
    received_at = format_timestamp(ctx.utc_now())
    await ctx.run_store(
        lambda: ctx.store.stop_transaction(
            ctx.charger_id,
            payload["transactionId"],
            meter_stop=payload["meterStop"],
            timestamp=payload["timestamp"],
            reason=payload.get("reason"),
            id_tag=payload.get("idTag"),
            transaction_data=payload.get("transactionData"),
            received_at=received_at,
        )
    )
    id_tag = payload.get("idTag")
    # C §4.10: the Central System cannot prevent a stop; idTagInfo only refreshes the charger's cache
    return {"idTagInfo": await id_tag_info(ctx, id_tag)} if id_tag is not None else {}


@handlers.handles("MeterValues")
async def meter_values(ctx: ChargerContext, payload: Payload) -> Payload:
    received_at = format_timestamp(ctx.utc_now())
    await ctx.run_store(
        lambda: ctx.store.add_meter_values(
            ctx.charger_id,
            payload["connectorId"],
            payload.get("transactionId"),
            payload["meterValue"],
            source="MeterValues",
            received_at=received_at,
        )
    )
    return {}
