"""``ocpp-trio conformance run|list`` (and ``python -m conformance run|list``).

``add_commands(subparsers)`` adds the ``conformance`` command to another argparse program; every parser
it adds sets ``func`` (``args.func(args) -> exit status``), as ``ocpp-trio``'s other commands do.

Exit status of ``run``: 0 when every selected case passed or is a listed known deviation, 1 otherwise, 2
for usage, configuration or operator adapter problems.
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PASSWORD_ENV = "OCPP_CONFORMANCE_PASSWORD"

EPILOG = """\
operators (how the suite makes the CSMS send its CALLs):
  ocpp-trio            ocpp-trio's HTTP operator API at $OCPP_TRIO_API or http://127.0.0.1:9001
                       (token: --operator-token or $OCPP_TRIO_TOKEN)
  ocpp-trio:URL        the same API at URL
  exec:COMMAND         run COMMAND per action, JSON on stdin/stdout (conformance/examples/operator_example.py)
  prompt               print instructions on stderr for a person to carry out

examples:
  ocpp-trio conformance run --csms ws://127.0.0.1:9000/ocpp --report out/
  ocpp-trio conformance run --csms wss://csms.example.com/ocpp --password-env CP_PW --ca ca.pem \\
      --operator exec:'python3 my_bridge.py' --profiles core,aq1 --junit junit.xml
"""


def add_commands(subparsers: Any) -> None:
    """Add ``conformance`` (with ``run`` and ``list``) to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "conformance",
        help="replay the OCA OCTT CSMS test cases against a Central System",
        description="Replay the OCA OCTT 1.6 CSMS test cases, playing the charge point, against any CSMS.",
    )
    add_subcommands(parser)


def add_subcommands(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="conformance_command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run",
        help="run test cases and write the report",
        description="Run the selected test cases against a CSMS, one fresh connection per case.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--csms", required=True, metavar="URL", help="ws[s]://HOST:PORT/PATH (the charger id is appended)"
    )
    _selection_arguments(run)
    run.add_argument(
        "--operator", default="ocpp-trio", help="ocpp-trio | ocpp-trio:URL | exec:COMMAND | prompt"
    )
    run.add_argument("--operator-token", help="bearer token for the ocpp-trio API (default $OCPP_TRIO_TOKEN)")
    run.add_argument("--charger-id", help="charge point identity (default CP-1, or the run configuration's)")
    run.add_argument(
        "--password", help=f"HTTP Basic auth password (prefer --password-env or ${PASSWORD_ENV})"
    )
    run.add_argument("--password-env", metavar="VAR", help="read the Basic auth password from this variable")
    run.add_argument("--client-cert", type=Path, help="TLS client certificate (PEM), security profile 3")
    run.add_argument("--client-key", type=Path, help="private key of --client-cert (PEM)")
    run.add_argument("--ca", type=Path, help="CA bundle that signs the CSMS's server certificate (PEM)")
    run.add_argument("--config", type=Path, help="run configuration (TOML): idTags, connector, timeouts, …")
    run.add_argument(
        "--report", type=Path, metavar="DIR", help="write report.md/.html/.json and junit.xml here"
    )
    run.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML here")
    run.add_argument("--deviations", type=Path, metavar="FILE", help="known deviations (.toml or .py)")
    run.add_argument(
        "--no-provision", action="store_true", help="do not provision idTags through the operator"
    )
    run.add_argument("--quiet", action="store_true", help="no progress lines")
    run.set_defaults(func=command_run)

    listing = commands.add_parser("list", help="list the test cases", description="List the test cases.")
    _selection_arguments(listing)
    listing.add_argument("--steps", action="store_true", help="show the steps of each case")
    listing.set_defaults(func=command_list)


def _selection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profiles",
        action="append",
        help="comma-separated: core, aq1, robustness, … (default: every profile found except robustness)",
    )
    parser.add_argument("--cases", action="append", help="comma-separated case ids: TC_001,TC_004_1,R-01")


def _split(values: Sequence[str] | None) -> list[str]:
    return [item.strip() for value in values or () for item in value.split(",") if item.strip()]


