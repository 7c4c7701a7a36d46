"""The suite checks itself: every deliberately broken CSMS of ``broken_csms.py`` must fail the run, and the
report (JSON and Markdown) must name the case that caught it and why.

Each variant gets the default run (Core + AQ-1), in process and in virtual time (the 31 s late answers
cost nothing), plus the opt-in Robustness rows that catch what the default run cannot see (a charger
identity that never booted, a transactionId nobody handed out, the 101's subprotocol header). A variant
the suite does not catch is a finding: it is listed with ``xfail(strict=True)`` and the reason says what
is missing, so the day the suite catches it the mark has to go.
"""

from __future__ import annotations

import json

import pytest
import trio
import trio.testing
from broken_csms import BY_NAME, Variant, serve

from conformance.config import RunConfig
from conformance.report import render_json, render_markdown
from conformance.runner import RunResult, progress_line, run_suite
from conformance.scenario import discover, select

DEFAULT_RUN = ("core", "aq1")
#: the Robustness rows used below (all pass against the real engine: see the control test)
ROBUSTNESS_ROWS = ["RB-06", "RB-68", "RB-69A", "RB-78", "RB-81", "RB-82", "RB-83A"]


async def run_against(
    variant: Variant, rows: list[str], profiles: tuple[str, ...] = DEFAULT_RUN
) -> RunResult:
    scenarios = select(discover(include_opt_in=True), profiles=profiles, cases=rows)
    async with serve(variant) as (target, operator):
        return await run_suite(scenarios, target=target, operator=operator, config=RunConfig())


#: variant, the Robustness rows added to the default run (or the whole selection), and the cases that
#: must fail, each with a part of its failure reason
CAUGHT = [
    pytest.param(
        "pending-forever",
        [],
        [
            ("TC_001_CSMS", 'step 2 (case): BootNotification: status is "Pending", expected "Accepted"'),
            # the boot after the Pending one, where the operator's PendingOnce policy has run out
            ("R-01", 'step 7 (case): BootNotification: status is "Pending", expected "Accepted"'),
        ],
        id="pending-forever",
    ),
    pytest.param(
        "transaction-id-reused",
        # Alone: after Core, the first symptom of reused ids is ConcurrentTx (each clean-up
        # StopTransaction stopped transaction 1, the others stay open), which hides the id itself.
        ["RB-78", "RB-81"],
        [
            ("RB-78", "StartTransaction: transactionId is 1, expected a real transaction id (> 0), not"),
            # RB-78's transactions were stopped under the reused id 1: RB-81 meets ConcurrentTx first
            ("RB-81", "StartTransaction: "),
        ],
        id="transaction-id-reused",
    ),
    pytest.param(
        "data-transfer-callerror",
        [],
        [("TC_064_CSMS", "CSMS answered DataTransfer with CALLERROR NotSupported")],
        id="data-transfer-callerror",
    ),
    pytest.param(
        "subprotocol-ocpp2.0.1",
        [],
        [("TC_001_CSMS", "unrecognized subprotocol ocpp2.0.1")],
        id="subprotocol-ocpp2.0.1",
    ),
    pytest.param(
        "subprotocol-none",
        ["RB-06"],
        [("RB-06", "101 upgrade with Sec-WebSocket-Protocol no header, expected exactly ocpp1.6")],
        id="subprotocol-none",
    ),
    pytest.param(
        "stop-unknown-dropped",
        ["RB-82", "RB-83A"],
        [
            ("RB-82", "no answer to StopTransaction within 30 s"),
            ("RB-83A", "no answer to StopTransaction within 30 s"),
        ],
        id="stop-unknown-dropped",
    ),
    pytest.param(
        "authorize-late",
        [],
        [
            ("TC_023_1_CSMS", "step 5 (case): no answer to Authorize within 30 s"),
            ("TC_012_CSMS", "step 5 (Authorized): no answer to Authorize within 30 s"),
        ],
        id="authorize-late",
    ),
    pytest.param(
        "start-transaction-late",
        [],
        [("TC_003_CSMS", "step 7 (case): no answer to StartTransaction within 30 s")],
        id="start-transaction-late",
    ),
    pytest.param(
        "no-registration-gate",
        ["RB-68", "RB-69A"],
        [
            ("RB-68", "StatusNotification: expected CALLERROR SecurityError, got a CALLRESULT"),
            ("RB-69A", "StartTransaction: expected CALLERROR SecurityError, got a CALLRESULT"),
        ],
        id="no-registration-gate",
    ),
    pytest.param(
        "gate-skips-never-booted",
        ["RB-68", "RB-69A"],
        [("RB-68", "StatusNotification: expected CALLERROR SecurityError, got a CALLRESULT")],
        id="gate-skips-never-booted",
    ),
    pytest.param(
        "authorize-unknown-accepted",
        [],
        [("TC_023_1_CSMS", 'Authorize: idTagInfo.status is "Accepted", expected "Invalid"')],
        id="authorize-unknown-accepted",
    ),
    pytest.param(
        "current-time-without-offset",
        [],
        [("TC_001_CSMS", "expected an RFC 3339 date-time with its UTC offset (Z or ±hh:mm)")],
        id="current-time-without-offset",
    ),
]

