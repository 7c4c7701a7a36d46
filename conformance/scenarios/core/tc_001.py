"""TC_001_CSMS — Cold Boot Charge Point (§3.1.1, Tbl 122).

CP boots: BootNotification [V] Accepted (S1 also: currentTime present, interval > 0); StatusNotification
Available for connectorId 0 and each connector; then a Heartbeat, answered with currentTime. The OCTT
sends the Heartbeat after ``interval`` seconds; this suite sends it at once unless ``heartbeat_wait`` is
set (a 300 s interval would dominate a real-time run).
"""

from conformance.states import State, boot_notification, heartbeat, status_all
from conformance.steps import AtLeast, Computed, Context, Expand, Present, Satisfies, Step, Wait

ID = "TC_001_CSMS"
TITLE = "Cold Boot Charge Point"
PROFILE = "Core"
SECTION = "3.1.1"
SOURCE = "Tbl 122"
BEFORE: list[State] = []


def _configured_interval(value: object, ctx: Context) -> bool:
    expected = ctx.config.expected_heartbeat_interval
    return expected is None or value == expected


def _heartbeat_wait(ctx: Context) -> list[Step]:
    if not ctx.config.heartbeat_wait:
        return []
    interval = Computed(lambda c: c.values.get("bootInterval", 0), "interval from BootNotification.conf")
    return [Wait(interval, "the heartbeat interval")]


STEPS = [
    boot_notification(
        checks=(
            Present("currentTime"),
            AtLeast("interval", 1),
            Satisfies("interval", _configured_interval, "the configured heartbeat interval"),
        )
    ),
    status_all("Available"),
    Expand(_heartbeat_wait, "wait the heartbeat interval (only with heartbeat_wait = true)"),
    heartbeat(),
]
