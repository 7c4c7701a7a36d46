"""Authorization (C §3.5, §4.1, §7.2, §7.27, §7.28; rules §4.3).

IdTokens are case-insensitive (the store matches them so). An unknown idTag is ``Invalid``; an Accepted
tag past its expiry date is answered ``Expired``. ``ConcurrentTx`` only means something in
StartTransaction (the transactions module decides it). With ``id_tag_cache_ttl`` set, an Accepted answer
carries an expiryDate no later than now + ttl, which bounds how long the charger caches it.
"""

from __future__ import annotations

import datetime as dt

from engine.clock import format_timestamp, parse_timestamp
from engine.profiles.base import ChargerContext, Payload
from engine.profiles.core._registry import handlers


async def id_tag_info(ctx: ChargerContext, id_tag: str) -> Payload:
    """The idTagInfo answer for ``id_tag`` now."""
    record = await ctx.run_store(lambda: ctx.store.get_id_tag(id_tag))
    now = ctx.utc_now()
    info: Payload
    expiry: dt.datetime | None = None
    if record is None:
        info = {"status": "Accepted" if ctx.policy.accept_unknown_id_tags else "Invalid"}
    else:
        status = record.status
        if record.expiry_date is not None:
            expiry = parse_timestamp(record.expiry_date)
            if status == "Accepted" and expiry <= now:
                status = "Expired"
        info = {"status": status}
        if record.parent_id_tag:
            info["parentIdTag"] = record.parent_id_tag
    ttl = ctx.policy.id_tag_cache_ttl
    if info["status"] == "Accepted" and ttl is not None:
        cap = now + dt.timedelta(seconds=ttl)
        expiry = cap if expiry is None else min(expiry, cap)
    if expiry is not None:
        info["expiryDate"] = format_timestamp(expiry)
    return info


@handlers.handles("Authorize")
async def authorize(ctx: ChargerContext, payload: Payload) -> Payload:
    return {"idTagInfo": await id_tag_info(ctx, payload["idTag"])}
