"""Wall-clock time, injected.

Monotonic time (timeouts, deadlines) always comes from trio in the shell and enters the sans-IO core as
plain numbers. Wall-clock time is only for OCPP fields (``currentTime``, record timestamps) and comes from
a :class:`Clock` object so tests can fix it (design.md decision 11). Output is always UTC with ``Z``.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    def utc_now(self) -> dt.datetime:
        """The current time as an aware UTC datetime."""
        ...


class SystemClock:
    """The real wall clock."""

    def utc_now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that only moves when told to (tests, virtual-time conformance runs)."""

    def __init__(self, start: dt.datetime | None = None):
        self._now = start or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        if self._now.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")

    def utc_now(self) -> dt.datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += dt.timedelta(seconds=seconds)


def format_timestamp(moment: dt.datetime) -> str:
    """OCPP date-time text: UTC, millisecond precision, ``Z`` suffix (``2026-01-01T00:00:00.000Z``)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware one")
    utc = moment if moment.tzinfo is dt.UTC else moment.astimezone(dt.UTC)
    # isoformat is C code and several times faster than strftime; this runs for every frame logged.
    return utc.isoformat(timespec="milliseconds")[:23] + "Z"


def parse_timestamp(text: str) -> dt.datetime:
    """Parse an OCPP date-time with any offset; a missing offset is read as UTC (lenient on purpose)."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)
