"""The report, shaped like the "Abstract of the Test Report" of an OCA certificate.

Sections, in every human format:

1. the header (system under test, OCPP version, charge point id, tool, date, overall result);
2. the certification profiles (Core, Firmware Management, Local Auth List Management, Reservation, Smart
   Charging, Remote Trigger, Security): Pass / Fail / Incomplete / Not run, with counts;
3. the additional question AQ-1, answered from the reconstructed Pending and Rejected boot cases;
   then, when its rows ran, the Robustness profile (the project's bad-input catalogue, NOT an OCA
   certification profile): its verdict and, per row, the input, the expected and the actual reaction;
4. the "Performance Measurement Result": OCPP response time and Response time Authorize, min / max /
   average in seconds, measured on the charger side from "CALL fully sent" to "answer received"
   (octt-csms-cases.md §8; informational, no threshold);
5. one row per case, then the steps of every case that did not pass.

Formats: Markdown and self-contained HTML for people, JUnit XML for CI, JSON for tools
(:func:`report_data` is the JSON document; the other renderers show the same facts).
"""

from __future__ import annotations

import html
import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from conformance.runner import CaseResult, RunResult
from conformance.scenario import AQ1, CERTIFICATION_PROFILES, ROBUSTNESS, ProfileInfo
from conformance.simulator import Timing

REPORT_FORMAT = "ocpp-trio-conformance-report"
REPORT_VERSION = 1

ROBUSTNESS_NOTE = (
    "Not an OCA certification profile: the project's bad-input catalogue (ocpp16-rules.md §10) sent to "
    "the CSMS, each row with its exact expected reaction."
)
AQ1_QUESTION = (
    "Can your CSMS be configured to first respond to a BootNotificationRequest "
    "with status Pending or Rejected?"
)
STATUS_WORDS = {
    "pass": "Pass",
    "fail": "Fail",
    "error": "Error",
    "deviation": "Known deviation",
    "unexpected_pass": "Unexpected pass",
}


# ------------------------------------------------------------------------------------------------ summary


@dataclass(frozen=True)
class ProfileRow:
    name: str
    key: str
    verdict: str
    run: int
    passed: int
    failed: int
    deviations: int
    oca_cases: int


@dataclass(frozen=True)
class Stats:
    label: str
    samples: int
    minimum: float | None
    maximum: float | None
    average: float | None


@dataclass(frozen=True)
class Aq1Answer:
    answer: str  # "Yes" / "No" / "Not answered"
    detail: str


def profile_rows(run: RunResult) -> list[ProfileRow]:
    return [
        _profile_row(info, [c for c in run.cases if c.scenario.profile_key == info.key])
        for info in CERTIFICATION_PROFILES
    ]


def _profile_row(info: ProfileInfo, cases: Sequence[CaseResult]) -> ProfileRow:
    passed = sum(1 for c in cases if c.status in ("pass", "unexpected_pass"))
    deviations = sum(1 for c in cases if c.status == "deviation")
    failed = sum(1 for c in cases if c.status in ("fail", "error"))
    oca_run = sum(1 for c in cases if c.scenario.kind == "oca")
    if not cases:
        verdict = "Not run"
    elif failed or deviations:
        verdict = "Fail"
    elif oca_run < info.oca_cases:
        verdict = "Incomplete"
    else:
        verdict = "Pass"
    return ProfileRow(info.name, info.key, verdict, len(cases), passed, failed, deviations, info.oca_cases)


def robustness_row(run: RunResult) -> ProfileRow:
    """The Robustness profile's summary row (``Not run`` when no row ran)."""
    return _profile_row(ROBUSTNESS, robustness_cases(run))


def robustness_cases(run: RunResult) -> list[CaseResult]:
    return [c for c in run.cases if c.scenario.profile_key == ROBUSTNESS.key]


