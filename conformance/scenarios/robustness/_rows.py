"""Shared pieces of the robustness rows: the declaration helper, the per-group charger identities, the
group check, and builders for the common row shapes."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from conformance.raw_steps import (
    ExpectAlive,
    ExpectError,
    ExpectNoReply,
    ExpectResult,
    ProbeAction,
    RawProbe,
    RobustnessStep,
    SendText,
)
from conformance.scenario import declare
from conformance.states import (
    BOOTED,
    authorize,
    heartbeat,
    start_transaction,
    status,
    stop_transaction,
)
from conformance.steps import Check, Operator, Step

PROFILE = "Robustness"

#: Each group runs as its own identity, ``<configured charger id><suffix>``, so no row can disturb the
#: cases of other profiles or of another group. A CSMS that only admits known identities must know them
#: (ocpp-trio's operator registers them: every row's SETUP sets the identity's boot policy).
HANDSHAKE = "-RB1"
FRAMES = "-RB2"
RPC = "-RB3"
REGISTRATION = "-RB4"
#: a registration-group identity that never boots (row 68)
NEVER_BOOTED = "-RB4-NEW"
TRANSACTIONS = "-RB5"

#: the identity exists and answers BootNotification with the CSMS's default (Accepted)
REGISTER = [Operator.set_boot_policy(None)]


def row(
    module: str,
    case_id: str,
    title: str,
    steps: RobustnessStep | Sequence[Step],
    *,
    suffix: str,
    section: str,
    source: str,
    expected: str | None = None,
    before: Sequence[Any] = (),
    setup: Sequence[Any] | None = None,
    teardown: Sequence[Any] = (),
) -> ModuleType:
    """One catalogue row. A single robustness step opens its own connections (CONNECT = False) and its
    expectation is the row's; a list of ordinary steps runs on the runner's connection."""
    if isinstance(steps, RobustnessStep):
        connect = False
        step_list: list[Step] = [steps]
        text = expected if expected is not None else steps.expectation()
    else:
        connect = True
        step_list = list(steps)
        if expected is None:  # pragma: no cover - a declaration mistake
            raise ValueError(f"{case_id}: rows of ordinary steps must say what they expect")
        text = expected
    return declare(
        module,
        ID=case_id,
        TITLE=title,
        PROFILE=PROFILE,
        SECTION=section,
        SOURCE=source,
        KIND="catalogue",
        CHARGER_SUFFIX=suffix,
        CONNECT=connect,
        EXPECTED=text,
        BEFORE=list(before),
        SETUP=list(REGISTER if setup is None else setup),
        TEARDOWN=list(teardown),
        STEPS=step_list,
    )


def group_check(module: str, case_id: str, group: str, *, suffix: str, section: str) -> ModuleType:
    """After a group: a fresh connection of the group's identity boots (Accepted), sends a Heartbeat and
    runs a short transaction — the CSMS still serves a well-behaved charger."""
    return row(
        module,
        case_id,
        f"{group} group done: the CSMS still serves a well-behaved charger",
        [
            heartbeat(),
            authorize(),
            status("Preparing"),
            start_transaction(),
            status("Charging"),
            stop_transaction("Local"),
            status("Finishing"),
            status("Available"),
        ],
        suffix=suffix,
        section=section,
        source="robustness profile: health check after the group",
        expected="Boot Accepted, Heartbeat, a short transaction, all answered normally",
        before=[BOOTED],
    )


# ------------------------------------------------------------------------------- common row shapes


def probe(*actions: ProbeAction, boot: bool = True) -> RawProbe:
    return RawProbe(tuple(actions), boot=boot)


def no_reply(frame: str, label: str = "") -> RawProbe:
    """The frame gets no reply at all, and the connection still works afterwards."""
    return probe(SendText(frame, label), ExpectNoReply(), ExpectAlive())


def error(frame: str, code: str, *, unique_id: str = "$ID", label: str = "") -> RawProbe:
    """The frame gets a CALLERROR with ``code`` echoing ``unique_id``."""
    return probe(SendText(frame, label), ExpectError(code, unique_id))


def answered(frame: str, action: str, checks: Sequence[Check] = ()) -> RawProbe:
    """The frame gets its normal CALLRESULT."""
    return probe(SendText(frame), ExpectResult(action, tuple(checks)))
