"""Issue acceptance, literally: `ocpp-trio serve` started as a process by the test, and
`ocpp-trio conformance run` as a second process against it — Core, AQ-1 and the robustness profile —
exits 0 with only the listed known deviations, and writes the report files.

Real time, so the server's intervals are shortened through its TOML configuration (the boot retry
interval AQ-1 waits for, the handshake deadline the robustness rows probe) and the run configuration
knows them. Loopback only, one absolute deadline.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
import test_robustness_inprocess as inprocess
import trio

pytestmark = pytest.mark.socket

REPO = Path(__file__).resolve().parents[2]


async def test_conformance_cli_passes_against_an_ocpp_trio_serve_process(tmp_path: Path) -> None:
    server_config = tmp_path / "server.toml"
    server_config.write_text(
        "[server]\nport = 0\nping_interval = 0\nhandshake_timeout = 1.0\n"
        "[policy]\nboot_retry_interval = 1\n"
        "[api]\nport = 0\n"
    )
    run_config = tmp_path / "run.toml"
    run_config.write_text("robustness_silence = 0.3\nrobustness_handshake_timeout = 1.0\n")
    deviations = tmp_path / "deviations.toml"
    deviations.write_text(
        "[deviations]\n"
        + "".join(f'"{case}" = {json.dumps(reason)}\n' for case, reason in inprocess.DEVIATIONS.items())
    )
    serve = [sys.executable, "-m", "engine.cli", "serve", "--config", str(server_config)]
    serve += ["--db", str(tmp_path / "csms.sqlite"), "--log-level", "WARNING"]
    start_server = partial(
        trio.run_process, serve, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, check=False
    )
    report = tmp_path / "report"
    with trio.fail_after(90):
        async with trio.open_nursery() as nursery:
            server: trio.Process = await nursery.start(start_server)
            assert server.stdout is not None
            out = b""
            while not re.search(rb"operator API: (http://\S+)/api\n", out):
                chunk = await server.stdout.receive_some()
                assert chunk, f"serve exited early: {out!r}"
                out += chunk
            ws = re.search(rb"(ws://127\.0\.0\.1:\d+/ocpp)/<chargePointId>", out)
            api = re.search(rb"operator API: (http://\S+)/api\n", out)
            assert ws and api, out
            suite = [sys.executable, "-m", "engine.cli", "conformance", "run", "--csms", ws.group(1).decode()]
            suite += ["--operator", f"ocpp-trio:{api.group(1).decode()}", "--profiles", "core,aq1,robustness"]
            suite += ["--config", str(run_config), "--deviations", str(deviations), "--report", str(report)]
            result = await trio.run_process(
                suite, cwd=tmp_path, capture_stdout=True, capture_stderr=True, check=False
            )
            server.terminate()
    text = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0, text
    assert "FAIL " not in text
    summary = json.loads((report / "report.json").read_text())
    cases = {case["id"]: case for case in summary["cases"]}
    assert {case["status"] for case in cases.values()} <= {"pass", "deviation"}
    assert sum(1 for case in cases.values() if case["profile"] == "Core") == 34
    assert {cases["R-01"]["status"], cases["R-02"]["status"]} == {"pass"}
    assert sorted(case_id for case_id, case in cases.items() if case["status"] == "deviation") == sorted(
        inprocess.DEVIATIONS
    )
    for name in ("report.md", "report.html", "junit.xml"):
        assert (report / name).stat().st_size > 0
