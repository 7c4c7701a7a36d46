"""The feature profiles, one module each, and the two doors the shell uses.

Each module owns its actions (``ACTIONS``) and its handlers (``handlers``); a test proves every action in
``schemas/`` is owned by exactly one module.

- :func:`handle_incoming` runs a charger's CALL: the registration gate first (no side effect before it),
  then the action's handler; an action nobody handles is ``NotSupported``.
- :func:`before_outgoing` / :func:`after_outgoing` wrap every CALL the CSMS sends, so the state rules
  (what a Pending charger may receive, which triggered message it may then send, the configuration
  snapshot) live here and not in the shell.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import ModuleType

from engine.policy import ChargerState
from engine.profiles import core, firmware, local_auth, remote_trigger, reservation, security, smart_charging
from engine.profiles.base import ChargerContext as ChargerContext
from engine.profiles.base import Handler as Handler
from engine.profiles.base import HandlerRegistry as HandlerRegistry
from engine.profiles.base import InvalidHandlerDefinition as InvalidHandlerDefinition
from engine.profiles.base import Payload as Payload
from engine.profiles.base import RefusedByStateError as RefusedByStateError
from engine.profiles.core.registration import admit_incoming, admit_outgoing, observe_answer
from engine.protocol.errors import ErrorCode, RemoteOcppError
from engine.protocol.redact import REDACTED, SECRET_KEYS

PROFILE_MODULES: tuple[ModuleType, ...] = (
    core,
    firmware,
    local_auth,
    reservation,
    smart_charging,
    remote_trigger,
    security,
)


def handler_table() -> Mapping[str, Handler]:
    """Every charger-initiated action that has a handler, across all profiles."""
    table: dict[str, Handler] = {}
    for module in PROFILE_MODULES:
        registry: HandlerRegistry = module.handlers
        table.update(registry)
    return table


_TABLE = handler_table()


async def handle_incoming(ctx: ChargerContext, action: str, payload: Payload) -> Payload:
    """Answer a charger's CALL; raises :class:`RemoteOcppError` for a CALLERROR answer."""
    admit_incoming(ctx.charger, action, ctx.utc_now())
    handler = _TABLE.get(action)
    if handler is None:
        raise RemoteOcppError(ErrorCode.NOT_SUPPORTED, f"{action} is not supported by this Central System")
    return await handler(ctx, payload)


def before_outgoing(charger: ChargerState, action: str, payload: Payload, now: dt.datetime) -> None:
    """Raise :class:`RefusedByStateError` if the charger's state forbids sending this CALL."""
    admit_outgoing(charger, action, payload, now)


async def after_outgoing(ctx: ChargerContext, action: str, payload: Payload, answer: Payload | None) -> None:
    """Learn from the charger's answer (``None``: the call failed or timed out)."""
    observe_answer(ctx.charger, action, payload, answer)
    if action == "GetConfiguration" and answer is not None:
        snapshot = {
            entry["key"]: (REDACTED if entry["key"] in SECRET_KEYS else entry.get("value"))
            for entry in answer.get("configurationKey", [])
        }
        if payload.get("key"):  # a partial read refreshes only the keys it names
            charger_id = ctx.charger_id

            def merge() -> None:
                record = ctx.store.get_charger(charger_id)
                merged = {**(record.configuration if record else {}), **snapshot}
                ctx.store.save_configuration(charger_id, merged)

            await ctx.run_store(merge)
        else:
            await ctx.run_store(lambda: ctx.store.save_configuration(ctx.charger_id, snapshot))
