"""ocpp-trio and a peer central system on the ``ocpp`` package, measured by the same load generator in one
run, and the ratios against the performance targets.

    .venv/bin/python benchmarks/side_by_side.py [--quick] [--runs session-1k,heartbeat-1k] [--json FILE]

For every run (a scenario and a charger count) each system is started fresh, one after the other, on
127.0.0.1: ``ocpp-trio serve`` with its SQLite store on disk in a temporary folder (accepting unknown
idTags, as the peer does), and ``benchmarks/peer_csms.py`` in its own virtualenv
(``benchmarks/.peer-venv``, created here with ``ocpp`` and ``websockets`` from PyPI on first use). The
generator (``ocpp-trio bench``, :mod:`conformance.bench`) runs in worker processes and reports its own
CPU use next to the server's, so a saturated generator is visible. Both result tables are printed, then
a comparison and the targets (met / not met). Every server is stopped by its PID at the end.

``--quick`` divides charger counts by 10 and shortens the windows: a check that the harness works, not
a measurement. ``--strict`` exits 1 when a target is not met (the default only reports).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from conformance.bench.host import describe_host, host_line  # noqa: E402
from conformance.bench.loadgen import BenchConfig, BenchError, run_bench  # noqa: E402
from conformance.bench.report import format_comparison, format_table  # noqa: E402

PEER_VENV = HERE / ".peer-venv"
#: pinned so two runs months apart compare the same peer; override with $PEER_PACKAGES
PEER_PACKAGES = os.environ.get("PEER_PACKAGES", "ocpp==2.1.0 websockets==17.4").split()
OCPP_TRIO_CONFIG = "[policy]\naccept_unknown_id_tags = true\n"
SYSTEMS = ("ocpp-trio", "peer")


@dataclass(frozen=True)
class Run:
    label: str
    scenario: str
    chargers: int
    duration: float
    ramp: float = 500.0
    rate: float = 1.0
    mix: str = "session"
    note: str = ""


RUNS = (
    Run("idle-1k", "idle", 1000, 10, note="server RSS per idle charger"),
    Run("heartbeat-1k", "heartbeat", 1000, 20),
    Run("session-1k", "session", 1000, 20),
    Run("steady-1k", "steady", 1000, 20, rate=1.0, mix="session"),
    Run("steady-1k-low", "steady", 1000, 20, rate=0.25, mix="session", note="latency floor, unsaturated"),
    Run("storm-1k", "storm", 1000, 60),
    Run("storm-5k", "storm", 5000, 60),
    Run(
        "steady-10k", "steady", 10000, 20, ramp=1000, rate=0.1, mix="heartbeat", note="10,000 on one process"
    ),
)


@dataclass
class Outcome:
    run: Run
    reports: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------ the servers


def peer_versions(python: Path) -> str | None:
    """The peer's installed versions, e.g. ``ocpp 2.1.0 + websockets 17.4``."""
    code = "import importlib.metadata as m; print(m.version('ocpp'), m.version('websockets'))"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0 or len(done.stdout.split()) != 2:
        return None
    ocpp, websockets = done.stdout.split()
    return f"ocpp {ocpp} + websockets {websockets}"


