"""Known deviations: cases the CSMS under test is known to fail, each with the reason (design-models.md
§3 principle 13).

A listed case that fails is reported as ``deviation`` and does not fail the run; a listed case that
passes is reported as ``unexpected pass`` (time to delete the entry). Two file formats:

TOML (``--deviations deviations.toml``)::

    [deviations]
    TC_023_2 = "expired idTags are answered Invalid until issue #12 is fixed"
    "R-02" = "the CSMS closes a Rejected charger's connection"

Python (``--deviations known_deviations.py``): a module with ``DEVIATIONS = {"TC_023_2": "..."}`` and/or
a function ``deviation(case_id: str) -> str | None`` for predicates (the function wins when it answers).

Case ids may be written short (``TC_023_2``) or in full (``TC_023_2_CSMS``).
"""

from __future__ import annotations

import importlib.util
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.scenario import normalise_case_id


class DeviationsError(ValueError):
    """The deviations file cannot be read or is not in one of the two formats."""


@dataclass(frozen=True)
class Deviations:
    reasons: Mapping[str, str] = field(default_factory=dict)
    predicate: Callable[[str], str | None] | None = None

    def reason(self, case_id: str) -> str | None:
        """Why ``case_id`` is a known deviation, or None when it is not one."""
        if self.predicate is not None:
            answer = self.predicate(case_id)
            if answer:
                return str(answer)
        return self.reasons.get(normalise_case_id(case_id))

    def __len__(self) -> int:
        return len(self.reasons)


def from_mapping(entries: Mapping[str, Any], where: str = "deviations") -> Deviations:
    reasons: dict[str, str] = {}
    for case, reason in entries.items():
        if not isinstance(reason, str) or not reason.strip():
            raise DeviationsError(f"{where}: {case} needs a reason string")
        reasons[normalise_case_id(str(case))] = reason.strip()
    return Deviations(reasons)


def load_deviations(path: Path) -> Deviations:
    """Read a ``.toml`` or ``.py`` deviations file; raises :class:`DeviationsError`."""
    if path.suffix == ".py":
        return _load_python(path)
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as exc:
        raise DeviationsError(f"cannot read deviations file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise DeviationsError(f"{path}: not valid TOML: {exc}") from None
    table = document.get("deviations", document)
    if not isinstance(table, dict):
        raise DeviationsError(f"{path}: [deviations] must be a table of case id = reason")
    return from_mapping(table, str(path))


def _load_python(path: Path) -> Deviations:
    spec = importlib.util.spec_from_file_location(f"_conformance_deviations_{abs(hash(path))}", path)
    if spec is None or spec.loader is None:
        raise DeviationsError(f"cannot load deviations module {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except OSError as exc:
        raise DeviationsError(f"cannot read deviations file {path}: {exc}") from None
    table = getattr(module, "DEVIATIONS", {})
    if not isinstance(table, dict):
        raise DeviationsError(f"{path}: DEVIATIONS must be a dict of case id → reason")
    predicate = getattr(module, "deviation", None)
    if predicate is not None and not callable(predicate):
        raise DeviationsError(f"{path}: deviation must be a function (case_id) -> reason or None")
    base = from_mapping(table, str(path))
    return Deviations(base.reasons, predicate)