def aq1_answer(run: RunResult) -> Aq1Answer:
    """Yes when the CSMS passed the Pending or the Rejected boot case (AQ-1 asks "Pending or Rejected")."""
    cases = [c for c in run.cases if c.scenario.profile_key == AQ1.key]
    if not cases:
        return Aq1Answer("Not answered", "the AQ-1 cases (R-01 Pending, R-02 Rejected) were not run")
    parts = [f"{c.scenario.id} {_aq1_label(c)}: {'Pass' if c.raw_passed else 'Fail'}" for c in cases]
    answer = "Yes" if any(c.raw_passed for c in cases) else "No"
    return Aq1Answer(answer, "; ".join(parts))


def _aq1_label(case: CaseResult) -> str:
    title = case.scenario.title
    if "Pending" in title:
        return "Pending"
    if "Rejected" in title:
        return "Rejected"
    return title


def answered(timings: Iterable[Timing]) -> list[Timing]:
    """Round trips that got an answer (a CALLRESULT or CALLERROR; timeouts have no response time)."""
    return [t for t in timings if t.seconds is not None and t.outcome in ("result", "error", "invalid")]


def stats(label: str, timings: Sequence[Timing]) -> Stats:
    values = [t.seconds for t in timings if t.seconds is not None]
    if not values:
        return Stats(label, 0, None, None, None)
    return Stats(label, len(values), min(values), max(values), math.fsum(values) / len(values))


def performance(run: RunResult) -> list[Stats]:
    """The two certificate rows: every answered CP→CSMS CALL, and Authorize alone."""
    all_timings = answered(t for case in run.cases for t in case.timings)
    return [
        stats("OCPP response time", all_timings),
        stats("Response time Authorize", [t for t in all_timings if t.action == "Authorize"]),
    ]


def performance_by_action(run: RunResult) -> list[Stats]:
    all_timings = answered(t for case in run.cases for t in case.timings)
    actions = sorted({t.action for t in all_timings})
    return [stats(action, [t for t in all_timings if t.action == action]) for action in actions]


def counts(run: RunResult) -> dict[str, int]:
    result = dict.fromkeys(STATUS_WORDS, 0)
    for case in run.cases:
        result[case.status] += 1
    return result


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


# ------------------------------------------------------------------------------------------------- JSON


def report_data(run: RunResult, *, frames: bool = True) -> dict[str, Any]:
    """The whole report as plain JSON-ready data."""
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "summary": {
            "tool": run.tool,
            "target": run.target,
            "operator": run.operator,
            "ocppVersion": "1.6-J",
            "chargerId": run.config.charger_id,
            "startedAt": run.started_at,
            "seconds": round(run.seconds, 6),
            "result": "PASS" if run.ok else "FAIL",
            "exitStatus": run.exit_status,
            "counts": counts(run),
        },
        "profiles": [asdict(row) for row in profile_rows(run)],
        "aq1": {"question": AQ1_QUESTION, **asdict(aq1_answer(run))},
        "robustness": {
            "note": ROBUSTNESS_NOTE,
            **asdict(robustness_row(run)),
            "rows": [
                {
                    "id": c.scenario.id,
                    "input": c.scenario.title,
                    "expected": c.expected,
                    "actual": c.actual,
                    "status": c.status,
                }
                for c in robustness_cases(run)
            ],
        },
        "performance": [asdict(row) for row in performance(run)],
        "performanceByAction": [asdict(row) for row in performance_by_action(run)],
        "cases": [_case_data(case, frames=frames) for case in run.cases],
    }


def _case_data(case: CaseResult, *, frames: bool) -> dict[str, Any]:
    scenario = case.scenario
    data: dict[str, Any] = {
        "id": scenario.id,
        "title": scenario.title,
        "profile": scenario.profile,
        "section": scenario.section,
        "kind": scenario.kind,
        "status": case.status,
        "reason": case.reason,
        "seconds": round(case.seconds, 6),
        "deviation": case.deviation,
        "warnings": case.warnings,
        "expected": case.expected,
        "actual": case.actual,
        "steps": [
            {
                "index": step.index,
                "phase": step.phase,
                "description": step.description,
                "status": step.status,
                "reason": step.reason,
                "detail": step.detail,
                "warnings": step.warnings,
                "started": round(step.started, 6),
                "seconds": round(step.seconds, 6),
            }
            for step in case.steps
        ],
        "timings": [asdict(t) for t in case.timings],
    }
    if frames:
        data["frames"] = [asdict(f) for f in case.frames]
    return data


