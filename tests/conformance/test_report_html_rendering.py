"""The HTML report as a person reads it: a real in-process run rendered to HTML, reduced to the text a
browser shows (``html.parser``; nothing from ``<head>``, ``<script>`` or ``<style>``, and of a closed
``<details>`` only its ``<summary>``), then checked section by section: the certificate-style summary,
the certification profiles, AQ-1 and the "Performance Measurement Result".
"""

from __future__ import annotations

import html.parser
import statistics
from dataclasses import dataclass, field

import trio
import trio.testing
from broken_csms import BY_NAME, Variant, late, serve

from conformance.config import RunConfig
from conformance.report import AQ1_QUESTION, render_html
from conformance.runner import RunResult, run_suite
from conformance.scenario import discover, select

_VOID = frozenset({"meta", "link", "br", "hr", "img", "input", "col", "wbr"})
_INVISIBLE = frozenset({"head", "script", "style", "template"})


@dataclass
class _Details:
    open: bool
    in_summary: bool = False


@dataclass
class Page:
    """The visible text: headings in order, and per heading (h1/h2) the tables under it as rows of cell
    texts, plus the other visible lines."""

    headings: list[str] = field(default_factory=list)
    tables: dict[str, list[list[list[str]]]] = field(default_factory=dict)
    lines: dict[str, list[str]] = field(default_factory=dict)

    def table(self, heading: str, index: int = 0) -> list[list[str]]:
        return self.tables[heading][index]

    def rows_by_first_cell(self, heading: str, index: int = 0) -> dict[str, list[str]]:
        return {row[0]: row for row in self.table(heading, index)}


