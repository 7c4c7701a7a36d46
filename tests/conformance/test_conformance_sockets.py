"""The suite out of process, as a vendor runs it: real websockets on 127.0.0.1 (port 0), the ocpp-trio
HTTP operator API, the ``exec:`` bridge, TLS with client certificates, and the CLI.

Real time, so only quick cases are run; each test has an absolute deadline.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import sys
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Sequence
from functools import partial
from pathlib import Path

import pytest
import trio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fake_csms import FakeCsms, FakeOperator

from conformance.cli import main as cli_main
from conformance.config import RunConfig
from conformance.operators import OcppTrioOperator, OperatorError
from conformance.runner import UrlTarget, run_case
from conformance.scenario import discover
from engine.api.http import serve_http
from engine.config import Config, ServerConfig
from engine.server import Csms
from engine.store import MemoryStore

pytestmark = pytest.mark.socket

TOKEN = "conformance-test-token"
EXAMPLE = Path(__file__).resolve().parents[2] / "conformance" / "examples" / "operator_example.py"
SCENARIOS = {scenario.id: scenario for scenario in discover()}


async def cli(argv: Sequence[str]) -> int:
    """The blocking CLI (it runs its own trio.run) in a worker thread, while servers run in this loop."""
    with trio.fail_after(30):
        return await trio.to_thread.run_sync(cli_main, list(argv))


@pytest.fixture
async def ocpp_trio(nursery: trio.Nursery) -> AsyncIterator[tuple[str, str]]:
    """A real ocpp-trio: websocket listener and HTTP operator API, both on 127.0.0.1 port 0."""
    csms = Csms(Config(server=ServerConfig(host="127.0.0.1", port=0, ping_interval=0)), store=MemoryStore())
    ports = await nursery.start(csms.serve)
    api_port = await nursery.start(partial(serve_http, csms, "127.0.0.1", 0, token=TOKEN))
    yield f"ws://127.0.0.1:{ports[0]}/ocpp", f"http://127.0.0.1:{api_port}"


CASES = "TC_001,TC_010,TC_012,TC_023_2,TC_061,TC_064"


async def test_cli_run_against_ocpp_trio_with_its_http_operator_api(
    ocpp_trio: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws_url, api_url = ocpp_trio
    code = await cli(
        [
            "run",
            "--csms",
            ws_url,
            "--operator",
            f"ocpp-trio:{api_url}",
            "--operator-token",
            TOKEN,
            "--cases",
            CASES,
            "--report",
            str(tmp_path / "report"),
            "--junit",
            str(tmp_path / "junit.xml"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[:6]] == ["PASS"] * 6
    assert lines[0].startswith("PASS TC_001_CSMS Cold Boot Charge Point (")
    assert lines[6].startswith("PASS: 6 cases (6 pass) in ")
    data = json.loads((tmp_path / "report" / "report.json").read_text())
    assert data["summary"]["result"] == "PASS"
    assert data["performance"][0]["samples"] > 10
    assert data["performance"][1]["samples"] == 3  # Authorize in TC_010, TC_012 (Authorized), TC_023_2
    assert ET.parse(tmp_path / "junit.xml").getroot().get("tests") == "6"
    assert (tmp_path / "report" / "report.html").read_text().startswith("<!DOCTYPE html>")


async def test_cli_run_with_the_example_exec_bridge(
    ocpp_trio: tuple[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ws_url, api_url = ocpp_trio
    monkeypatch.setenv("OCPP_TRIO_API", api_url)
    monkeypatch.setenv("OCPP_TRIO_TOKEN", TOKEN)
    deviations = tmp_path / "deviations.toml"
    deviations.write_text('[deviations]\nTC_061 = "listed to see an unexpected pass"\n')
    command = f"exec:{sys.executable} {EXAMPLE}"
    code = await cli(
        ["run", "--csms", ws_url, "--operator", command, "--cases", CASES, "--deviations", str(deviations)]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    assert [line.split(" TC_")[0] for line in lines[:6]] == ["PASS"] * 4 + ["UNEXPECTED PASS", "PASS"]
    assert lines[4].startswith("UNEXPECTED PASS TC_061_CSMS")


async def test_cli_reports_a_failing_case_with_exit_status_1(
    nursery: trio.Nursery, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeCsms()
    fake.respond = lambda action, payload: (  # type: ignore[method-assign]
        {"idTagInfo": {"status": "Accepted"}}
        if action == "Authorize"
        else FakeCsms.respond(fake, action, payload)
    )
    port = await nursery.start(fake.serve_tcp)
    code = await cli(
        [
            "run",
            "--csms",
            f"ws://127.0.0.1:{port}/ocpp",
            "--cases",
            "TC_023_1",
            "--no-provision",
            "--operator",
            "prompt",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("FAIL TC_023_1_CSMS Start Charging Session – Authorize invalid (")
    assert 'Authorize: idTagInfo.status is "Accepted", expected "Invalid"' in out


async def test_cli_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli(["run", "--csms", "http://x", "--cases", "TC_001"]) == 2
    assert "ws:// or wss://" in capsys.readouterr().err
    assert await cli(["run", "--csms", "ws://127.0.0.1:1/ocpp", "--cases", "TC_999"]) == 2
    assert "unknown case 'TC_999'" in capsys.readouterr().err
    assert await cli(["run", "--csms", "ws://127.0.0.1:1/ocpp", "--operator", "nope"]) == 2
    assert "unknown operator 'nope'" in capsys.readouterr().err
    # The ocpp-trio operator API is not there: provisioning fails before any case runs.
    code = await cli(["run", "--csms", "ws://127.0.0.1:1/ocpp", "--operator", "ocpp-trio:http://127.0.0.1:1"])
    assert code == 2
    assert "cannot reach the ocpp-trio operator API at http://127.0.0.1:1" in capsys.readouterr().err


async def test_basic_auth_over_a_real_socket(nursery: trio.Nursery) -> None:
    fake = FakeCsms(password="s3cret-Passw0rd")
    port = await nursery.start(fake.serve_tcp)
    url = f"ws://127.0.0.1:{port}/ocpp"
    with trio.fail_after(10):
        case = await run_case(
            SCENARIOS["TC_001_CSMS"], target=UrlTarget(url), operator=FakeOperator(fake), config=RunConfig()
        )
        assert case.status == "fail"
        assert case.reason == (
            f"step 1 (setup): websocket handshake with {url}/CP-1 failed: HTTP 401 unauthorized"
        )
        target = UrlTarget(url, password="s3cret-Passw0rd")
        case = await run_case(
            SCENARIOS["TC_001_CSMS"], target=target, operator=FakeOperator(fake), config=RunConfig()
        )
    assert case.status == "pass", case.reason
    assert fake.headers_seen[-1]["authorization"].startswith("Basic ")


# ------------------------------------------------------------------------------------------------- TLS


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, *items: x509.Certificate | ec.EllipticCurvePrivateKey) -> Path:
    chunks = []
    for item in items:
        if isinstance(item, x509.Certificate):
            chunks.append(item.public_bytes(serialization.Encoding.PEM))
        else:
            chunks.append(
                item.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
    path.write_bytes(b"".join(chunks))
    return path


async def test_tls_with_a_client_certificate(nursery: trio.Nursery, tmp_path: Path) -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Test CA", ca_key, "Test CA", ca_key, ca=True)
    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_file = _write(tmp_path / "ca.pem", ca)
    server_file = _write(
        tmp_path / "server.pem",
        _certificate("127.0.0.1", server_key, "Test CA", ca_key, ca=False),
        server_key,
    )
    client_file = _write(
        tmp_path / "client.pem", _certificate("CT-0001", client_key, "Test CA", ca_key, ca=False), client_key
    )

    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(ca_file))
    server_context.load_cert_chain(str(server_file))
    server_context.verify_mode = ssl.CERT_REQUIRED
    fake = FakeCsms()
    port = await nursery.start(partial(fake.serve_tcp, ssl_context=server_context))
    url = f"wss://127.0.0.1:{port}/ocpp"

    client_context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    client_context.load_cert_chain(str(client_file))
    with trio.fail_after(10):
        case = await run_case(
            SCENARIOS["TC_001_CSMS"],
            target=UrlTarget(url, ssl_context=client_context),
            operator=FakeOperator(fake),
            config=RunConfig(),
        )
    assert case.status == "pass", case.reason
    assert case.steps[0].detail == f"connected to {url}/CP-1"

    # Without the CA the server certificate is not trusted: a clear connection failure, no crash.
    untrusting = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    with trio.fail_after(10):
        case = await run_case(
            SCENARIOS["TC_001_CSMS"],
            target=UrlTarget(url, ssl_context=untrusting),
            operator=FakeOperator(fake),
            config=RunConfig(),
        )
    assert case.status == "fail"
    assert case.reason.startswith(f"step 1 (setup): cannot connect to {url}/CP-1: ")
    assert "CERTIFICATE_VERIFY_FAILED" in case.reason

    # No client certificate for a CSMS that requires one (security profile 3): refused, within the bound.
    anonymous = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    with trio.fail_after(10):
        case = await run_case(
            SCENARIOS["TC_001_CSMS"],
            target=UrlTarget(url, ssl_context=anonymous, connect_timeout=2),
            operator=FakeOperator(fake),
            config=RunConfig(),
        )
    assert case.status == "fail"
    assert case.steps[0].status == "fail" and case.steps[0].seconds <= 2.5
    assert f"{url}/CP-1" in case.reason


async def test_ocpp_trio_operator_errors_come_back_as_results(ocpp_trio: tuple[str, str]) -> None:
    _, api_url = ocpp_trio
    operator = OcppTrioOperator(api_url, TOKEN)
    with trio.fail_after(10):
        result = await operator.request("CP-9", "Reset", {"type": "Hard"})
        assert (result.error, result.reason.split()[:2]) == ("charger_offline", ["HTTP", "409"])
        result = await OcppTrioOperator(api_url, "wrong-token").request("CP-9", "Reset", {"type": "Hard"})
        assert result.error == "unauthorized"
        # A policy for a charger never seen prepares it (both the HTTP and the Python API register it).
        result = await operator.set_boot_policy("CP-never-seen", "PendingOnce")
        assert result.error is None
        await operator.provision(RunConfig())
        with pytest.raises(OperatorError, match="cannot reach the ocpp-trio operator API"):
            await OcppTrioOperator("http://127.0.0.1:1").provision(RunConfig())
