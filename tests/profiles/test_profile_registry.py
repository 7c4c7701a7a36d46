"""Every action is owned by exactly one profile module; handler registries fail at definition time."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.profiles import PROFILE_MODULES, HandlerRegistry, InvalidHandlerDefinition, handler_table
from engine.profiles.base import ChargerContext, Payload
from engine.protocol.actions import ACTIONS, Profile, sent_by_charger

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_every_action_with_a_schema_is_owned_by_exactly_one_profile() -> None:
    schema_actions = {p.stem for p in SCHEMAS.glob("*.json") if not p.stem.endswith("Response")}
    owners: dict[str, list[str]] = {}
    for module in PROFILE_MODULES:
        for action in module.ACTIONS:
            owners.setdefault(action, []).append(module.__name__)
    assert schema_actions == set(ACTIONS) == set(owners)
    assert {action: names for action, names in owners.items() if len(names) != 1} == {}


def test_each_module_owns_what_the_catalogue_says() -> None:
    for module in PROFILE_MODULES:
        profile = module.handlers.profile
        assert {name for name, spec in ACTIONS.items() if spec.profile is profile} == module.ACTIONS
        assert set(module.handlers) <= module.ACTIONS


def test_handler_table_holds_only_charger_initiated_actions() -> None:
    table = handler_table()
    assert {"BootNotification", "Heartbeat"} <= set(table)
    assert all(sent_by_charger(action) for action in table)


async def _noop(ctx: ChargerContext, payload: Payload) -> Payload:
    return {}


@pytest.mark.parametrize(
    ("profile", "action", "message"),
    [
        (Profile.CORE, "Bootnotification", "not an OCPP 1.6 action"),
        (Profile.CORE, "Reset", "sent by the CSMS"),
        (Profile.FIRMWARE, "Heartbeat", "belongs to Core"),
    ],
)
def test_wrong_definitions_fail_when_declared(profile: Profile, action: str, message: str) -> None:
    with pytest.raises(InvalidHandlerDefinition, match=message):
        HandlerRegistry(profile).handles(action)


def test_a_second_handler_for_an_action_fails() -> None:
    registry = HandlerRegistry(Profile.CORE)
    registry.handles("Heartbeat")(_noop)
    with pytest.raises(InvalidHandlerDefinition, match="second handler"):
        registry.handles("Heartbeat")