def ensure_peer_venv() -> Path:
    python = PEER_VENV / "bin" / "python"
    check = [str(python), "-c", "import ocpp, websockets"]
    if python.exists() and subprocess.run(check, capture_output=True, check=False).returncode == 0:
        return python
    say(f"creating {PEER_VENV} with {' '.join(PEER_PACKAGES)} …")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEER_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PEER_PACKAGES],
        check=True,
    )
    return python


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def server(system: str, folder: Path, peer_python: Path | None) -> Iterator[tuple[str, int]]:
    """Start one system on a free loopback port; yield (URL, PID); stop it by its PID."""
    port = free_port()
    log = (folder / f"{system}.log").open("w")
    if system == "ocpp-trio":
        config = folder / "bench.toml"
        config.write_text(OCPP_TRIO_CONFIG)
        command = [
            sys.executable,
            "-m",
            "engine.cli",
            "serve",
            "--port",
            str(port),
            "--no-api",
            "--db",
            str(folder / "bench.sqlite"),
            "--config",
            str(config),
            "--log-level",
            "WARNING",
        ]
    else:
        assert peer_python is not None
        command = [str(peer_python), str(HERE / "peer_csms.py"), "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # both print a line once they listen
        if not first:
            raise BenchError(f"{system} did not start; see its log:\n{_tail(folder / f'{system}.log')}")
        _wait_listening(port)
        yield f"ws://127.0.0.1:{port}/ocpp", process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
        log.close()


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------------------------- the runs


def run_one(run: Run, system: str, workers: int, peer_python: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{system}-") as name:
        folder = Path(name)
        with server(system, folder, peer_python) as (url, pid):
            config = BenchConfig(
                csms=url,
                scenario=run.scenario,
                chargers=run.chargers,
                duration=run.duration,
                ramp=run.ramp,
                workers=workers,
                rate=run.rate,
                mix=run.mix,
                server_pid=pid,
            )
            report = run_bench(config, lambda text: say(f"  [{system}] {text}"))
            if system == "ocpp-trio":
                log = _tail(folder / "ocpp-trio.log", 5)
                if log.strip():
                    report["server_log_tail"] = log
            return report


def frame_path_figures() -> dict[str, float] | None:
    """The in-process MeterValues figures (benchmarks/frame_path_check.py), when ocpp-trio is importable."""
    try:
        sys.path.insert(0, str(HERE))
        from frame_path_check import measure  # type: ignore[import-not-found]
    except ImportError:
        return None
    figures: dict[str, float] = measure(runs=5000, repeats=3)
    return figures


# ------------------------------------------------------------------------------------------ the targets


Target = tuple[str, str, bool | None]


def targets(outcomes: dict[str, Outcome], frame: dict[str, float] | None) -> list[Target]:
    """(target, measured, met) for each target of the performance issue; met None: not measured."""

    def get(label: str, system: str, *path: str) -> Any:
        outcome = outcomes.get(label)
        value: Any = outcome.reports.get(system) if outcome else None
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    rows: list[Target] = []

    def ratio_row(target: str, label: str, minimum: float) -> None:
        ours, theirs = get(label, "ocpp-trio", "msgs_per_s"), get(label, "peer", "msgs_per_s")
        if not ours or not theirs:
            rows.append((target, f"ocpp-trio {ours}, peer {theirs}", None))
            return
        ratio = ours / theirs
        rows.append((target, f"{ratio:.2f}x (ocpp-trio {ours:g}, peer {theirs:g} msgs/s)", ratio >= minimum))

    ratio_row("session 1k: msgs/s >= 5x peer", "session-1k", 5.0)
    ratio_row("heartbeat 1k: msgs/s >= 1.5x peer", "heartbeat-1k", 1.5)

    p99 = get("steady-1k", "ocpp-trio", "latency_ms", "p99")
    peer_p99 = get("steady-1k", "peer", "latency_ms", "p99")
    target = "steady 1k @1/s: p99 <= 10 ms"
    rows.append((target, "not measured", None) if p99 is None else (target, f"{p99:g} ms", p99 <= 10))
    target = "steady 1k @1/s: p99 <= peer p99 / 5"
    if p99 is None or peer_p99 is None or not p99:
        rows.append((target, "not measured", None))
    else:
        measured = f"{p99:g} ms vs peer {peer_p99:g} ms ({peer_p99 / p99:.2f}x)"
        rows.append((target, measured, p99 * 5 <= peer_p99))

    per = get("idle-1k", "ocpp-trio", "server", "rss_per_charger_kib")
    target = "idle 1k: <= 16 KiB RSS per charger"
    rows.append((target, "not measured", None) if per is None else (target, f"{per:g} KiB", per <= 16))

    target = "10k on one process, heartbeat p99 < 50 ms"
    established = get("steady-10k", "ocpp-trio", "connections", "established")
    p99_10k = get("steady-10k", "ocpp-trio", "latency_ms", "p99")
    failures = get("steady-10k", "ocpp-trio", "failures")
    if established is None:
        rows.append((target, "not measured", None))
    else:
        met = established == 10000 and p99_10k is not None and p99_10k < 50 and not failures
        rows.append((target, f"{established} connected, p99 {p99_10k} ms, failures {failures}", met))

    target = "storm 5k: all Accepted in <= half peer's time"
    ours_storm, theirs_storm = get("storm-5k", "ocpp-trio", "storm"), get("storm-5k", "peer", "storm")
    if not ours_storm or not theirs_storm:
        rows.append((target, "not measured", None))
    else:
        ours_t = ours_storm["time_to_last_accepted_s"]
        theirs_t = theirs_storm["time_to_last_accepted_s"]
        met = bool(ours_storm["all_accepted"] and ours_t and theirs_t and ours_t * 2 <= theirs_t)
        measured = (
            f"ocpp-trio {ours_storm['accepted']} Accepted, last after {ours_t} s; "
            f"peer {theirs_storm['accepted']}, last after {theirs_t} s"
        )
        rows.append((target, measured, met))

    target = "MeterValues validation median < 10 us"
    if frame is None:
        rows.append((target, "not measured", None))
    else:
        measured = f"validation {frame['validate_median_us']:.1f} us (frame path {frame['median_us']:.1f} us)"
        rows.append((target, measured, frame["validate_median_us"] < 10))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", help=f"comma-separated, from {', '.join(r.label for r in RUNS)} (default all)"
    )
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="ocpp-trio,peer (default both)")
    parser.add_argument("--workers", type=int, default=2, help="generator processes (default 2)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the chargers, short windows")
    parser.add_argument("--json", type=Path, help="write every report and the targets here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    args = parser.parse_args()

    selected = list(RUNS)
    if args.runs:
        wanted = args.runs.split(",")
        unknown = set(wanted) - {r.label for r in RUNS}
        if unknown:
            parser.error(f"unknown runs: {', '.join(sorted(unknown))}")
        selected = [r for r in RUNS if r.label in wanted]
    systems = [s for s in args.systems.split(",") if s]
    if set(systems) - set(SYSTEMS):
        parser.error("--systems takes ocpp-trio and/or peer")
    if args.quick:
        selected = [
            replace(r, chargers=max(20, r.chargers // 10), duration=min(r.duration, 5.0)) for r in selected
        ]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = max(r.chargers for r in selected) + 512
    if soft != resource.RLIM_INFINITY and soft < needed:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft < needed:
            say(f"warning: open files limit {soft} < {needed}; the largest runs may fail to connect")
    peer_python = ensure_peer_venv() if "peer" in systems else None
    host = describe_host(ROOT)
    peer = peer_versions(peer_python) if peer_python is not None else None
    print(f"host: {host_line(host)}" + (f"; peer: {peer}" if peer else ""), flush=True)

    outcomes: dict[str, Outcome] = {}
    for run in selected:
        outcome = outcomes[run.label] = Outcome(run)
        for system in systems:
            say(f"{run.label} against {system} …")
            try:
                report = run_one(run, system, args.workers, peer_python)
            except (BenchError, OSError, subprocess.SubprocessError) as exc:
                outcome.reports[system] = None
                outcome.problems[system] = str(exc)
                say(f"  {run.label} against {system} could not be run: {exc}")
                continue
            outcome.reports[system] = report
            print(format_table(report, f"{run.label} — {system}"), flush=True)
            print(flush=True)

    frame = frame_path_figures() if "ocpp-trio" in systems else None
    print("Comparison (ratio > 1: ocpp-trio better)")
    rows = [(label, o.reports.get("ocpp-trio"), o.reports.get("peer")) for label, o in outcomes.items()]
    print(format_comparison(rows))
    print()
    print("Targets" + (" (--quick: sizes are a tenth of the targets'; not a verdict)" if args.quick else ""))
    results = targets(outcomes, frame)
    if args.quick:
        results = [(target, measured, None) for target, measured, _met in results]
    width = max(len(t) for t, _, _ in results)
    for target, measured, met in results:
        verdict = "not measured" if met is None else "met" if met else "NOT MET"
        print(f"  {target:<{width}}  {verdict:<12}  {measured}")
    for label, outcome in outcomes.items():
        for system, problem in outcome.problems.items():
            print(f"  {label} against {system} could not be run: {problem}")
    if args.json is not None:
        document = {
            "runs": {label: {"reports": o.reports, "problems": o.problems} for label, o in outcomes.items()},
            "frame_path": frame,
            "targets": [{"target": t, "measured": m, "met": met} for t, m, met in results],
            "generator": {"workers": args.workers, "quick": args.quick},
            "host": host,
            "peer": peer,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    broken = any(o.problems for o in outcomes.values())
    if broken:
        return 2
    if args.strict and any(met is False for _, _, met in results):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
