"""TC_001_CSMS — Cold Boot Charge Point (§3.1.1, Tbl 122).

CP boots: BootNotification [V] Accepted (S1 also: currentTime present, interval > 0); StatusNotification
Available for connectorId 0 and each connector; then a Heartbeat, answered with currentTime. The OCTT
sends the Heartbeat after ``interval`` seconds; this suite sends it at once unless ``heartbeat_wait`` is
set (a 300 s interval would dominate a real-time run).

Both ``currentTime`` values must carry their UTC offset (``Z`` or ``±hh:mm``): the schemas declare
``"format": "date-time"``, which is RFC 3339's ``date-time``, where the offset is mandatory, and without it
the charger cannot tell which instant the CSMS means (C §3.14 recommends UTC). The suite's schema check
shares the engine's validator, which accepts a missing offset on purpose (design decision 11: leniency
for timestamps *from chargers*), so the offset is checked here.
"""

import re

from conformance.states import State, boot_notification, status_all
from conformance.steps import AtLeast, Computed, Context, Expand, Present, Satisfies, Send, Step, Wait

ID = "TC_001_CSMS"
TITLE = "Cold Boot Charge Point"
PROFILE = "Core"
SECTION = "3.1.1"
SOURCE = "Tbl 122"
BEFORE: list[State] = []


def _configured_interval(value: object, ctx: Context) -> bool:
    expected = ctx.config.expected_heartbeat_interval
    return expected is None or value == expected


_UTC_OFFSET = re.compile(r"(?:[Zz]|[+-]\d{2}:\d{2})$")


def _has_utc_offset(value: object, ctx: Context) -> bool:
    return isinstance(value, str) and _UTC_OFFSET.search(value) is not None


CURRENT_TIME_WITH_OFFSET = Satisfies(
    "currentTime", _has_utc_offset, "an RFC 3339 date-time with its UTC offset (Z or ±hh:mm)"
)


def _heartbeat_wait(ctx: Context) -> list[Step]:
    if not ctx.config.heartbeat_wait:
        return []
    interval = Computed(lambda c: c.values.get("bootInterval", 0), "interval from BootNotification.conf")
    return [Wait(interval, "the heartbeat interval")]


STEPS = [
    boot_notification(
        checks=(
            Present("currentTime"),
            CURRENT_TIME_WITH_OFFSET,
            AtLeast("interval", 1),
            Satisfies("interval", _configured_interval, "the configured heartbeat interval"),
        )
    ),
    status_all("Available"),
    Expand(_heartbeat_wait, "wait the heartbeat interval (only with heartbeat_wait = true)"),
    Send("Heartbeat", {}, checks=(Present("currentTime"), CURRENT_TIME_WITH_OFFSET)),
]
