"""The Robustness profile (the bad-input catalogue, ocpp16-rules.md §10.1–10.5) against the real ocpp-trio
engine in process, over memory streams, in virtual time; its selection and report; and proof that its rows
fail against a deliberately wrong CSMS.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing
from fake_csms import FakeCsms, FakeOperator
from trio_websocket import ConnectionClosed, WebSocketConnection

from conformance.cli import main as cli_main
from conformance.config import RunConfig
from conformance.deviations import from_mapping
from conformance.operators import InProcessOperator
from conformance.probes import OPCODE_TEXT, ws_frame
from conformance.raw_steps import fragment_flood, oversized
from conformance.report import render_html, render_json, render_junit, render_markdown, robustness_row
from conformance.runner import CaseResult, InProcessTarget, RunResult, progress_line, run_case, run_suite
from conformance.scenario import Scenario, discover, select
from engine.config import Config, ServerConfig
from engine.protocol.frames import Call, Garbage, encode_error, encode_result, parse_frame
from engine.server import Csms
from engine.store import MemoryStore

ROBUSTNESS = select(discover(include_opt_in=True), profiles=["robustness"])
BY_ID = {scenario.id: scenario for scenario in ROBUSTNESS}
GROUP_CHECKS = ["RB-24-OK", "RB-33-OK", "RB-67-OK", "RB-75-OK", "RB-96-OK"]

#: Rows where ocpp-trio does not do what the catalogue row expects (design.md is silent on it).
#: RB-66 (a burst of 50 CALLs) was one until the session queued CALLs beyond its handler limit; RB-26
#: and RB-30 (1007/1002 close frames) until the server's own websocket layer replaced trio-websocket.
#: Reported to the lead; the rows are not bent.
DEVIATIONS = {
    "RB-59": (
        "a non-printable character in a CiString (idTag 'AB\\u0007') is accepted (Authorize.conf "
        "Invalid); no printable-ASCII check gives PropertyConstraintViolation"
    ),
}


@asynccontextmanager
async def running_csms(config: Config | None = None) -> AsyncIterator[Csms]:
    # Server pings off, as in the Core in-process run (trio-websocket #184).
    csms = Csms(config or Config(server=ServerConfig(ping_interval=0)), store=MemoryStore())
    async with trio.open_nursery() as nursery:
        await nursery.start(csms.run_background)
        yield csms
        nursery.cancel_scope.cancel()


async def run_robustness(
    scenarios: list[Scenario] | None = None, *, config: RunConfig | None = None
) -> RunResult:
    async with running_csms() as csms:
        return await run_suite(
            scenarios if scenarios is not None else ROBUSTNESS,
            target=InProcessTarget(csms),
            operator=InProcessOperator(csms),
            config=config or RunConfig(),
            deviations=from_mapping(DEVIATIONS),
        )


def unexpected(result: RunResult) -> list[str]:
    """Rows that neither passed nor failed as a listed deviation."""
    return [progress_line(case) for case in result.cases if case.status not in ("pass", "deviation")]


# ----------------------------------------------------------------------------------------- the profile


async def test_every_robustness_row_passes_against_ocpp_trio_in_process(
    autojump_clock: trio.testing.MockClock,
) -> None:
    started = time.perf_counter()
    result = await run_robustness()
    elapsed = time.perf_counter() - started
    assert unexpected(result) == []
    assert sorted(case.scenario.id for case in result.cases if case.status == "deviation") == sorted(
        DEVIATIONS
    )
    assert result.ok and result.exit_status == 0
    rows = [case for case in result.cases if case.scenario.id not in GROUP_CHECKS]
    assert len(rows) >= 50
    groups = {case.scenario.section for case in rows}
    assert groups == {"10.1", "10.2", "10.3", "10.4", "10.5"}
    # Each group is followed by its check that a well-behaved charger is still served.
    ids = [case.scenario.id for case in result.cases]
    for check, section in zip(GROUP_CHECKS, ["10.1", "10.2", "10.3", "10.4", "10.5"], strict=True):
        position = ids.index(check)
        assert all(c.scenario.section == section for c in result.cases[position - 3 : position])
        assert result.cases[position].status == "pass"
    # Every row states its expected and its actual reaction.
    assert all(case.expected and case.actual for case in result.cases)
    # Virtual time: the silence windows, the handshake deadline (RB-20) and bounded clean-ups; seconds of
    # real time for the whole profile.
    assert elapsed < 20, elapsed
    # The one tolerated answer: h11 refuses 100 KiB of headers with 400, where row 21 names 431.
    warned = {case.scenario.id: case.warnings for case in result.cases if case.warnings}
    assert warned == {"RB-21": ["HTTP 400 instead of 431 (tolerated)"]}


async def test_rows_probe_what_they_claim(autojump_clock: trio.testing.MockClock) -> None:
    """A few rows in detail: what was sent and what the CSMS did, as the report shows it."""
    cases = ["RB-04", "RB-06", "RB-20", "RB-25", "RB-27A", "RB-34B", "RB-46", "RB-47", "RB-62", "RB-75"]
    result = await run_robustness([BY_ID[case_id] for case_id in cases])
    by_id = {case.scenario.id: case for case in result.cases}
    assert unexpected(result) == []
    assert by_id["RB-04"].actual.startswith("HTTP 400 'Missing Sec-WebSocket-Protocol header")
    assert by_id["RB-06"].actual == "101 upgrade, Sec-WebSocket-Protocol: ocpp1.6; BootNotification Accepted"
    assert by_id["RB-20"].actual == "closed after 10.0 s"  # ServerConfig.handshake_timeout, exactly
    assert by_id["RB-25"].actual == "close 1003 'binary frames are not OCPP-J'"
    assert by_id["RB-27A"].actual.startswith("close 1009")
    assert by_id["RB-34B"].actual == "no reply within 2 s; close 1008 '10 malformed frames in a row'"
    assert "status Pending" in by_id["RB-46"].actual
    assert by_id["RB-47"].actual.endswith("the identical answer again (cached)")
    assert "operator: response_invalid" in by_id["RB-62"].actual
    assert by_id["RB-75"].actual.startswith("2 steps as expected; the last: refused: refused_by_state")
    # The frame log shows the raw frames (shortened) and the close.
    frames = [record.text for record in by_id["RB-34B"].frames]
    assert frames.count("hello") == 10
    assert frames[-1] == "<close 1008 '10 malformed frames in a row'>"


def test_frame_builders_hit_the_limits_exactly() -> None:
    config = RunConfig(robustness_max_message_size=1000)
    at_limit = oversized(0)(config).replace("$ID", "rb-" + "0" * 20)
    assert len(at_limit) == 1000
    assert len(oversized(1)(config).replace("$ID", "rb-" + "0" * 20)) == 1001
    flood = fragment_flood(config)
    assert flood[0] == OPCODE_TEXT  # first fragment: text, fin bit clear
    # The payloads add up to exactly one past the limit: a 30-byte first fragment (header 2 + mask 4),
    # then 971 bytes of continuation (header 2 + 2-byte length + mask 4).
    assert len(flood) == (2 + 4 + 30) + (4 + 4 + 971)
    frame = ws_frame(OPCODE_TEXT, b"abc", masked=False)
    assert frame == b"\x81\x03abc"
    masked = ws_frame(OPCODE_TEXT, b"abc")
    assert masked[:2] == b"\x81\x83" and len(masked) == 2 + 4 + 3
    key, body = masked[2:6], masked[6:]
    assert bytes(b ^ key[i % 4] for i, b in enumerate(body)) == b"abc"


# -------------------------------------------------------------------------------- selection and report


def test_robustness_is_opt_in_and_selected_by_name() -> None:
    assert not any(s.profile == "Robustness" for s in discover())
    everything = discover(include_opt_in=True)
    assert not any(s.profile == "Robustness" for s in select(everything))
    assert [s.id for s in select(everything, cases=["rb-34a"])] == ["RB-34A"]
    assert len(ROBUSTNESS) == len(BY_ID) >= 55
    assert all(s.kind == "catalogue" and s.expected for s in ROBUSTNESS)
    # Distinct identities per group (and one that never boots), never the configured charger itself.
    assert {s.charger_suffix for s in ROBUSTNESS} == {
        "-RB1",
        "-RB1 123",
        "-RB2",
        "-RB3",
        "-RB4",
        "-RB4-NEW",
        "-RB5",
    }


def test_list_command_shows_the_rows(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["list", "--profiles", "robustness"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(ROBUSTNESS)
    assert lines[0].startswith("RB-02A") and lines[0].endswith("[catalogue]")
    assert cli_main(["list"]) == 0
    assert "RB-" not in capsys.readouterr().out


async def test_the_report_has_a_robustness_row_with_expected_and_actual(
    autojump_clock: trio.testing.MockClock,
) -> None:
    scenarios = [BY_ID[case_id] for case_id in ("RB-34A", "RB-48A", "RB-59", "RB-96-OK")]
    result = await run_robustness(scenarios)
    assert [case.status for case in result.cases] == ["pass", "pass", "deviation", "pass"]
    row = robustness_row(result)
    assert (row.name, row.verdict, row.run, row.passed, row.deviations) == ("Robustness", "Fail", 4, 3, 1)

    markdown = render_markdown(result)
    assert "## Robustness (not an OCA certification profile)" in markdown
    assert "| Robustness | Fail | 3 | 0 | 1 | 4 |" in markdown
    assert (
        "| RB-48A | Unknown action FooBar | CALLERROR NotImplemented | "
        "CALLERROR NotImplemented \"unknown action 'FooBar'\" | Pass |"
    ) in markdown
    assert (
        "| RB-34A | Not JSON (hello) | no reply; connection still usable | no reply within 2 s; " in markdown
    )
    # The certification table is untouched: Robustness is not one of its rows.
    certification = markdown.split("## Certification profiles")[1].split("##")[0]
    assert "Robustness" not in certification

    page = render_html(result)
    assert "<h2>Robustness (not an OCA certification profile)</h2>" in page

    data = json.loads(render_json(result))
    assert data["robustness"]["verdict"] == "Fail"
    assert [r["id"] for r in data["robustness"]["rows"]] == ["RB-34A", "RB-48A", "RB-59", "RB-96-OK"]
    assert data["robustness"]["rows"][2]["status"] == "deviation"
    assert "got CALLRESULT" in data["robustness"]["rows"][2]["actual"]

    junit = ET.fromstring(render_junit(result))
    suites = [suite.get("name") for suite in junit.iter("testsuite")]
    assert suites == ["Robustness (not an OCA certification profile)"]
    cases = {case.get("name", "").split()[0]: case for case in junit.iter("testcase")}
    assert cases["RB-59"].find("skipped") is not None
    out = cases["RB-48A"].findtext("system-out") or ""
    assert out.startswith("expected: CALLERROR NotImplemented\nactual: CALLERROR NotImplemented")

    line = progress_line(result.cases[1])
    assert line.startswith(
        "PASS RB-48A Unknown action FooBar (0.00 s) — expected: CALLERROR NotImplemented; got:"
    )


# ------------------------------------------------------------------------ rows fail against a wrong CSMS


class WrongCsms(FakeCsms):
    """A CSMS with SteVe-like habits the design forbids: a CALLERROR for frames with no usable id,
    NotSupported for unknown actions, binary frames read as text, a 101 for any subprotocol offer."""

    async def _handle(self, request: Any) -> None:
        ws = await request.accept(subprotocol=(request.proposed_subprotocols or [None])[0])
        self.ws = ws
        try:
            await self._read_wrongly(ws)
        except* ConnectionClosed:
            pass

    async def _read_wrongly(self, ws: WebSocketConnection) -> None:
        while True:
            message = await ws.get_message()
            text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
            frame = parse_frame(text)
            if isinstance(frame, Garbage):
                await ws.send_message(encode_error("-1", "GenericError", "invalid JSON", {}))
            elif isinstance(frame, Call) and frame.action not in ("BootNotification", "Heartbeat"):
                await ws.send_message(encode_error(frame.unique_id, "NotSupported", "", {}))
            elif isinstance(frame, Call):
                await ws.send_message(
                    encode_result(frame.unique_id, self.respond(frame.action, frame.payload))
                )


async def run_against_wrong(case_id: str) -> CaseResult:
    fake = WrongCsms()
    return await run_case(
        BY_ID[case_id], target=InProcessTarget(fake), operator=FakeOperator(fake), config=RunConfig()
    )


async def test_a_callerror_to_an_unparseable_frame_fails_the_row(
    autojump_clock: trio.testing.MockClock,
) -> None:
    case = await run_against_wrong("RB-34A")
    assert case.status == "fail"
    assert case.reason == (
        "step 2 (case): expected no reply, got CALLERROR GenericError 'invalid JSON' for id '-1'"
    )
    assert case.actual == case.reason
    assert progress_line(case).startswith(
        "FAIL RB-34A Not JSON (hello) (0.00 s) — expected: no reply; connection still usable; got: step 2"
    )


async def test_wrong_codes_close_codes_and_subprotocols_fail_their_rows(
    autojump_clock: trio.testing.MockClock,
) -> None:
    case = await run_against_wrong("RB-48A")
    assert case.status == "fail"
    assert case.reason.startswith(
        "step 2 (case): expected CALLERROR NotImplemented, got CALLERROR NotSupported"
    )
    case = await run_against_wrong("RB-25")
    assert case.status == "fail"
    assert case.reason.startswith("step 2 (case): expected close 1003, got CALLRESULT {currentTime: ")
    assert case.reason.endswith("for id 'rb-binary'")
    case = await run_against_wrong("RB-05A")
    assert case.status == "fail"
    assert case.reason.startswith("step 2 (case): expected HTTP 400, no upgrade, got 101 upgrade")


async def test_a_well_behaved_fake_passes_a_no_reply_row(autojump_clock: trio.testing.MockClock) -> None:
    """The fake the other conformance tests use ignores unparseable frames: the row passes against it."""
    fake = FakeCsms()
    case = await run_case(
        BY_ID["RB-34A"], target=InProcessTarget(fake), operator=FakeOperator(fake), config=RunConfig()
    )
    assert case.status == "pass", case.reason
    assert fake.received[-1][0] == "Heartbeat"


async def test_a_csms_without_a_bad_frame_limit_fails_the_limit_row(
    autojump_clock: trio.testing.MockClock,
) -> None:
    fake = FakeCsms()  # ignores unparseable frames, but never closes
    case = await run_case(
        BY_ID["RB-34B"], target=InProcessTarget(fake), operator=FakeOperator(fake), config=RunConfig()
    )
    assert case.status == "fail"
    assert case.reason == "step 2 (case): expected close 1008; the connection stayed open for 30 s"


async def test_the_silence_window_is_configurable(autojump_clock: trio.testing.MockClock) -> None:
    start = trio.current_time()
    result = await run_robustness([BY_ID["RB-35A"]], config=RunConfig(robustness_silence=0.25))
    assert result.cases[0].actual == "no reply within 0.25 s; Heartbeat still answered"
    assert result.cases[0].status == "pass"
    assert trio.current_time() - start < 1
