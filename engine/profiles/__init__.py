"""The feature profiles, one module each, and the handler table the shell dispatches through.

Each module owns its actions (``ACTIONS``) and its handlers (``handlers``); a test proves every action in
``schemas/`` is owned by exactly one module.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType

from engine.profiles import core, firmware, local_auth, remote_trigger, reservation, security, smart_charging
from engine.profiles.base import ChargerContext as ChargerContext
from engine.profiles.base import Handler as Handler
from engine.profiles.base import HandlerRegistry as HandlerRegistry
from engine.profiles.base import InvalidHandlerDefinition as InvalidHandlerDefinition

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
