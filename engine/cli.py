"""The ``ocpp-trio`` command: ``ocpp-trio serve`` runs the Central System (with its operator HTTP API);
the operator commands (``chargers``, ``call``, ``tags``, …, see :mod:`engine.api.commands`) talk to that
API; ``ocpp-trio conformance`` runs the OCA-style suite against any CSMS.

A thin layer over :class:`engine.server.Csms` (design.md decision 12). Logging goes to stderr, one line
per event; the URL chargers use goes to stdout. SIGINT (Ctrl-C) and SIGTERM stop the server cleanly
(exit code 0, no traceback): the signals are received as Trio events, not as KeyboardInterrupt raised at
an arbitrary point.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from engine._version import __version__
from engine.config import Config, ConfigError, load_config
from engine.policy import BootPolicy

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

logger = logging.getLogger("engine.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ocpp-trio", description="An OCPP 1.6-J Central System on Trio.")
    parser.add_argument("--version", action="version", version=f"ocpp-trio {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the Central System",
        description="Accept OCPP 1.6-J charge points on ws://HOST:PORT<path_prefix>/<chargePointId>.",
    )
    serve.add_argument("--host", help="interface to listen on (default 127.0.0.1, or the config file's)")
    serve.add_argument("--port", type=int, help="TCP port; 0 picks a free one (default 9000)")
    serve.add_argument("--db", metavar="PATH", help="SQLite database file (default ocpp-trio.sqlite)")
    serve.add_argument("--config", metavar="FILE", type=Path, help="TOML configuration file")
    serve.add_argument(
        "--api-port", type=int, help="operator HTTP API port (default 9001; 0 picks a free one)"
    )
    serve.add_argument("--no-api", action="store_true", help="do not start the operator HTTP API")
    serve.add_argument(
        "--boot-policy",
        choices=[p.value for p in BootPolicy],
        help="default answer to BootNotification (default Accepted; AQ-1: Pending/Rejected)",
    )
    serve.add_argument("--log-level", default="INFO", choices=LOG_LEVELS, type=str.upper, help="default INFO")
    serve.set_defaults(func=None)

    from engine.api.commands import add_commands

    add_commands(commands)
    try:
        from conformance.cli import add_commands as add_conformance_commands
    except ImportError:  # the conformance package is optional for an embedded engine
        pass
    else:
        add_conformance_commands(commands)
    try:
        from conformance.bench.cli import add_commands as add_bench_commands
    except ImportError:
        pass
    else:
        add_bench_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command != "serve":
        result: int = args.func(args)
        return result
    try:
        config = _serve_config(args)
    except ConfigError as exc:
        print(f"ocpp-trio: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level, format=LOG_FORMAT, stream=sys.stderr, force=True)
    try:
        return _serve(config)
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        return 0
    except BaseExceptionGroup as group:
        # Cannot listen (port in use, address not on this host): one line, not a traceback.
        listen_error = _leaf(group)
        if not isinstance(listen_error, OSError):
            raise
        print(f"ocpp-trio: cannot listen: {listen_error}", file=sys.stderr)
        return 1


def _serve_config(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    server = config.server
    if args.host is not None:
        server = dataclasses.replace(server, host=args.host)
    if args.port is not None:
        server = dataclasses.replace(server, port=args.port)
    db_path = args.db if args.db is not None else config.db_path
    api = config.api
    if args.api_port is not None:
        api = dataclasses.replace(api, port=args.api_port)
    if args.no_api:
        api = dataclasses.replace(api, enabled=False)
    policy = config.policy
    if args.boot_policy is not None:
        policy = dataclasses.replace(policy, boot=BootPolicy(args.boot_policy))
    if api.enabled and not api.token:
        from engine.api.http import is_loopback

        if not is_loopback(api.host):
            raise ConfigError(
                f"[api] host {api.host!r} is not a loopback address: set [api] token, or bind 127.0.0.1"
            )
    return dataclasses.replace(config, server=server, db_path=db_path, api=api, policy=policy)


def _serve(config: Config) -> int:
    import trio

    from engine.server import Csms
    from engine.server.collector_pacer import pace_collection
    from engine.server.process_tuning import raise_open_files_limit, tune_collector

    files = raise_open_files_limit()
    if files < 4096:
        logger.warning("open files limit is %d: at most about %d chargers can connect", files, files - 64)

    async def run() -> None:
        # Opened before the listener so an early Ctrl-C is a clean stop too.
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            csms = Csms(config)
            try:
                async with trio.open_nursery() as nursery:
                    ports: list[int] = await nursery.start(csms.serve)
                    prefix = config.server.path_prefix
                    for port in ports:
                        print(f"ws://{_url_host(config.server.host)}:{port}{prefix}/<chargePointId>")
                    print("subprotocol: ocpp1.6", flush=True)
                    tune_collector()
                    nursery.start_soon(partial(pace_collection, churn=csms.session_churn))
                    if config.api.enabled:
                        from engine.api.http import serve_http

                        api = config.api
                        api_port: int = await nursery.start(
                            partial(serve_http, csms, api.host, api.port, token=api.token or None)
                        )
                        print(f"operator API: http://{_url_host(api.host)}:{api_port}/api", flush=True)
                    async for signum in signals:
                        logger.info("received %s; shutting down", signal.Signals(signum).name)
                        nursery.cancel_scope.cancel()
                        break
            finally:
                csms.close()

    trio.run(run)
    return 0


def _leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


if __name__ == "__main__":
    sys.exit(main())
