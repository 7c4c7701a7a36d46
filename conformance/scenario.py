"""Scenarios: one module per test case, found by walking :mod:`conformance.scenarios`.

A scenario module declares (see ``conformance/README.md`` "Writing a case")::

    ID = "TC_012_CSMS"                  # required: the OCA id (or R-xx for reconstructed cases)
    TITLE = "Remote Stop Charging Session"
    PROFILE = "Core"                    # a certification profile, or "AQ-1"
    SECTION = "3.4.4"                   # section of the OCTT test case document
    BEFORE = [CHARGING]                 # reusable states to reach first (default: [BOOTED])
    STEPS = [...]                       # required: the steps (nested lists are flattened)
    SETUP = [Operator.set_boot_policy("PendingOnce")]    # optional: operator actions before connecting
    TEARDOWN = [Operator.set_boot_policy(None)]           # optional: always run afterwards
    KIND = "oca"                        # or "reconstructed" (not OCA text, not a certification criterion)
    SOURCE = "Tbl 132"                  # optional provenance
    CHARGER_SUFFIX = "-RB1"             # optional: run as <configured charger id><suffix>
    CONNECT = False                     # optional: the steps open their own connections (raw probes)
    EXPECTED = "HTTP 400, no upgrade"   # optional: the expected reaction, shown with the actual one

A module may instead declare several cases: ``SCENARIOS = [declare(__name__, ID=…, …), …]`` (the
robustness profile has one module per group of catalogue rows).

Profiles marked ``opt_in`` (Robustness) are only discovered with ``include_opt_in=True`` and only
selected by name (``--profiles robustness`` or their case ids), never by default: they send a CSMS
garbage on purpose.

:func:`load_scenario` checks the declaration when the module is discovered (an unknown action, a CP
message in an expect step, a missing field), so a broken case fails ``conformance list`` and the test
suite, not a run half an hour in.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from conformance.states import BOOTED, State, expand_states
from conformance.steps import OperatorAction, OperatorBootPolicy, OperatorRequest, Step, flatten


class ScenarioDefinitionError(Exception):
    """A scenario module is not a valid case declaration; the message names the module and the problem."""


@dataclass(frozen=True)
class ProfileInfo:
    """A row of the report: a certification profile (or an additional question) and its case count in
    the OCTT 1.6 CSMS chapter (octt-csms-cases.md §3)."""

    name: str
    key: str
    oca_cases: int
    certification: bool = True
    #: run only when asked for by name (not part of a default run)
    opt_in: bool = False


CERTIFICATION_PROFILES: tuple[ProfileInfo, ...] = (
    ProfileInfo("Core", "core", 34),
    ProfileInfo("Firmware Management", "firmware", 5),
    ProfileInfo("Local Auth List Management", "local_auth", 6),
    ProfileInfo("Reservation", "reservation", 10),
    ProfileInfo("Smart Charging", "smart_charging", 5),
    ProfileInfo("Remote Trigger", "remote_trigger", 2),
    ProfileInfo("Security", "security", 15),
)
AQ1 = ProfileInfo("AQ-1", "aq1", 2, certification=False)
#: the project's bad-input catalogue (ocpp16-rules.md §10) sent to the CSMS: not an OCA profile
ROBUSTNESS = ProfileInfo("Robustness", "robustness", 0, certification=False, opt_in=True)
ALL_PROFILES: tuple[ProfileInfo, ...] = (*CERTIFICATION_PROFILES, AQ1, ROBUSTNESS)


def profile_info(name: str) -> ProfileInfo | None:
    """A profile by display name or key, ignoring case, spaces, ``-`` and ``_`` (``core``, ``AQ-1``,
    ``local-auth``, ``Smart Charging``)."""
    wanted = _squash(name)
    for info in ALL_PROFILES:
        if wanted in (_squash(info.name), _squash(info.key)):
            return info
    if wanted in ("localauthlist", "localauthlistmanagement", "lal"):
        return next(info for info in ALL_PROFILES if info.key == "local_auth")
    if wanted in ("firmwaremanagement", "fw"):
        return next(info for info in ALL_PROFILES if info.key == "firmware")
    return None


def _squash(text: str) -> str:
    return re.sub(r"[\s_\-]", "", text).lower()


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    profile: str
    section: str
    steps: tuple[Step, ...]
    before: tuple[State, ...]
    setup: tuple[OperatorAction, ...] = ()
    teardown: tuple[OperatorAction, ...] = ()
    kind: Literal["oca", "reconstructed", "catalogue"] = "oca"
    source: str = ""
    module: str = ""
    #: the case runs as ``<configured charger id><charger_suffix>`` (robustness groups)
    charger_suffix: str = ""
    #: False: the runner opens no connection; the steps open their own (raw probes)
    connect: bool = True
    #: the expected reaction in words, reported next to the actual one (robustness rows)
    expected: str = ""

    @property
    def short_id(self) -> str:
        """``TC_001`` for ``TC_001_CSMS``."""
        return self.id.removesuffix("_CSMS")

    @property
    def profile_key(self) -> str:
        info = profile_info(self.profile)
        return info.key if info is not None else _squash(self.profile)

    @property
    def states(self) -> list[State]:
        """The reusable states run first, dependencies included."""
        return expand_states(self.before)

    def describe(self) -> str:
        return f"{self.id} {self.title}"


# ------------------------------------------------------------------------------------------------ loading

_REQUIRED = ("ID", "TITLE", "PROFILE", "SECTION", "STEPS")


def declare(module_name: str, **attributes: Any) -> ModuleType:
    """A case declared in code, for modules that declare several (``SCENARIOS = [declare(__name__, ID=…,
    TITLE=…, …), …]``); the attributes are those of a scenario module."""
    declaration = ModuleType(f"{module_name}:{attributes.get('ID', '?')}")
    for key, value in attributes.items():
        setattr(declaration, key, value)
    return declaration


def load_scenario(module: ModuleType) -> Scenario:
    """The :class:`Scenario` a module declares; raises :class:`ScenarioDefinitionError`."""
    name = module.__name__
    missing = [attr for attr in _REQUIRED if not hasattr(module, attr)]
    if missing:
        raise ScenarioDefinitionError(f"{name}: missing {', '.join(missing)}")
    for attr in ("ID", "TITLE", "PROFILE", "SECTION"):
        if not isinstance(getattr(module, attr), str) or not getattr(module, attr):
            raise ScenarioDefinitionError(f"{name}: {attr} must be a non-empty string")
    if profile_info(module.PROFILE) is None:
        known = ", ".join(info.name for info in ALL_PROFILES)
        raise ScenarioDefinitionError(f"{name}: PROFILE {module.PROFILE!r} is not one of {known}")
    steps = _steps(name, "STEPS", module.STEPS)
    before = _states(name, getattr(module, "BEFORE", [BOOTED]))
    setup = _operator_actions(name, "SETUP", getattr(module, "SETUP", ()))
    teardown = _operator_actions(name, "TEARDOWN", getattr(module, "TEARDOWN", ()))
    kind_value = getattr(module, "KIND", "oca")
    if kind_value == "oca":
        kind: Literal["oca", "reconstructed", "catalogue"] = "oca"
    elif kind_value == "reconstructed":
        kind = "reconstructed"
    elif kind_value == "catalogue":
        kind = "catalogue"
    else:
        raise ScenarioDefinitionError(f"{name}: KIND must be 'oca', 'reconstructed' or 'catalogue'")
    suffix = getattr(module, "CHARGER_SUFFIX", "")
    connect = getattr(module, "CONNECT", True)
    expected = getattr(module, "EXPECTED", "")
    if not isinstance(suffix, str) or not isinstance(expected, str) or not isinstance(connect, bool):
        raise ScenarioDefinitionError(f"{name}: CHARGER_SUFFIX/EXPECTED must be strings, CONNECT a bool")
    problems = [problem for step in steps for problem in step.definition_problems()]
    for state in expand_states(before):
        problems += [problem for step in state.steps for problem in step.definition_problems()]
    if problems:
        raise ScenarioDefinitionError(f"{name}: " + "; ".join(problems))
    return Scenario(
        id=module.ID,
        title=module.TITLE,
        profile=module.PROFILE,
        section=module.SECTION,
        steps=tuple(steps),
        before=tuple(before),
        setup=tuple(setup),
        teardown=tuple(teardown),
        kind=kind,
        source=str(getattr(module, "SOURCE", "")),
        module=name,
        charger_suffix=suffix,
        connect=connect,
        expected=expected,
    )


def _steps(name: str, attr: str, value: Any) -> list[Step]:
    if not isinstance(value, list | tuple):
        raise ScenarioDefinitionError(f"{name}: {attr} must be a list of steps")
    try:
        steps = flatten(value)
    except TypeError:
        raise ScenarioDefinitionError(f"{name}: {attr} holds something that is not a step") from None
    for step in steps:
        if not isinstance(step, Step):
            raise ScenarioDefinitionError(f"{name}: {attr} holds {step!r}, which is not a step")
    if not steps:
        raise ScenarioDefinitionError(f"{name}: {attr} is empty")
    return steps


def _states(name: str, value: Any) -> list[State]:
    if not isinstance(value, list | tuple) or not all(isinstance(item, State) for item in value):
        raise ScenarioDefinitionError(f"{name}: BEFORE must be a list of states (conformance.states)")
    return list(value)


def _operator_actions(name: str, attr: str, value: Any) -> list[OperatorAction]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(item, OperatorRequest | OperatorBootPolicy) for item in value
    ):
        raise ScenarioDefinitionError(f"{name}: {attr} must be a list of Operator.… actions")
    return list(value)


# ----------------------------------------------------------------------------------------------- discovery

SCENARIO_PACKAGE = "conformance.scenarios"


def discover(package: str = SCENARIO_PACKAGE, *, include_opt_in: bool = False) -> list[Scenario]:
    """Every scenario module under ``package`` (any depth), in catalogue order. Modules without ``ID`` or
    ``SCENARIOS`` (helpers) are skipped; a duplicate id is an error. Cases of opt-in profiles
    (Robustness) only with ``include_opt_in``."""
    root = importlib.import_module(package)
    scenarios: list[Scenario] = []
    seen: dict[str, str] = {}
    for info in pkgutil.walk_packages(root.__path__, prefix=package + "."):
        if info.ispkg:
            continue
        module = importlib.import_module(info.name)
        declared = getattr(module, "SCENARIOS", None)
        if declared is not None:
            if not isinstance(declared, list | tuple) or not all(isinstance(d, ModuleType) for d in declared):
                raise ScenarioDefinitionError(f"{info.name}: SCENARIOS must be a list of declare() results")
            found = [load_scenario(declaration) for declaration in declared]
        elif hasattr(module, "ID"):
            found = [load_scenario(module)]
        else:
            continue
        for scenario in found:
            if scenario.id in seen:
                raise ScenarioDefinitionError(
                    f"{info.name}: ID {scenario.id} already declared by {seen[scenario.id]}"
                )
            seen[scenario.id] = info.name
            if include_opt_in or not _opt_in(scenario):
                scenarios.append(scenario)
    return sorted(scenarios, key=catalogue_order)


def _opt_in(scenario: Scenario) -> bool:
    info = profile_info(scenario.profile)
    return info is not None and info.opt_in


def catalogue_order(scenario: Scenario) -> tuple[int, list[Any]]:
    """Certification profiles in report order, then natural id order (TC_004_1 < TC_004_2 < TC_010)."""
    keys = [info.key for info in ALL_PROFILES]
    rank = keys.index(scenario.profile_key) if scenario.profile_key in keys else len(keys)
    return rank, natural_key(scenario.id)


def natural_key(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def normalise_case_id(text: str) -> str:
    """``tc_1`` → ``TC_001_CSMS``, ``TC_004_1`` → ``TC_004_1_CSMS``, ``r-01`` → ``R-01``."""
    value = text.strip().upper()
    match = re.fullmatch(r"TC[_-]?(\d+)((?:_\d+)?)(?:_CSMS)?", value)
    if match:
        return f"TC_{int(match.group(1)):03d}{match.group(2)}_CSMS"
    match = re.fullmatch(r"R[_-]?(\d+)", value)
    if match:
        return f"R-{int(match.group(1)):02d}"
    return value


class SelectionError(ValueError):
    """``--profiles``/``--cases`` named something that does not exist."""


def select(
    scenarios: Sequence[Scenario],
    *,
    profiles: Iterable[str] | None = None,
    cases: Iterable[str] | None = None,
) -> list[Scenario]:
    """The scenarios of the given profiles and/or case ids (both: the union), in catalogue order. With
    neither: every scenario except those of opt-in profiles (Robustness)."""
    profile_keys: set[str] = set()
    for name in profiles or ():
        info = profile_info(name)
        if info is None:
            known = ", ".join(info.key for info in ALL_PROFILES)
            raise SelectionError(f"unknown profile {name!r}; known: {known}")
        profile_keys.add(info.key)
    by_id = {scenario.id: scenario for scenario in scenarios}
    wanted_ids: set[str] = set()
    for case in cases or ():
        case_id = normalise_case_id(case)
        if case_id not in by_id:
            raise SelectionError(f"unknown case {case!r}; `conformance list` shows the cases")
        wanted_ids.add(case_id)
    if not profile_keys and not wanted_ids:
        return [s for s in scenarios if not _opt_in(s)]
    return [s for s in scenarios if s.profile_key in profile_keys or s.id in wanted_ids]