#: variants whose rows are run on their own (see transaction-id-reused)
ALONE = {"transaction-id-reused"}


@pytest.mark.parametrize(("name", "rows", "expected"), CAUGHT)
async def test_a_broken_csms_fails_the_run_and_the_report_names_the_case(
    autojump_clock: trio.testing.MockClock, name: str, rows: list[str], expected: list[tuple[str, str]]
) -> None:
    result = await run_against(BY_NAME[name], rows, () if name in ALONE else DEFAULT_RUN)
    lines = [progress_line(case) for case in result.cases if case.status != "pass"]
    assert result.exit_status == 1, f"{name}: every case passed"
    # A broken CSMS fails cases; it never makes the suite itself stumble.
    assert [line for line in lines if line.startswith("ERROR")] == []
    cases = {case.scenario.id: case for case in result.cases}

    data = json.loads(render_json(result))
    assert (data["summary"]["result"], data["summary"]["exitStatus"]) == ("FAIL", 1)
    json_cases = {case["id"]: case for case in data["cases"]}
    markdown = render_markdown(result).splitlines()
    case_table = _section(markdown, "## Test cases")

    for case_id, reason in expected:
        case = cases[case_id]
        assert case.status == "fail", lines
        assert reason in case.reason, case.reason
        assert json_cases[case_id]["status"] == "fail"
        assert reason in json_cases[case_id]["reason"]
        # The "Test cases" table: | id | title | profile | Fail | seconds | remark with the reason |
        row = next(line for line in case_table if line.startswith(f"| {case_id} |"))
        assert " | Fail | " in row
        assert reason in row.replace("\\|", "|")
        # and the case's step table under "Details"
        assert f"### {case_id} {case.scenario.title} — Fail" in markdown


def _section(lines: list[str], heading: str) -> list[str]:
    """The lines under ``heading`` up to the next heading of the same level."""
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


async def test_the_unbent_engine_passes_through_the_same_harness(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The control: the variants' machinery (BentProfiles, serve) with nothing bent passes every case and
    row used above, so each variant's failures come from its one bend."""
    result = await run_against(Variant("control", "the real engine"), ROBUSTNESS_ROWS)
    assert [progress_line(case) for case in result.cases if case.status != "pass"] == []
    assert result.exit_status == 0


async def test_the_handshake_rewriter_changes_only_the_subprotocol(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """The handshake variant's proxy selects what it is told, and the engine behind it is intact: with
    ``ocpp1.6`` put back the run passes."""
    variant = Variant("rewrite-to-ocpp1.6", "", rewrite_handshake=True, subprotocol="ocpp1.6")
    async with serve(variant) as (target, operator):
        result = await run_suite(
            select(discover(), cases=["TC_001", "TC_003"]),
            target=target,
            operator=operator,
            config=RunConfig(),
        )
        rewriter = target.csms  # type: ignore[attr-defined]
    assert result.exit_status == 0, [progress_line(case) for case in result.cases]
    assert len(rewriter.rewritten) == 2  # one handshake per case
    assert all(head.endswith(b"\r\nSec-WebSocket-Protocol: ocpp1.6") for head in rewriter.rewritten)