class _VisibleText(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._invisible = 0
        self._details: list[_Details] = []
        self._section = ""
        self._heading: list[str] | None = None
        self._table: list[list[str]] | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._line: list[str] = []

    def _visible(self) -> bool:
        return self._invisible == 0 and all(d.open or d.in_summary for d in self._details)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        if tag in _INVISIBLE:
            self._invisible += 1
        elif tag == "details":
            self._details.append(_Details(open=any(name == "open" for name, _ in attrs)))
        elif tag == "summary" and self._details:
            self._details[-1].in_summary = True
        elif tag in ("h1", "h2", "h3"):
            self._heading = []
        elif tag == "table" and self._visible():
            self._table = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE:
            self._invisible -= 1
        elif tag == "details":
            self._details.pop()
        elif tag == "summary" and self._details:
            self._flush_line()
            self._details[-1].in_summary = False
        elif tag in ("h1", "h2", "h3") and self._heading is not None:
            text = _squash(self._heading)
            self._heading = None
            if self._visible():
                self.page.headings.append(text)
                if tag in ("h1", "h2"):
                    self._section = text
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(_squash(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table" and self._table is not None:
            self.page.tables.setdefault(self._section, []).append(self._table)
            self._table = None
        elif tag in ("p", "li", "pre"):
            self._flush_line()

    def handle_data(self, data: str) -> None:
        if not self._visible():
            return
        if self._heading is not None:
            self._heading.append(data)
        elif self._cell is not None:
            self._cell.append(data)
        elif self._table is None:
            self._line.append(data)

    def _flush_line(self) -> None:
        text = _squash(self._line)
        self._line = []
        if text:
            self.page.lines.setdefault(self._section, []).append(text)


def _squash(parts: list[str]) -> str:
    return " ".join("".join(parts).split())


def visible_text(page: str) -> Page:
    parser = _VisibleText()
    parser.feed(page)
    parser.close()
    return parser.page


async def _run(variant: Variant, **selection: list[str]) -> RunResult:
    async with serve(variant) as (target, operator):
        return await run_suite(
            select(discover(), **selection), target=target, operator=operator, config=RunConfig()
        )


OTHER_PROFILES = [
    ("Firmware Management", "5"),
    ("Local Auth List Management", "6"),
    ("Reservation", "10"),
    ("Smart Charging", "5"),
    ("Remote Trigger", "2"),
    ("Security", "15"),
]


async def test_a_passing_run_reads_like_a_certificate_abstract(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The real engine, Authorize answered after 0.25 s and Heartbeat after 0.125 s (virtual time, exact):
    # the performance rows then have figures worth reading.
    slow = Variant("slow", "", wrappers={"Authorize": late(0.25), "Heartbeat": late(0.125)})
    result = await _run(slow, profiles=["core"], cases=["R-01"])
    assert result.exit_status == 0
    page = visible_text(render_html(result))

    assert page.headings == [
        "Abstract of the Test Report",
        "Certification profiles",
        "Additional questions",
        "Performance Measurement Result",
        "Test cases",
        "Case details",
    ]
    summary = page.rows_by_first_cell("Abstract of the Test Report")
    assert summary["Result"] == ["Result", "PASS"]
    assert summary["Charge point id"] == ["Charge point id", "CP-1"]
    assert summary["System under test"] == ["System under test", "in-process ocpp-trio"]
    assert all(len(row) == 2 and row[0] for row in page.table("Abstract of the Test Report"))

    profiles = page.table("Certification profiles")
    assert profiles[0] == [
        "Profile",
        "Result",
        "Passed",
        "Failed",
        "Known deviations",
        "Cases run / OCTT cases",
    ]
    assert profiles[1] == ["Core", "Pass", "34", "0", "0", "34 / 34"]
    assert profiles[2:] == [
        [name, "Not run", "0", "0", "0", f"0 / {total}"] for name, total in OTHER_PROFILES
    ]

    assert page.table("Additional questions") == [
        ["Question", "Answer", "Based on"],
        ["AQ-1", AQ1_QUESTION, "Yes", "R-01 Pending: Pass"],
    ]

    # Only the two certificate rows are visible; the per-action breakdown is folded away.
    assert page.tables["Performance Measurement Result"] == [
        [
            ["Parameter", "Samples", "Min (s)", "Max (s)", "Average (s)"],
            ["OCPP response time", *_figures(result)],
            ["Response time Authorize", "15", "0.250", "0.250", "0.250"],
        ]
    ]
    lines = page.lines["Performance Measurement Result"]
    assert (
        'Measured by the simulated charge point from "CALL sent" to "answer received"; informational.'
        in lines
    )
    assert "Response times per action" in lines

    cases = page.rows_by_first_cell("Test cases")
    assert cases["TC_001_CSMS"][:4] == ["TC_001_CSMS", "Cold Boot Charge Point", "Core", "Pass"]
    # R-01 waits the 60 s boot retry interval, and its Heartbeat is answered after 0.125 s
    assert cases["R-01"][3:] == ["Pass", "60.12", "reconstructed, not OCA text"]
    # Every case passed: the details are folded, one summary line each.
    assert "Case details" not in page.tables
    details = page.lines["Case details"]
    assert len(details) == 35
    assert details[0].startswith("Pass TC_001_CSMS Cold Boot Charge Point (Core, §3.1.1, ")


def _figures(result: RunResult) -> list[str]:
    """Samples, min, max and average of every answered CALL, computed here from the raw timings."""
    seconds = [t.seconds for case in result.cases for t in case.timings if t.seconds is not None]
    assert min(seconds) == 0.0 and max(seconds) == 0.25  # StatusNotification … Authorize
    return [str(len(seconds)), "0.000", "0.250", f"{statistics.fmean(seconds):.3f}"]


async def test_a_failing_run_shows_fail_no_and_the_failed_steps(
    autojump_clock: trio.testing.MockClock,
) -> None:
    result = await _run(BY_NAME["pending-forever"], cases=["TC_001", "TC_023_1", "R-01", "R-02"])
    assert result.exit_status == 1
    page = visible_text(render_html(result))

    assert page.rows_by_first_cell("Abstract of the Test Report")["Result"] == ["Result", "FAIL"]
    profiles = page.rows_by_first_cell("Certification profiles")
    assert profiles["Core"] == ["Core", "Fail", "0", "2", "0", "2 / 34"]
    assert profiles["Security"] == ["Security", "Not run", "0", "0", "0", "0 / 15"]
    assert page.table("Additional questions")[1] == [
        "AQ-1",
        AQ1_QUESTION,
        "No",
        "R-01 Pending: Fail; R-02 Rejected: Fail",
    ]
    # No Authorize was ever answered: a dash, not a zero.
    authorize = page.rows_by_first_cell("Performance Measurement Result")["Response time Authorize"]
    assert authorize == ["Response time Authorize", "0", "–", "–", "–"]

    reason = 'step 2 (case): BootNotification: status is "Pending", expected "Accepted"'
    assert page.rows_by_first_cell("Test cases")["TC_001_CSMS"][3:] == ["Fail", "0.00", reason]
    # Failed cases are unfolded: their step tables are visible, the failing step with its reason.
    steps = page.tables["Case details"]
    assert len(steps) == 4
    assert steps[0][0] == ["#", "Phase", "Step", "Result", "Reason / detail", "At (s)"]
    failing = [row for row in steps[0][1:] if row[3] == "fail"]
    assert [row[:2] + row[3:5] for row in failing] == [
        ["2", "case", "fail", 'BootNotification: status is "Pending", expected "Accepted"']
    ]
    details = page.lines["Case details"]
    assert details[0].startswith("Fail TC_001_CSMS Cold Boot Charge Point (Core, §3.1.1, ")
    assert details[1] == "Frames (2)"  # the frame log stays folded: its summary only