def render_json(run: RunResult) -> str:
    return json.dumps(report_data(run), indent=2, ensure_ascii=False, default=str) + "\n"


# --------------------------------------------------------------------------------------------- Markdown


def _md(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in rows]
    return lines


def render_markdown(run: RunResult) -> str:
    aq1 = aq1_answer(run)
    lines = ["# Abstract of the Test Report", "", f"OCPP 1.6-J Central System — {_md(run.tool)}", ""]
    lines += _table(
        ["", ""],
        [
            ("System under test", run.target),
            ("Charge point id", run.config.charger_id),
            ("Operator adapter", run.operator),
            ("Started", run.started_at),
            ("Duration", f"{run.seconds:.2f} s"),
            ("Result", "PASS" if run.ok else "FAIL"),
        ],
    )
    lines += ["", "## Certification profiles", ""]
    lines += _table(
        ["Profile", "Result", "Passed", "Failed", "Known deviations", "Cases run / OCTT cases"],
        [
            (r.name, r.verdict, r.passed, r.failed, r.deviations, f"{r.run} / {r.oca_cases}")
            for r in profile_rows(run)
        ],
    )
    lines += ["", "## Additional questions", ""]
    lines += _table(["Question", "", "Answer", "Based on"], [("AQ-1", AQ1_QUESTION, aq1.answer, aq1.detail)])
    if robustness_cases(run):
        rob = robustness_row(run)
        lines += ["", "## Robustness (not an OCA certification profile)", "", ROBUSTNESS_NOTE, ""]
        lines += _table(
            ["Profile", "Result", "Passed", "Failed", "Known deviations", "Rows run"],
            [(rob.name, rob.verdict, rob.passed, rob.failed, rob.deviations, rob.run)],
        )
        lines.append("")
        lines += _table(
            ["Row", "Input", "Expected", "Actual", "Result"],
            [
                (c.scenario.id, c.scenario.title, c.expected, c.actual, STATUS_WORDS[c.status])
                for c in robustness_cases(run)
            ],
        )
    lines += ["", "## Performance Measurement Result", ""]
    lines += _table(
        ["Parameter", "Samples", "Min (s)", "Max (s)", "Average (s)"],
        [
            (s.label, s.samples, _seconds(s.minimum), _seconds(s.maximum), _seconds(s.average))
            for s in performance(run)
        ],
    )
    lines += [
        "",
        'Measured by the simulated charge point from "CALL sent" to "answer received"; informational.',
        "",
        "## Test cases",
        "",
    ]
    lines += _table(
        ["Case", "Title", "Profile", "Result", "Time (s)", "Remark"],
        [
            (
                c.scenario.id,
                c.scenario.title,
                c.scenario.profile,
                STATUS_WORDS[c.status],
                f"{c.seconds:.2f}",
                _remark(c),
            )
            for c in run.cases
        ],
    )
    notable = [c for c in run.cases if c.status != "pass" or c.warnings]
    if notable:
        lines += ["", "## Details", ""]
        for case in notable:
            lines += [
                f"### {_md(case.scenario.id)} {_md(case.scenario.title)} — {STATUS_WORDS[case.status]}",
                "",
            ]
            if case.deviation:
                lines += [f"Known deviation: {_md(case.deviation)}", ""]
            for warning in case.warnings:
                lines.append(f"- warning: {_md(warning)}")
            if case.warnings:
                lines.append("")
            lines += _table(
                ["#", "Phase", "Step", "Result", "Reason / detail"],
                [(s.index, s.phase, s.description, s.status, s.reason or s.detail) for s in case.steps],
            )
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _remark(case: CaseResult) -> str:
    parts = []
    if case.scenario.kind == "reconstructed":
        parts.append("reconstructed, not OCA text")
    if case.deviation:
        parts.append(f"known deviation: {case.deviation}")
    if case.status in ("fail", "error") or (case.status == "deviation" and case.reason):
        parts.append(case.reason)
    if case.warnings:
        parts.append(f"{len(case.warnings)} warning(s)")
    return "; ".join(parts)


