"""The operator CLI commands and ApiClient against a real serve_http on 127.0.0.1 (port 0, Hypercorn/Trio).

The server runs in the test's Trio loop; each blocking CLI command runs in a worker thread.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
from collections.abc import Sequence
from decimal import Decimal
from functools import partial

import pytest
import trio
from test_http_api import FakeOperator

from engine.api.client import ApiClient, ApiConnectionError, ApiError
from engine.api.commands import add_commands, format_table, pretty_json
from engine.api.http import serve_http
from engine.server.errors import CallErrorResponse, CallTimeoutError

pytestmark = pytest.mark.socket

TOKEN = "cli-test-token"


def _main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="ocpp-trio")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


async def run(*argv: str) -> int:
    """One CLI command in a worker thread (it blocks on urllib while the server runs in this loop)."""
    with trio.fail_after(10):
        return await trio.to_thread.run_sync(_main, list(argv))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OCPP_TRIO_API", raising=False)
    monkeypatch.delenv("OCPP_TRIO_TOKEN", raising=False)


@pytest.fixture
def fake() -> FakeOperator:
    return FakeOperator()


@pytest.fixture
async def api_url(fake: FakeOperator, nursery: trio.Nursery, monkeypatch: pytest.MonkeyPatch) -> str:
    port = await nursery.start(partial(serve_http, fake, "127.0.0.1", 0, token=TOKEN))
    assert isinstance(port, int)
    assert port > 0
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("OCPP_TRIO_API", url)
    monkeypatch.setenv("OCPP_TRIO_TOKEN", TOKEN)
    return url


# -- the real server ----------------------------------------------------------------------------------


async def test_serve_http_reports_its_port_and_requires_the_token(api_url: str) -> None:
    health = await trio.to_thread.run_sync(ApiClient(api_url, TOKEN).health)
    assert health == {"status": "ok", "connected": 1}
    with pytest.raises(ApiError) as caught:
        await trio.to_thread.run_sync(ApiClient(api_url).health)
    assert caught.value.status == 401
    assert caught.value.error == "unauthorized"


async def test_serve_http_stops_when_cancelled(fake: FakeOperator) -> None:
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            port = await nursery.start(partial(serve_http, fake, "127.0.0.1", 0, token=None))
            client = ApiClient(f"http://127.0.0.1:{port}")
            assert (await trio.to_thread.run_sync(client.health))["status"] == "ok"
            nursery.cancel_scope.cancel()
    with pytest.raises(ApiConnectionError):
        await trio.to_thread.run_sync(client.health)


async def test_client_error_carries_the_json_body(api_url: str, fake: FakeOperator) -> None:
    fake.call_outcomes["Reset"] = CallErrorResponse("NotSupported", "nope", {"path": "$.type"})
    client = ApiClient(api_url, TOKEN)
    with pytest.raises(ApiError) as caught:
        await trio.to_thread.run_sync(partial(client.call, "CP1", "Reset", {"type": "Soft"}, timeout=3))
    error = caught.value
    assert (error.status, error.error) == (502, "call_error")
    assert error.body["code"] == "NotSupported"
    assert error.body["details"] == {"path": "$.type"}
    assert fake.calls[-1][3] == 3


# -- commands -------------------------------------------------------------------------------------------


async def test_chargers_table_and_json(api_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run("chargers") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["ID", "CONNECTED", "REGISTRATION"]
    assert lines[1].split()[:3] == ["CP1", "yes", "Accepted"]
    assert "Acme X1" in lines[1]
    assert lines[2].split()[:2] == ["CP2", "no"]
    assert await run("chargers", "--json") == 0
    assert [c["charger_id"] for c in json.loads(capsys.readouterr().out)] == ["CP1", "CP2"]


async def test_charger_detail(api_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run("charger", "CP1") == 0
    out = capsys.readouterr().out
    assert re.search(r"^registration: +Accepted$", out, re.M)
    assert "Charging" in out
    assert await run("charger", "NOPE") == 1
    assert "not_found" in capsys.readouterr().err


async def test_call_prints_the_result(
    api_url: str, fake: FakeOperator, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.call_outcomes["DataTransfer"] = {"status": "Accepted", "data": "ok"}
    payload = '{"vendorId": "acme", "data": "x", "n": 21.4}'
    assert await run("call", "CP1", "DataTransfer", payload, "--timeout", "5") == 0
    assert json.loads(capsys.readouterr().out) == {"status": "Accepted", "data": "ok"}
    assert fake.calls[-1] == (
        "CP1",
        "DataTransfer",
        {"vendorId": "acme", "data": "x", "n": Decimal("21.4")},
        5.0,
    )
    assert await run("call", "CP1", "ClearCache") == 0
    assert fake.calls[-1][2] == {}


async def test_call_failures_exit_1_with_the_reason(
    api_url: str, fake: FakeOperator, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.call_outcomes["Reset"] = CallErrorResponse("NotSupported", "no resets", {"why": "policy"})
    assert await run("call", "CP1", "Reset", '{"type": "Soft"}') == 1
    err = capsys.readouterr().err
    assert "call_error" in err
    assert "code=NotSupported" in err
    assert '"why":"policy"' in err
    fake.call_outcomes["Reset"] = CallTimeoutError("CP1", "Reset", "7", 30)
    assert await run("call", "CP1", "Reset", '{"type": "Soft"}') == 1
    assert "timeout" in capsys.readouterr().err
    assert await run("call", "CP2", "Reset", '{"type": "Soft"}') == 1
    assert "charger_offline" in capsys.readouterr().err


async def test_call_with_bad_payload_json_is_a_usage_error(
    api_url: str, fake: FakeOperator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run("call", "CP1", "Reset", "{nope") == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert await run("call", "CP1", "Reset", "[1]") == 2
    assert "must be a JSON object" in capsys.readouterr().err
    assert fake.calls == []


async def test_tags(api_url: str, fake: FakeOperator, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run("tags") == 0
    assert "TAG1" in capsys.readouterr().out
    assert await run("tags", "add", "NEW", "--status", "Blocked", "--expiry", "2027-01-01T00:00:00Z") == 0
    assert capsys.readouterr().out.strip() == "NEW: Blocked"
    assert fake.tags["new"].expiry_date == "2027-01-01T00:00:00.000Z"
    assert await run("tags", "add", "CHILD", "--parent", "NEW", "--json") == 0
    assert json.loads(capsys.readouterr().out)["parent_id_tag"] == "NEW"
    assert await run("tags", "list") == 0
    listing = capsys.readouterr().out
    assert "CHILD" in listing
    assert "Blocked" in listing
    assert await run("tags", "rm", "new") == 0
    assert "new" not in fake.tags
    assert await run("tags", "rm", "new") == 1
    assert "not_found" in capsys.readouterr().err
    assert await run("tags", "add", "BAD", "--expiry", "someday") == 1
    assert "expiry_date" in capsys.readouterr().err


async def test_transactions_and_transaction(api_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run("transactions") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["2", "1"]
    assert await run("transactions", "--active") == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == ["2"]
    assert await run("transactions", "--charger", "CP2", "--json") == 0
    assert [t["transaction_id"] for t in json.loads(capsys.readouterr().out)] == [1]
    assert await run("transaction", "2") == 0
    out = capsys.readouterr().out
    assert "TAG1" in out
    assert "Energy.Active.Import.Register" in out
    assert "110" in out
    assert await run("transaction", "99") == 1
    assert "not_found" in capsys.readouterr().err


async def test_log_reads_oldest_first(api_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run("log", "CP1", "--limit", "2") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["t3", "t4"]
    assert all(" <- " in line for line in lines)


async def test_policy_show_and_set(
    api_url: str, fake: FakeOperator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run("policy") == 0
    assert "heartbeat_interval" in capsys.readouterr().out
    assert await run("policy", "show", "--json") == 0
    assert json.loads(capsys.readouterr().out)["boot"] == "Accepted"
    changes = (
        "boot=Pending",
        "heartbeat-interval=60",
        "accept_unknown_id_tags=true",
        "id_tag_cache_ttl=null",
    )
    assert await run("policy", "set", *changes) == 0
    assert fake.policy_updates[-1] == {
        "boot": "Pending",
        "heartbeat_interval": 60,
        "accept_unknown_id_tags": True,
        "id_tag_cache_ttl": None,
    }
    assert "Pending" in capsys.readouterr().out
    assert await run("policy", "set", "boot=Sometimes") == 1
    assert "invalid_request" in capsys.readouterr().err
    assert await run("policy", "set", "no-equals-sign") == 2


async def test_charger_policy(api_url: str, fake: FakeOperator, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run("charger-policy", "CP2", "--boot-policy", "Pending", "--heartbeat-interval", "30") == 0
    assert (fake.records["CP2"].boot_policy, fake.records["CP2"].heartbeat_interval) == ("Pending", 30)
    assert "Pending" in capsys.readouterr().out
    assert await run("charger-policy", "CP2", "--boot-policy", "default") == 0
    assert (fake.records["CP2"].boot_policy, fake.records["CP2"].heartbeat_interval) == (None, None)
    assert "(default)" in capsys.readouterr().out
    assert await run("charger-policy", "NEW-1", "--boot-policy", "RejectedOnce") == 0  # prepared ahead
    assert fake.records["NEW-1"].boot_policy == "RejectedOnce"
    with pytest.raises(SystemExit):  # argparse refuses an unknown policy before any request
        await run("charger-policy", "NEW-1", "--boot-policy", "Sometimes")


async def test_token_options(
    api_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OCPP_TRIO_TOKEN")
    assert await run("chargers") == 1
    assert "unauthorized" in capsys.readouterr().err
    assert await run("chargers", "--token", "wrong") == 1
    capsys.readouterr()
    assert await run("chargers", "--token", TOKEN, "--api", api_url) == 0
    assert await run("tags", "--token", TOKEN, "add", "T9") == 0


async def test_unreachable_api_is_a_friendly_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    # A bound socket that does not listen: connecting to it is refused, and nobody else can take the port.
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}"
        assert await run("chargers", "--api", url) == 2
    err = capsys.readouterr().err
    assert "is `ocpp-trio serve` running?" in err
    assert url in err
    assert "connection refused" in err


# -- output helpers ----------------------------------------------------------------------------------------


def test_pretty_json_keeps_decimals_exact() -> None:
    value = {"a": [Decimal("8.10"), 1, None, True], "b": {}, "c": []}
    text = pretty_json(value)
    assert "8.10" in text
    assert json.loads(text) == {"a": [8.1, 1, None, True], "b": {}, "c": []}


def test_format_table_aligns_columns() -> None:
    table = format_table(("A", "LONGER"), [("xxxx", None), ("y", ["p", "q"]), ("z", True)])
    assert table.splitlines() == ["A     LONGER", "xxxx  -", "y     p,q", "z     yes"]
