"""``ocpp-trio bench`` (and ``python -m conformance.bench``).

``add_commands(subparsers)`` adds the ``bench`` command to another argparse program; the parser it adds
sets ``func`` (``args.func(args) -> exit status``), as ``ocpp-trio``'s other commands do.

Exit status: 0 when the run had no failure (every charger connected, none dropped, every boot Accepted,
no CALLERROR, no timeout), 1 when it had some (the report says which), 2 for usage errors or a run that
could not be carried out.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance.bench.scenarios import MIXES, SCENARIOS

EPILOG = """\
scenarios:
  idle       connect + BootNotification at the ramp rate, then stay connected (server RSS per charger)
  heartbeat  one outstanding Heartbeat per charger, back to back (peak messages per second)
  session    StatusNotification, Authorize, StartTransaction, 10 MeterValues, StopTransaction, repeated
  steady     --rate CALLs per second per charger on a fixed schedule (latency under a given load)
  storm      every charger connects and boots at once (time until the last one is Accepted)

examples:
  ocpp-trio bench --csms ws://127.0.0.1:9000/ocpp --scenario session --chargers 1000 --duration 20 \\
      --ramp 500 --workers 2 --server-pid $(pgrep -n -f 'ocpp-trio serve') --json out.json
  ocpp-trio bench --csms ws://127.0.0.1:9000/ocpp --scenario steady --rate 1 --chargers 1000
"""


def add_commands(subparsers: Any) -> None:
    """Add ``bench`` to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "bench",
        help="load and latency benchmark against any CSMS (loopback only)",
        description="Simulate many charge points over websockets against a CSMS on this machine and "
        "report throughput, latency, failures and the server's CPU and memory.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--csms", required=True, metavar="URL", help="ws://127.0.0.1:PORT/PATH (the charger id is appended)"
    )
    parser.add_argument("--scenario", choices=SCENARIOS, default="heartbeat", help="default heartbeat")
    parser.add_argument("--chargers", type=int, default=100, help="simulated chargers (default 100)")
    parser.add_argument(
        "--duration", type=float, default=20.0, help="measured seconds; storm: time limit (default 20)"
    )
    parser.add_argument("--ramp", type=float, default=500.0, help="new connections per second (default 500)")
    parser.add_argument("--workers", type=int, default=2, help="generator processes (default 2)")
    parser.add_argument("--rate", type=float, default=1.0, help="steady: CALLs per second per charger")
    parser.add_argument(
        "--mix", choices=MIXES, default="session", help="steady: what to send (default session)"
    )
    parser.add_argument("--server-pid", type=int, metavar="PID", help="report this process's CPU and RSS")
    parser.add_argument("--id-prefix", default="BENCH", help="charger ids are PREFIX-00000, …")
    parser.add_argument(
        "--response-timeout", type=float, default=30.0, help="seconds to wait for an answer (default 30)"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON here")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.set_defaults(func=command_bench)


def command_bench(args: argparse.Namespace) -> int:
    from conformance.bench.host import host_line
    from conformance.bench.loadgen import BenchConfig, BenchError, run_bench
    from conformance.bench.report import format_table

    try:
        config = BenchConfig(
            csms=args.csms,
            scenario=args.scenario,
            chargers=args.chargers,
            duration=args.duration,
            ramp=args.ramp,
            workers=args.workers,
            rate=args.rate,
            mix=args.mix,
            server_pid=args.server_pid,
            id_prefix=args.id_prefix,
            response_timeout=args.response_timeout,
        )
    except ValueError as exc:
        print(f"ocpp-trio bench: {exc}", file=sys.stderr)
        return 2

    def progress(text: str) -> None:
        if not args.quiet:
            print(f"bench: {text}", file=sys.stderr, flush=True)

    try:
        report = run_bench(config, progress)
    except BenchError as exc:
        print(f"ocpp-trio bench: {exc}", file=sys.stderr)
        return 2
    print(format_table(report))
    print(f"host         {host_line(report['host'])}")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if report["failures"] else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.bench", description="Load and latency benchmark against any CSMS."
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result
