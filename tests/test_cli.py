"""The ``ocpp-trio`` command: version, help for every command, and ``serve`` as a real process that a
charger reaches on 127.0.0.1 and that stops cleanly on SIGINT."""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import urllib.request
from functools import partial
from pathlib import Path

import pytest
import trio
from trio_websocket import open_websocket

from engine._version import __version__
from engine.cli import main

REPO = Path(__file__).resolve().parent.parent


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"ocpp-trio {__version__}"


@pytest.mark.parametrize("argv", [["--help"], ["serve", "--help"]])
def test_every_command_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ocpp-trio")
    if argv[0] == "serve":
        for option in ("--host", "--port", "--db", "--config", "--log-level"):
            assert option in out


def _command_names() -> list[str]:
    from engine.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(subparsers.choices)


def test_the_operator_conformance_and_bench_commands_are_registered() -> None:
    assert {
        "serve",
        "chargers",
        "call",
        "tags",
        "transactions",
        "log",
        "policy",
        "conformance",
        "bench",
    } <= set(_command_names())


@pytest.mark.parametrize("command", _command_names())
def test_every_registered_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: ocpp-trio {command}")


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "serve" in capsys.readouterr().out


def test_bad_config_file_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[server]\nprot = 1\n")
    assert main(["serve", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'prot'" in err
    assert "Traceback" not in err


@pytest.mark.socket
async def test_serve_accepts_a_charger_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "engine.cli", "serve", "--port", "0", "--api-port", "0"]
    command += ["--db", str(tmp_path / "t.sqlite")]
    run = partial(
        trio.run_process,
        command,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        check=False,
    )
    with trio.fail_after(20):
        # run_process kills the child if anything below fails, so no test leaves a server behind.
        async with trio.open_nursery() as nursery:
            process: trio.Process = await nursery.start(run)
            assert process.stdout is not None
            assert process.stderr is not None
            out = b""
            while not re.search(rb"operator API: http://127\.0\.0\.1:\d+/api\n", out):
                chunk = await process.stdout.receive_some()
                assert chunk, f"serve exited early: {out!r}"
                out += chunk
            match = re.search(rb"ws://127\.0\.0\.1:(\d+)/ocpp/<chargePointId>", out)
            assert match, out
            port = int(match.group(1))
            api = re.search(rb"operator API: (http://127\.0\.0\.1:\d+/api)", out)
            assert api, out
            health = await trio.to_thread.run_sync(
                lambda: json.loads(
                    urllib.request.urlopen(api.group(1).decode() + "/health", timeout=5).read()
                )
            )
            assert health == {"status": "ok", "connected": 0}

            async with open_websocket(
                "127.0.0.1", port, "/ocpp/CP-1", use_ssl=False, subprotocols=["ocpp1.6"]
            ) as ws:
                boot = {"chargePointVendor": "Vendor", "chargePointModel": "Model"}
                await ws.send_message(json.dumps([2, "1", "BootNotification", boot]))
                answer = json.loads(await ws.get_message())
            assert answer[:2] == [3, "1"], answer
            assert answer[2]["status"] == "Accepted"

            err = b""
            while b"CP-1 disconnected" not in err:  # the server has seen the close; now stop it
                chunk = await process.stderr.receive_some()
                assert chunk, err
                err += chunk
            process.send_signal(signal.SIGINT)
            while chunk := await process.stderr.receive_some():
                err += chunk
            assert await process.wait() == 0
    text = err.decode()
    assert "Traceback" not in text, text
    assert "CP-1 connected from 127.0.0.1:" in text
    assert "subprotocol=ocpp1.6" in text
    assert "CP-1 disconnected code=1000" in text
    assert "received SIGINT; shutting down" in text
    assert (tmp_path / "t.sqlite").exists()


def test_api_on_a_public_address_without_token_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "open.toml"
    config.write_text('[api]\nhost = "0.0.0.0"\n')
    assert main(["serve", "--config", str(config), "--db", str(tmp_path / "t.sqlite")]) == 2
    assert "not a loopback address" in capsys.readouterr().err


@pytest.mark.socket
def test_a_port_in_use_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["serve", "--port", str(port), "--no-api", "--db", str(tmp_path / "t.sqlite")]
        assert main([*argv, "--log-level", "WARNING"]) == 1
    err = capsys.readouterr().err
    assert "cannot listen" in err
    assert "Traceback" not in err