# ------------------------------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:78rem;
padding:0 1rem;color:#1d2329;line-height:1.4}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:2px solid #d7dde3;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.92rem}
th,td{border:1px solid #d7dde3;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f4;white-space:nowrap}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
table.summary{width:auto;min-width:50%}table.summary th{font-weight:600;padding-right:2rem}
.pass{color:#11692b;font-weight:600}.fail,.error{color:#b3261e;font-weight:600}
.deviation,.unexpected_pass,.incomplete{color:#8a5a00;font-weight:600}.notrun{color:#6b7580}
details{margin:.3rem 0}summary{cursor:pointer}pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;
font-size:.8rem;white-space:pre-wrap;word-break:break-all}.muted{color:#6b7580}
details.case[open]{margin:.6rem 0}.case-body{border-left:3px solid #d7dde3;margin:.2rem 0 0 .3rem;
padding:.1rem 0 .1rem .8rem}td.key{white-space:nowrap}
details.frames>summary{font-size:.85rem;color:#6b7580}td>a{white-space:nowrap}
"""


def _h(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _html_table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Iterable[int] = ()) -> str:
    """A table; ``headers`` are plain text (``numeric``: indexes of right-aligned columns), ``rows`` hold
    rendered cells (:func:`_td`)."""
    right = set(numeric)
    head = "".join(
        f'<th class="num">{_h(h)}</th>' if index in right else f"<th>{_h(h)}</th>"
        for index, h in enumerate(headers)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{_html_rows(rows)}</tbody></table>"


def _html_rows(rows: Iterable[Sequence[str]]) -> str:
    return "".join("<tr>" + "".join(row) + "</tr>" for row in rows)


def _summary_table(rows: Iterable[tuple[str, str]]) -> str:
    """The header block: one row per fact, the label as a row header (no empty column headers)."""
    body = _html_rows((f'<th scope="row">{_h(label)}</th>', cell) for label, cell in rows)
    return f'<table class="summary"><tbody>{body}</tbody></table>'


def _td(text: Any, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{_h(text)}</td>"


def _aq1_table(aq1: Aq1Answer) -> str:
    """The AQ-1 table; its "Question" header spans the id and the text."""
    head = '<th colspan="2">Question</th><th>Answer</th><th>Based on</th>'
    row = (
        _td("AQ-1", "key"),
        _td(AQ1_QUESTION),
        _td(aq1.answer, {"Yes": "pass", "No": "fail"}.get(aq1.answer, "notrun")),
        _td(aq1.detail),
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{_html_rows([row])}</tbody></table>"


def _verdict_class(verdict: str) -> str:
    return {"Pass": "pass", "Fail": "fail", "Incomplete": "incomplete", "Not run": "notrun"}.get(verdict, "")


def render_html(run: RunResult) -> str:
    aq1 = aq1_answer(run)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Abstract of the Test Report — {_h(run.target)}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Abstract of the Test Report</h1>",
        f'<p class="muted">OCPP 1.6-J Central System — {_h(run.tool)}</p>',
        _summary_table(
            [
                ("System under test", _td(run.target)),
                ("Charge point id", _td(run.config.charger_id)),
                ("Operator adapter", _td(run.operator)),
                ("Started", _td(run.started_at)),
                ("Duration", _td(f"{run.seconds:.2f} s")),
                ("Result", _td("PASS" if run.ok else "FAIL", "pass" if run.ok else "fail")),
            ]
        ),
        "<h2>Certification profiles</h2>",
        _html_table(
            ["Profile", "Result", "Passed", "Failed", "Known deviations", "Cases run / OCTT cases"],
            [
                (
                    _td(r.name),
                    _td(r.verdict, _verdict_class(r.verdict)),
                    _td(r.passed, "num"),
                    _td(r.failed, "num"),
                    _td(r.deviations, "num"),
                    _td(f"{r.run} / {r.oca_cases}", "num"),
                )
                for r in profile_rows(run)
            ],
            numeric=(2, 3, 4, 5),
        ),
        "<h2>Additional questions</h2>",
        _aq1_table(aq1),
        _robustness_html(run),
        "<h2>Performance Measurement Result</h2>",
        _html_table(
            ["Parameter", "Samples", "Min (s)", "Max (s)", "Average (s)"],
            [
                (
                    _td(s.label),
                    _td(s.samples, "num"),
                    _td(_seconds(s.minimum), "num"),
                    _td(_seconds(s.maximum), "num"),
                    _td(_seconds(s.average), "num"),
                )
                for s in performance(run)
            ],
            numeric=(1, 2, 3, 4),
        ),
        '<p class="muted">Measured by the simulated charge point from "CALL sent" to "answer received"; '
        "informational.</p>",
        "<details><summary>Response times per action</summary>",
        _html_table(
            ["Action", "Samples", "Min (s)", "Max (s)", "Average (s)"],
            [
                (
                    _td(s.label),
                    _td(s.samples, "num"),
                    _td(_seconds(s.minimum), "num"),
                    _td(_seconds(s.maximum), "num"),
                    _td(_seconds(s.average), "num"),
                )
                for s in performance_by_action(run)
            ],
            numeric=(1, 2, 3, 4),
        ),
        "</details>",
        "<h2>Test cases</h2>",
        _html_table(
            ["Case", "Title", "Profile", "Result", "Time (s)", "Remark"],
            [
                (
                    f'<td><a href="#{_h(c.scenario.id)}">{_h(c.scenario.id)}</a></td>',
                    _td(c.scenario.title),
                    _td(c.scenario.profile),
                    _td(STATUS_WORDS[c.status], c.status),
                    _td(f"{c.seconds:.2f}", "num"),
                    _td(_remark(c)),
                )
                for c in run.cases
            ],
            numeric=(4,),
        ),
        "<h2>Case details</h2>",
    ]
    for case in run.cases:
        parts.append(_html_case(case))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _robustness_html(run: RunResult) -> str:
    """The Robustness section; empty when no robustness row ran (reports of OCA runs are unchanged)."""
    cases = robustness_cases(run)
    if not cases:
        return ""
    rob = robustness_row(run)
    summary = _html_table(
        ["Profile", "Result", "Passed", "Failed", "Known deviations", "Rows run"],
        [
            (
                _td(rob.name),
                _td(rob.verdict, _verdict_class(rob.verdict)),
                _td(rob.passed, "num"),
                _td(rob.failed, "num"),
                _td(rob.deviations, "num"),
                _td(rob.run, "num"),
            )
        ],
    )
    rows = _html_table(
        ["Row", "Input", "Expected", "Actual", "Result"],
        [
            (
                f'<td><a href="#{_h(c.scenario.id)}">{_h(c.scenario.id)}</a></td>',
                _td(c.scenario.title),
                _td(c.expected),
                _td(c.actual),
                _td(STATUS_WORDS[c.status], c.status),
            )
            for c in cases
        ],
    )
    heading = "<h2>Robustness (not an OCA certification profile)</h2>"
    return f'{heading}<p class="muted">{_h(ROBUSTNESS_NOTE)}</p>{summary}{rows}'


def _html_case(case: CaseResult) -> str:
    scenario = case.scenario
    opened = " open" if case.status in ("fail", "error") else ""
    head = (
        f'<details class="case" id="{_h(scenario.id)}"{opened}><summary><span class="{case.status}">'
        f"{_h(STATUS_WORDS[case.status])}</span> {_h(scenario.id)} {_h(scenario.title)} "
        f'<span class="muted">({_h(scenario.profile)}, §{_h(scenario.section)}, {case.seconds:.2f} s)</span>'
        "</summary>"
    )
    body = []
    if case.deviation:
        body.append(f"<p>Known deviation: {_h(case.deviation)}</p>")
    if case.warnings:
        body.append("<ul>" + "".join(f"<li>warning: {_h(w)}</li>" for w in case.warnings) + "</ul>")
    body.append(
        _html_table(
            ["#", "Phase", "Step", "Result", "Reason / detail", "At (s)"],
            [
                (
                    _td(s.index, "num"),
                    _td(s.phase),
                    _td(s.description),
                    _td(s.status, s.status),
                    _td(s.reason or s.detail),
                    _td(f"{s.started:.3f}", "num"),
                )
                for s in case.steps
            ],
            numeric=(0, 5),
        )
    )
    if case.frames:
        log = "\n".join(f"{f.at:12.3f} {'→' if f.direction == 'sent' else '←'} {f.text}" for f in case.frames)
        body.append(
            f'<details class="frames"><summary>Frames ({len(case.frames)})</summary>'
            f"<pre>{_h(log)}</pre></details>"
        )
    return head + '<div class="case-body">' + "".join(body) + "</div></details>"


# ------------------------------------------------------------------------------------------------ JUnit


def render_junit(run: RunResult) -> str:
    """JUnit XML: one testsuite per profile, one testcase per case. A known deviation is ``skipped``. The
    Robustness suite is named "Robustness (not an OCA certification profile)"; its cases carry the
    expected and the actual reaction in ``system-out``."""
    root = ET.Element("testsuites", name="ocpp-trio conformance")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    profiles: dict[str, list[CaseResult]] = {}
    for case in run.cases:
        profiles.setdefault(case.scenario.profile, []).append(case)
    for profile, cases in profiles.items():
        suite_name = (
            f"{profile} (not an OCA certification profile)" if profile == ROBUSTNESS.name else profile
        )
        suite = ET.SubElement(
            root, "testsuite", name=suite_name, timestamp=run.started_at, hostname=run.target
        )
        failures = errors = skipped = 0
        for case in cases:
            element = ET.SubElement(
                suite,
                "testcase",
                classname=f"conformance.{case.scenario.profile_key}",
                name=f"{case.scenario.id} {case.scenario.title}",
                time=f"{case.seconds:.3f}",
            )
            steps_text = "\n".join(
                f"{s.index:3d} [{s.status}] ({s.phase}) {s.description}"
                + (f" — {s.reason}" if s.reason else "")
                for s in case.steps
            )
            if case.status == "fail":
                failures += 1
                ET.SubElement(
                    element, "failure", message=case.reason, type="ConformanceFailure"
                ).text = steps_text
            elif case.status == "error":
                errors += 1
                ET.SubElement(element, "error", message=case.reason, type="SuiteError").text = steps_text
            elif case.status == "deviation":
                skipped += 1
                ET.SubElement(element, "skipped", message=f"known deviation: {case.deviation}: {case.reason}")
            out = steps_text
            if case.expected:
                out = f"expected: {case.expected}\nactual: {case.actual}\n" + out
            if case.status == "unexpected_pass":
                out = f"listed as a known deviation ({case.deviation}) but passed\n" + out
            if case.warnings:
                out += "\n" + "\n".join(f"warning: {w}" for w in case.warnings)
            ET.SubElement(element, "system-out").text = out
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", str(skipped))
        suite.set("time", f"{sum(c.seconds for c in cases):.3f}")
        totals["tests"] += len(cases)
        totals["failures"] += failures
        totals["errors"] += errors
        totals["skipped"] += skipped
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{run.seconds:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ------------------------------------------------------------------------------------------------ files


def write_reports(run: RunResult, directory: Path) -> list[Path]:
    """Write report.md, report.html, report.json and junit.xml into ``directory`` (created)."""
    directory.mkdir(parents=True, exist_ok=True)
    outputs = {
        "report.md": render_markdown(run),
        "report.html": render_html(run),
        "report.json": render_json(run),
        "junit.xml": render_junit(run),
    }
    written = []
    for name, text in outputs.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def write_junit(run: RunResult, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_junit(run), encoding="utf-8")
    return path
