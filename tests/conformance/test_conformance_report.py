"""The report: certificate-abstract rows, AQ-1, performance figures, and four formats that must parse."""

from __future__ import annotations

import html.parser
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import trio
import trio.testing
from fake_csms import FakeCsms, FakeOperator, raw_result

from conformance.config import RunConfig
from conformance.deviations import from_mapping
from conformance.report import (
    aq1_answer,
    performance,
    profile_rows,
    render_html,
    render_json,
    render_junit,
    render_markdown,
    report_data,
    write_reports,
)
from conformance.runner import InProcessTarget, RunResult, run_suite
from conformance.scenario import discover, select


async def mixed_run(cases: list[str], *, deviations: dict[str, str] | None = None) -> RunResult:
    """A run with passes, a failure (schema-invalid Authorize for the expired tag), maybe a deviation."""
    fake = FakeCsms()
    tags = fake.run_config.id_tags

    def authorize(unique_id: str, payload: dict[str, object]) -> str | None:
        if payload["idTag"] == tags.expired:
            return raw_result({"idTagInfo": {"status": "<Expired & Gone>"}})(unique_id, payload)
        return raw_result(
            {"idTagInfo": {"status": "Accepted" if payload["idTag"] == tags.valid else "Invalid"}}
        )(unique_id, payload)

    fake.overrides["Authorize"] = authorize
    fake.answer_delay["Authorize"] = 0.5
    fake.answer_delay["Heartbeat"] = 0.25
    return await run_suite(
        select(discover(), cases=cases),
        target=InProcessTarget(fake),
        operator=FakeOperator(fake),
        config=RunConfig(),
        deviations=from_mapping(deviations or {}),
    )


async def test_certificate_rows_aq1_and_performance(autojump_clock: trio.testing.MockClock) -> None:
    result = await mixed_run(["TC_001", "TC_023_1", "TC_023_2", "R-01"])
    assert [c.status for c in result.cases] == ["pass", "pass", "fail", "pass"]
    rows = {row.name: row for row in profile_rows(result)}
    assert [row.name for row in profile_rows(result)] == [
        "Core",
        "Firmware Management",
        "Local Auth List Management",
        "Reservation",
        "Smart Charging",
        "Remote Trigger",
        "Security",
    ]
    assert (rows["Core"].verdict, rows["Core"].passed, rows["Core"].failed, rows["Core"].run) == (
        "Fail",
        2,
        1,
        3,
    )
    assert rows["Security"].verdict == "Not run"
    assert aq1_answer(result).answer == "Yes"
    assert aq1_answer(result).detail == "R-01 Pending: Pass"
    ocpp, authorize = performance(result)
    # Heartbeats answer in 0.25 s, Authorize in 0.5 s, everything else at once (virtual time, exact).
    assert (authorize.samples, authorize.minimum, authorize.maximum, authorize.average) == (2, 0.5, 0.5, 0.5)
    assert ocpp.minimum == 0.0 and ocpp.maximum == 0.5
    assert ocpp.samples == sum(1 for c in result.cases for t in c.timings)


async def test_profile_verdicts(autojump_clock: trio.testing.MockClock) -> None:
    result = await mixed_run(["TC_001", "TC_023_1"])
    assert profile_rows(result)[0].verdict == "Incomplete"  # 2 of the 34 Core cases
    assert aq1_answer(result).answer == "Not answered"
    result = await mixed_run(["TC_023_2"], deviations={"TC_023_2": "known"})
    assert profile_rows(result)[0].verdict == "Fail"
    assert result.exit_status == 0


async def test_all_formats_parse_and_agree(autojump_clock: trio.testing.MockClock, tmp_path: Path) -> None:
    result = await mixed_run(
        ["TC_001", "TC_023_1", "TC_023_2", "TC_023_3", "R-01"], deviations={"TC_023_3": "#7"}
    )
    statuses = [c.status for c in result.cases]
    assert statuses == ["pass", "pass", "fail", "deviation", "pass"]

    data = json.loads(render_json(result))
    assert data == json.loads(json.dumps(report_data(result), default=str))
    assert data["format"] == "ocpp-trio-conformance-report"
    assert data["summary"]["result"] == "FAIL" and data["summary"]["exitStatus"] == 1
    assert data["summary"]["counts"] == {
        "pass": 3,
        "fail": 1,
        "error": 0,
        "deviation": 1,
        "unexpected_pass": 0,
    }
    assert data["aq1"]["answer"] == "Yes"
    failing = data["cases"][2]
    assert failing["id"] == "TC_023_2_CSMS"
    assert "fails AuthorizeResponse schema" in failing["reason"]
    assert failing["frames"][0]["direction"] == "sent"

    junit = ET.fromstring(render_junit(result))
    assert (junit.get("tests"), junit.get("failures"), junit.get("errors"), junit.get("skipped")) == (
        "5",
        "1",
        "0",
        "1",
    )
    suites = {suite.get("name"): suite for suite in junit.iter("testsuite")}
    assert set(suites) == {"Core", "AQ-1"}
    cases = {case.get("name", "").split()[0]: case for case in junit.iter("testcase")}
    failure = cases["TC_023_2_CSMS"].find("failure")
    assert failure is not None and "fails AuthorizeResponse schema" in (failure.get("message") or "")
    skipped = cases["TC_023_3_CSMS"].find("skipped")
    assert skipped is not None and (skipped.get("message") or "").startswith("known deviation: #7")
    assert cases["R-01"].get("classname") == "conformance.aq1"

    markdown = render_markdown(result)
    assert markdown.startswith("# Abstract of the Test Report\n")
    for heading in (
        "## Certification profiles",
        "## Additional questions",
        "## Performance Measurement Result",
    ):
        assert heading in markdown
    assert "| Core | Fail | 2 | 1 | 1 | 4 / 34 |" in markdown
    assert "| Response time Authorize | 3 | 0.500 | 0.500 | 0.500 |" in markdown
    _check_markdown_tables(markdown)

    page = render_html(result)
    _check_html(page)
    assert "&lt;Expired &amp; Gone&gt;" in page and "<Expired & Gone>" not in page

    written = write_reports(result, tmp_path / "out")
    assert sorted(p.name for p in written) == ["junit.xml", "report.html", "report.json", "report.md"]
    assert all(p.read_text(encoding="utf-8") for p in written)


def _check_markdown_tables(markdown: str) -> None:
    """Every row of a table has as many cells as its header (pipes inside cells are escaped)."""
    width = None
    for line in markdown.splitlines():
        if not line.startswith("|"):
            width = None
            continue
        cells = line.replace("\\|", "").count("|") - 1
        if width is None:
            width = cells
        assert cells == width, line


class _TagChecker(html.parser.HTMLParser):
    VOID = frozenset({"meta", "br", "hr", "img", "input", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.seen: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.add(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (
            f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        )
        self.stack.pop()


def _check_html(page: str) -> None:
    checker = _TagChecker()
    checker.feed(page)
    checker.close()
    assert checker.stack == []
    assert {"html", "head", "style", "body", "table", "details"} <= checker.seen
    assert "<script" not in page and "http://" not in page.split("<body>", maxsplit=1)[0]  # self-contained
