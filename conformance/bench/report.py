"""The bench report: the workers' samples merged into one JSON-ready dict, and its text table.

``msgs_per_s`` counts charger CALLs answered (CALLRESULT or CALLERROR) per second of the measured window,
i.e. request/response pairs; latencies are in milliseconds, nearest-rank percentiles over every CALL
sent inside the window. ``server.cpu_percent`` is percent of one core (a single-threaded server tops out
near 100); ``generator.cpu_percent`` likewise, summed over the worker processes.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: a worker above this share of one core is the bottleneck: the figures then measure the generator
SATURATED_PERCENT = 90.0


def percentiles(values: Iterable[float]) -> dict[str, float | int | None]:
    ordered = sorted(values)
    count = len(ordered)
    if not count:
        return {"count": 0, "p50": None, "p90": None, "p99": None, "max": None}

    def rank(q: float) -> float:
        return ordered[min(count - 1, max(0, math.ceil(q * count) - 1))]

    return {
        "count": count,
        "p50": round(rank(0.50), 3),
        "p90": round(rank(0.90), 3),
        "p99": round(rank(0.99), 3),
        "max": round(ordered[-1], 3),
    }


def _merge_counts(parts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for part in parts:
        total.update(part)
    return dict(sorted(total.items()))


def build_report(
    *,
    config: dict[str, Any],
    ready: Mapping[int, dict[str, Any]],
    done: Mapping[int, dict[str, Any]],
    closed: Mapping[int, dict[str, Any]],
    start: float,
    window: float,
    ramp_seconds: float,
    server: Mapping[str, Any],
    machine: tuple[float, float],
) -> dict[str, Any]:
    results = [done[number]["results"] for number in sorted(done)]
    chargers = int(config["chargers"])
    connect = [ms for part in results for ms in part["connect_ms"]]
    connect_errors = _merge_counts(part["connect_errors"] for part in results)
    boot_status = _merge_counts(part["boot_status"] for part in results)
    drops = sum(int(message["drops"]) for message in closed.values())
    latency: dict[str, list[float]] = {}
    for part in results:
        for action, samples in part["latency_ms"].items():
            latency.setdefault(action, []).extend(samples)
    errors = _merge_counts(part["errors"] for part in results)
    timeouts = _merge_counts(part["timeouts"] for part in results)
    actions: dict[str, Any] = {}
    for action in sorted(latency):
        entry: dict[str, Any] = percentiles(latency[action])
        entry["errors"] = sum(n for key, n in errors.items() if key.split(" ", 1)[0] == action)
        entry["timeouts"] = timeouts.get(action, 0)
        actions[action] = entry
    for action, count in timeouts.items():  # an action that only ever timed out
        actions.setdefault(action, {**percentiles([]), "errors": 0, "timeouts": count})
    every = percentiles(ms for samples in latency.values() for ms in samples)
    calls = int(every["count"] or 0)
    callerrors = sum(errors.values())
    timeout_count = sum(timeouts.values())
    not_accepted = sum(n for status, n in boot_status.items() if status != "Accepted")

    report: dict[str, Any] = {
        "scenario": config["scenario"],
        "csms": config["csms"],
        "config": config,
        "window_s": round(window, 3),
        "ramp_s": round(ramp_seconds, 3),
        "connections": {
            "attempted": chargers,
            "established": len(connect),
            "failed": sum(connect_errors.values()),
            "failed_by": connect_errors,
            "dropped": drops,
            "dropped_by": _merge_counts(message["drop_reasons"] for message in closed.values()),
            "closed_cleanly": sum(int(message["clean_closes"]) for message in closed.values()),
        },
        "connect_ms": percentiles(connect),
        "boot": {
            "status": boot_status,
            "latency_ms": percentiles(ms for part in results for ms in part["boot_ms"]),
        },
        "msgs_per_s": round(calls / window, 1) if window > 0 else 0.0,
        "calls": calls,
        "callerrors": callerrors,
        "callerrors_by": errors,
        "timeouts": timeout_count,
        "latency_ms": every,
        "actions": actions,
        "server_calls": sum(int(part["server_calls"]) for part in results),
        "unexpected_frames": sum(int(part["unexpected"]) for part in results),
        "late_sends": sum(int(part["late"]) for part in results),
    }
    if config["scenario"] == "steady":
        # How late the generator itself woke for scheduled sends: not in the latency figures, shown so
        # that an overloaded generator is visible.
        report["wake_slack_ms"] = percentiles(ms for part in results for ms in part.get("wake_slack_ms", ()))
    if config["scenario"] == "storm":
        accepted_at = sorted(t for part in results for t in part["accepted_at"])
        accepted = len(accepted_at)
        report["storm"] = {
            "accepted": accepted,
            "all_accepted": accepted == chargers,
            "time_to_last_accepted_s": round(accepted_at[-1] - start, 3) if accepted_at else None,
            "time_to_half_accepted_s": (
                round(accepted_at[(accepted - 1) // 2] - start, 3) if accepted_at else None
            ),
            "failures": chargers - accepted,
        }
    report["server"] = _server_part(server, window, len(connect))
    if report["server"] is not None and "cpu_percent" in report["server"] and calls:
        # CPU per answered CALL: less sensitive than msgs/s to other processes taking the CPUs
        cpu_seconds = report["server"]["cpu_percent"] / 100 * window
        report["server"]["cpu_us_per_msg"] = round(1e6 * cpu_seconds / calls, 1)
    cpu_window = [float(done[number]["cpu_window"]) for number in sorted(done)]
    worker_percent = [round(100 * cpu / window, 1) if window > 0 else 0.0 for cpu in cpu_window]
    report["generator"] = {
        "workers": len(done),
        "cpu_percent": round(sum(worker_percent), 1),
        "cpu_percent_per_worker": worker_percent,
        "saturated": any(p >= SATURATED_PERCENT for p in worker_percent),
        "cpu_seconds_total": round(sum(float(m["cpu_total"]) for m in closed.values()), 2),
    }
    busy, total = machine
    report["machine"] = {
        "cpus": os.cpu_count(),
        "busy_percent": round(100 * busy / total, 1) if total > 0 else None,
    }
    server_cpu = (report["server"] or {}).get("cpu_percent")
    if server_cpu is not None and window > 0:
        # what neither the server nor the generator used: other processes competing for the CPUs
        report["machine"]["other_percent"] = round(
            max(0.0, 100 * busy / window - server_cpu - report["generator"]["cpu_percent"]), 1
        )
    report["failures"] = report["connections"]["failed"] + drops + callerrors + timeout_count + not_accepted
    return report


def _server_part(server: Mapping[str, Any], window: float, established: int) -> dict[str, Any] | None:
    before, start, end = server.get("before"), server.get("start"), server.get("end")
    if end is None:
        return None
    part: dict[str, Any] = {
        "rss_kib": end.rss_kib,
        "rss_peak_kib": end.hwm_kib,
        "threads": end.threads,
    }
    if start is not None and window > 0:
        part["cpu_percent"] = round(100 * (end.cpu - start.cpu) / window, 1)
    if before is not None:
        part["rss_before_kib"] = before.rss_kib
        if established:
            part["rss_per_charger_kib"] = round((end.rss_kib - before.rss_kib) / established, 2)
    return part


# ============================================================================================ the table


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _mib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.1f} MiB"


def format_table(report: Mapping[str, Any], title: str | None = None) -> str:
    config = report["config"]
    conn = report["connections"]
    lines = []
    heading = title or f"{report['scenario']} against {report['csms']}"
    lines.append(heading)
    lines.append("-" * len(heading))
    detail = f"{config['chargers']} chargers, {report['generator']['workers']} workers"
    if report["scenario"] == "steady":
        detail += f", {config['rate']:g} CALL/s each ({config['mix']})"
    if report["scenario"] != "storm":
        detail += f", ramp {report['ramp_s']:.1f} s"
    lines.append(f"{detail}, window {report['window_s']:.1f} s")
    connect = report["connect_ms"]
    lines.append(
        f"connections  established {conn['established']}/{conn['attempted']}  failed {conn['failed']}"
        f"  dropped {conn['dropped']}  closed cleanly {conn['closed_cleanly']}"
        f"   connect ms p50 {_ms(connect['p50'])} p99 {_ms(connect['p99'])} max {_ms(connect['max'])}"
    )
    if conn["failed_by"]:
        lines.append(f"             connect failures: {conn['failed_by']}")
    if conn["dropped_by"]:
        lines.append(f"             drops: {conn['dropped_by']}")
    boot = report["boot"]
    lines.append(
        f"boot         {boot['status']}   latency ms p50 {_ms(boot['latency_ms']['p50'])} "
        f"p99 {_ms(boot['latency_ms']['p99'])} max {_ms(boot['latency_ms']['max'])}"
    )
    if "storm" in report:
        storm = report["storm"]
        last = storm["time_to_last_accepted_s"]
        half = storm["time_to_half_accepted_s"]
        lines.append(
            f"storm        {storm['accepted']}/{config['chargers']} Accepted; half after "
            f"{'-' if half is None else f'{half:.2f} s'}, last after "
            f"{'-' if last is None else f'{last:.2f} s'}; failures {storm['failures']}"
        )
    if report["scenario"] not in ("idle", "storm"):
        lines.append(
            f"throughput   {report['msgs_per_s']:.0f} msgs/s (CALLs answered)   CALLERRORs "
            f"{report['callerrors']}   timeouts {report['timeouts']}"
            + (f"   late sends {report['late_sends']}" if report["scenario"] == "steady" else "")
        )
        if "wake_slack_ms" in report:
            slack = report["wake_slack_ms"]
            lines.append(
                f"             generator woke for its sends p50 {_ms(slack['p50'])} p99 {_ms(slack['p99'])} "
                "ms late (its own lag, not counted as latency)"
            )
        if report["callerrors_by"]:
            lines.append(f"             CALLERRORs: {report['callerrors_by']}")
        columns = f"{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'max ms':>10}"
        lines.append(f"  {'action':<20}{'count':>9}{columns}{'errors':>8}")
        rows = [*report["actions"].items(), ("ALL", {**report["latency_ms"], "errors": report["callerrors"]})]
        for action, entry in rows:
            lines.append(
                f"  {action:<20}{entry['count']:>9}{_ms(entry['p50']):>10}{_ms(entry['p90']):>10}"
                f"{_ms(entry['p99']):>10}{_ms(entry['max']):>10}{entry['errors']:>8}"
            )
    server = report["server"]
    if server is not None:
        text = f"server       RSS {_mib(server['rss_kib'])} (peak {_mib(server['rss_peak_kib'])}"
        if "rss_before_kib" in server:
            text += f", before {_mib(server['rss_before_kib'])}"
        text += ")"
        if "rss_per_charger_kib" in server:
            text += f"  {server['rss_per_charger_kib']:.1f} KiB/charger"
        if "cpu_percent" in server:
            text += f"  CPU {server['cpu_percent']:.0f}% of a core"
        if "cpu_us_per_msg" in server:
            text += f", {server['cpu_us_per_msg']:.0f} us per msg"
        lines.append(text)
    generator = report["generator"]
    per = ", ".join(f"{p:.0f}%" for p in generator["cpu_percent_per_worker"])
    machine = report["machine"]
    lines.append(
        f"generator    CPU {generator['cpu_percent']:.0f}% of a core ({per} per worker)"
        + ("  SATURATED: the figures measure the generator" if generator["saturated"] else "")
        + (
            f"   machine {machine['busy_percent']:.0f}% busy of {machine['cpus']} CPUs"
            if machine["busy_percent"] is not None
            else ""
        )
        + (f", other processes {machine['other_percent']:.0f}%" if "other_percent" in machine else "")
    )
    return "\n".join(lines)


def format_comparison(
    rows: Sequence[tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]],
    names: tuple[str, str] = ("ocpp-trio", "peer"),
) -> str:
    """One line per run: the headline figure of each system and their ratio."""
    header = f"{'run':<16}{'figure':<26}{names[0]:>14}{names[1]:>14}{'ratio':>9}"
    lines = [header, "-" * len(header)]
    for label, ours, theirs in rows:
        for number, (figure, ours_value, theirs_value, better) in enumerate(headline(ours, theirs)):
            ratio = ratio_of(ours_value, theirs_value, better)
            lines.append(
                f"{label if number == 0 else '':<16}{figure:<26}{_value(ours_value):>14}"
                f"{_value(theirs_value):>14}{'-' if ratio is None else f'{ratio:.2f}x':>9}"
            )
    return "\n".join(lines)


def headline(
    ours: Mapping[str, Any] | None, theirs: Mapping[str, Any] | None
) -> list[tuple[str, float | None, float | None, str]]:
    """(figure, ours, theirs, 'higher'|'lower' is better) for the kind of run."""
    some = ours or theirs
    if some is None:
        return []
    scenario = some["scenario"]

    def get(report: Mapping[str, Any] | None, *path: str) -> float | None:
        value: Any = report
        for key in path:
            if value is None:
                return None
            value = value.get(key)
        return None if value is None else float(value)

    figures: list[tuple[str, float | None, float | None, str]] = []

    def add(figure: str, better: str, *path: str) -> None:
        figures.append((figure, get(ours, *path), get(theirs, *path), better))

    if scenario in ("heartbeat", "session", "steady"):
        add("msgs/s", "higher", "msgs_per_s")
        add("p50 ms", "lower", "latency_ms", "p50")
        add("p99 ms", "lower", "latency_ms", "p99")
        add("server CPU us/msg", "lower", "server", "cpu_us_per_msg")
    if scenario == "storm":
        add("s to last Accepted", "lower", "storm", "time_to_last_accepted_s")
        add("Accepted", "higher", "storm", "accepted")
        add("connect p99 ms", "lower", "connect_ms", "p99")
    add("KiB/charger", "lower", "server", "rss_per_charger_kib")
    add("server CPU %", "-", "server", "cpu_percent")
    add("generator CPU %", "-", "generator", "cpu_percent")
    add("other processes CPU %", "-", "machine", "other_percent")
    add("failures", "-", "failures")
    return figures


def ratio_of(ours: float | None, theirs: float | None, better: str) -> float | None:
    """How many times better ocpp-trio is (>1: better); None when not comparable."""
    if ours is None or theirs is None or better == "-":
        return None
    if better == "higher":
        return ours / theirs if theirs > 0 else None
    return theirs / ours if ours > 0 else None


def _value(value: float | None) -> str:
    if value is None:
        return "-"
    if value == int(value) and abs(value) >= 100:
        return f"{int(value)}"
    return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