def _fail(message: str) -> int:
    print(f"conformance: {message}", file=sys.stderr)
    return 2


def _selected(args: argparse.Namespace) -> Any:
    from conformance.scenario import discover, select

    # Opt-in profiles (robustness) are discovered, but select() only picks them when asked for by name.
    return select(discover(include_opt_in=True), profiles=_split(args.profiles), cases=_split(args.cases))


def command_list(args: argparse.Namespace) -> int:
    from conformance.scenario import SelectionError

    try:
        scenarios = _selected(args)
    except SelectionError as exc:
        return _fail(str(exc))
    for scenario in scenarios:
        kind = f" [{scenario.kind}]" if scenario.kind != "oca" else ""
        print(f"{scenario.id:<15} {scenario.profile:<6} §{scenario.section:<8} {scenario.title}{kind}")
        if args.steps:
            number = 0
            for state in scenario.states:
                for step in state.steps:
                    number += 1
                    print(f"    {number:2d}. [{state.name}] {step.describe()}")
            for step in scenario.steps:
                number += 1
                print(f"    {number:2d}. {step.describe()}")
    return 0


def _ssl_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    if not args.csms.startswith("wss://"):
        if args.ca or args.client_cert or args.client_key:
            raise ValueError("--ca/--client-cert/--client-key need a wss:// CSMS URL")
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(args.ca) if args.ca else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if args.client_cert is not None:
        context.load_cert_chain(str(args.client_cert), str(args.client_key) if args.client_key else None)
    elif args.client_key is not None:
        raise ValueError("--client-key needs --client-cert")
    return context


def _password(args: argparse.Namespace) -> str | None:
    if args.password is not None:
        return str(args.password)
    if args.password_env:
        value = os.environ.get(args.password_env)
        if value is None:
            raise ValueError(f"--password-env: ${args.password_env} is not set")
        return value
    return os.environ.get(PASSWORD_ENV)


def command_run(args: argparse.Namespace) -> int:
    import trio

    from conformance.config import RunConfigError, load_run_config
    from conformance.deviations import Deviations, DeviationsError, load_deviations
    from conformance.operators import OperatorError, make_operator
    from conformance.report import write_junit, write_reports
    from conformance.runner import CaseResult, RunResult, UrlTarget, progress_line, run_suite
    from conformance.scenario import SelectionError

    try:
        scenarios = _selected(args)
        config = load_run_config(args.config, charger_id=args.charger_id)
        deviations = load_deviations(args.deviations) if args.deviations is not None else Deviations()
        target = UrlTarget(args.csms, password=_password(args), ssl_context=_ssl_context(args))
        operator = make_operator(args.operator, token=args.operator_token, window=config.call_window)
        target.transport(config)  # checks the URL
    except (SelectionError, RunConfigError, DeviationsError, OperatorError, ValueError, OSError) as exc:
        return _fail(str(exc))
    if not scenarios:
        return _fail("no test cases selected")

    def progress(case: CaseResult) -> None:
        if not args.quiet:
            print(progress_line(case), flush=True)

    async def main() -> RunResult:
        return await run_suite(
            scenarios,
            target=target,
            operator=operator,
            config=config,
            deviations=deviations,
            progress=progress,
            provision=not args.no_provision,
        )

    try:
        result = trio.run(main)
    except OperatorError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return 130
    written: list[Path] = []
    if args.report is not None:
        written += write_reports(result, args.report)
    if args.junit is not None:
        written.append(write_junit(result, args.junit))
    tally: dict[str, int] = {}
    for case in result.cases:
        tally[case.status] = tally.get(case.status, 0) + 1
    summary = ", ".join(f"{count} {status.replace('_', ' ')}" for status, count in sorted(tally.items()))
    print(
        f"{'PASS' if result.ok else 'FAIL'}: {len(result.cases)} cases ({summary}) in {result.seconds:.1f} s"
    )
    for path in written:
        print(f"report: {path}")
    return result.exit_status


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m conformance run|list …``"""
    parser = argparse.ArgumentParser(
        prog="python -m conformance",
        description="Replay the OCA OCTT 1.6 CSMS test cases, playing the charge point, against any CSMS.",
    )
    add_subcommands(parser)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code
