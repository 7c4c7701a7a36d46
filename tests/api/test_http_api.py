"""The HTTP operator API (engine.api.http) driven in-process over a FakeOperator (design.md decision 12)."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from engine.api.http import MAX_BODY_BYTES, POLICY_FIELDS, build_app, is_loopback, serve_http
from engine.api.operator import CsmsEvent
from engine.policy import BootPolicy, CsmsPolicy, UnknownChargerPolicy
from engine.profiles.base import RefusedByStateError
from engine.protocol.errors import CallInProgressError, LocalOcppError
from engine.server.errors import (
    CallErrorResponse,
    CallQueueFullError,
    CallTimeoutError,
    ChargerOfflineError,
    ResponseInvalidError,
)
from engine.store import (
    ChargerRecord,
    ConnectorRecord,
    IdTagRecord,
    LogRecord,
    MeterValueRecord,
    TransactionRecord,
    id_tag_key,
)

TOKEN = "s3cret-token"


def _charger(charger_id: str, **changes: Any) -> ChargerRecord:
    record = ChargerRecord(
        charger_id=charger_id,
        registration_status="Accepted",
        boot_info={"chargePointVendor": "Acme", "chargePointModel": "X1", "ratio": Decimal("8.1")},
        boot_policy=None,
        heartbeat_interval=None,
        flags=frozenset({"octt_quirks", "assume_ocpp16"}),
        first_seen="2026-01-01T00:00:00.000Z",
        last_seen="2026-01-01T00:05:00.000Z",
        last_boot="2026-01-01T00:00:01.000Z",
        configuration={"HeartbeatInterval": "300", "Secret": None},
    )
    return dataclasses.replace(record, **changes)


def _transaction(transaction_id: int, charger_id: str, *, stopped: bool = False) -> TransactionRecord:
    return TransactionRecord(
        transaction_id=transaction_id,
        charger_id=charger_id,
        connector_id=1,
        id_tag="TAG1",
        meter_start=100,
        start_timestamp="2026-01-01T00:01:00Z",
        reservation_id=None,
        start_status="Accepted",
        meter_stop=250 if stopped else None,
        stop_timestamp="2026-01-01T01:00:00Z" if stopped else None,
        stop_reason="Local" if stopped else None,
        stop_id_tag=None,
        stopped_at="2026-01-01T01:00:01.000Z" if stopped else None,
        flags=frozenset({"meter_decreased"}) if stopped else frozenset(),
        started_at="2026-01-01T00:01:01.000Z",
    )


def _meter_value(charger_id: str, transaction_id: int | None, value: str) -> MeterValueRecord:
    return MeterValueRecord(
        charger_id=charger_id,
        connector_id=1,
        transaction_id=transaction_id,
        timestamp="2026-01-01T00:30:00Z",
        sampled_values=[{"value": value, "unit": "Wh", "multiplier": Decimal("0.1")}],
        source="MeterValues",
        received_at="2026-01-01T00:30:01.000Z",
        text="{}",
    )


class FakeOperator:
    """OperatorApi in memory; ``call_outcomes`` maps an action to a result payload or an exception."""

    def __init__(self) -> None:
        self.records: dict[str, ChargerRecord] = {
            "CP1": _charger("CP1"),
            "CP2": _charger("CP2", flags=frozenset()),
        }
        self.online: set[str] = {"CP1"}
        self.connector_records: dict[str, list[ConnectorRecord]] = {
            "CP1": [
                ConnectorRecord(
                    "CP1", 0, "Available", "NoError", None, None, None, "2026-01-01T00:00:02Z", "t0"
                ),
                ConnectorRecord(
                    "CP1", 1, "Charging", "NoError", "busy", "Acme", None, "2026-01-01T00:01:00Z", "t1"
                ),
            ]
        }
        self.transaction_records = [_transaction(2, "CP1"), _transaction(1, "CP2", stopped=True)]
        self.meter_records = [
            _meter_value("CP1", 2, "110"),
            _meter_value("CP2", 1, "120"),
            _meter_value("CP1", None, "1"),
        ]
        self.tags: dict[str, IdTagRecord] = {"tag1": IdTagRecord("TAG1", "Accepted")}
        self.logs = [LogRecord("CP1", "in", f'[2,"{n}","Heartbeat",{{}}]', f"t{n}") for n in range(5)]
        self._policy = CsmsPolicy()
        self.call_outcomes: dict[str, dict[str, Any] | BaseException] = {}
        self.calls: list[tuple[str, str, dict[str, Any], float | None]] = []
        self.policy_updates: list[dict[str, Any]] = []

    async def call(
        self,
        charger_id: str,
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        self.calls.append((charger_id, action, payload, timeout))
        if charger_id not in self.online:
            raise ChargerOfflineError(charger_id)
        outcome = self.call_outcomes.get(action, {"status": "Accepted"})
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def connected_chargers(self) -> list[str]:
        return sorted(self.online)

    async def chargers(self) -> list[ChargerRecord]:
        return [self.records[key] for key in sorted(self.records)]

    async def charger(self, charger_id: str) -> ChargerRecord | None:
        return self.records.get(charger_id)

    async def connectors(self, charger_id: str) -> list[ConnectorRecord]:
        return list(self.connector_records.get(charger_id, []))

    async def transactions(
        self, *, charger_id: str | None = None, active: bool | None = None, limit: int = 100
    ) -> list[TransactionRecord]:
        found = [
            t
            for t in self.transaction_records
            if (charger_id is None or t.charger_id == charger_id) and (active is None or t.active == active)
        ]
        return found[:limit]

    async def transaction(self, transaction_id: int) -> TransactionRecord | None:
        return next((t for t in self.transaction_records if t.transaction_id == transaction_id), None)

    async def meter_values(
        self, *, charger_id: str | None = None, transaction_id: int | None = None, limit: int = 1000
    ) -> list[MeterValueRecord]:
        found = [
            m
            for m in self.meter_records
            if (charger_id is None or m.charger_id == charger_id)
            and (transaction_id is None or m.transaction_id == transaction_id)
        ]
        return found[:limit]

    async def id_tags(self) -> list[IdTagRecord]:
        return [self.tags[key] for key in sorted(self.tags)]

    async def put_id_tag(self, record: IdTagRecord) -> None:
        self.tags[id_tag_key(record.id_tag)] = record

    async def delete_id_tag(self, id_tag: str) -> bool:
        return self.tags.pop(id_tag_key(id_tag), None) is not None

    async def message_log(self, charger_id: str, limit: int = 100) -> list[LogRecord]:
        return [record for record in reversed(self.logs) if record.charger_id == charger_id][:limit]

    @property
    def policy(self) -> CsmsPolicy:
        return self._policy

    async def update_policy(self, **changes: Any) -> CsmsPolicy:
        self.policy_updates.append(changes)
        self._policy = dataclasses.replace(self._policy, **changes)
        return self._policy

    async def set_charger_policy(
        self, charger_id: str, *, boot_policy: str | None, heartbeat_interval: int | None
    ) -> None:
        if charger_id not in self.records:  # like Csms: preparing a charger registers it
            self.records[charger_id] = ChargerRecord(
                charger_id, None, {}, None, None, frozenset(), "2026-01-01T00:00:00Z", None, None, {}
            )
        self.records[charger_id] = dataclasses.replace(
            self.records[charger_id], boot_policy=boot_policy, heartbeat_interval=heartbeat_interval
        )

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[CsmsEvent]]:  # pragma: no cover - unused here
        async def nothing() -> AsyncIterator[CsmsEvent]:
            events: tuple[CsmsEvent, ...] = ()
            for event in events:
                yield event

        yield nothing()


@pytest.fixture
def fake() -> FakeOperator:
    return FakeOperator()


@asynccontextmanager
async def _client(api: FakeOperator, token: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(api, token=token))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def client(fake: FakeOperator) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(fake) as client:
        yield client


def _error(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == kind, body
    assert isinstance(body["reason"], str)
    assert body["reason"]
    return body  # type: ignore[no-any-return]


# -- health, chargers ----------------------------------------------------------------------------------------


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "connected": 1}


async def test_chargers_list_has_connected_flag_and_plain_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/chargers")
    assert response.status_code == 200
    chargers = response.json()
    assert [(c["charger_id"], c["connected"]) for c in chargers] == [("CP1", True), ("CP2", False)]
    assert chargers[0]["flags"] == ["assume_ocpp16", "octt_quirks"]  # frozenset -> sorted list
    assert chargers[0]["configuration"] == {"HeartbeatInterval": "300", "Secret": None}
    assert '"ratio":8.1' in response.text  # Decimal written exactly


async def test_charger_detail_includes_connectors(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/chargers/CP1")
    assert response.status_code == 200
    body = response.json()
    assert body["charger_id"] == "CP1"
    assert body["connected"] is True
    assert [c["connector_id"] for c in body["connectors"]] == [0, 1]
    assert body["connectors"][1]["info"] == "busy"


async def test_unknown_charger_is_404(client: httpx.AsyncClient) -> None:
    body = _error(await client.get("/api/chargers/NOPE"), 404, "not_found")
    assert body["charger_id"] == "NOPE"
    _error(await client.get("/api/chargers/NOPE/connectors"), 404, "not_found")


async def test_policy_for_a_charger_not_seen_yet_prepares_it(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/chargers/NEW-1/policy", json={"boot_policy": "PendingOnce"})
    assert response.status_code == 200
    assert response.json()["boot_policy"] == "PendingOnce"
    assert (await client.get("/api/chargers/NEW-1")).status_code == 200


async def test_connectors(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/chargers/CP1/connectors")
    assert response.status_code == 200
    assert [c["status"] for c in response.json()] == ["Available", "Charging"]
    empty = await client.get("/api/chargers/CP2/connectors")
    assert empty.json() == []


# -- per-charger policy --------------------------------------------------------------------------------------


async def test_put_charger_policy(client: httpx.AsyncClient, fake: FakeOperator) -> None:
    response = await client.put(
        "/api/chargers/CP2/policy", json={"boot_policy": "Pending", "heartbeat_interval": 60}
    )
    assert response.status_code == 200
    assert response.json()["boot_policy"] == "Pending"
    assert response.json()["heartbeat_interval"] == 60
    assert fake.records["CP2"].boot_policy == "Pending"
    assert type(fake.records["CP2"].boot_policy) is str
    response = await client.put(
        "/api/chargers/CP2/policy", json={"boot_policy": None, "heartbeat_interval": None}
    )
    assert response.status_code == 200
    reset = fake.records["CP2"]
    assert (reset.boot_policy, reset.heartbeat_interval) == (None, None)


@pytest.mark.parametrize(
    "body",
    [
        {"boot_policy": "Maybe"},
        {"boot_policy": 1},
        {"heartbeat_interval": -1},
        {"heartbeat_interval": True},
        {"heartbeat_interval": "60"},
        {"heartbeat_interval": 1.5},
        {"boot": "Pending"},
    ],
)
async def test_put_charger_policy_validates(client: httpx.AsyncClient, fake: FakeOperator, body: Any) -> None:
    _error(await client.put("/api/chargers/CP1/policy", json=body), 400, "invalid_request")
    assert fake.records["CP1"].boot_policy is None


async def test_put_charger_policy_refuses_non_objects(client: httpx.AsyncClient) -> None:
    _error(await client.put("/api/chargers/CP1/policy", json=[1]), 400, "invalid_request")
    _error(await client.put("/api/chargers/CP1/policy", content=b"{nope"), 400, "invalid_json")


# -- message log ---------------------------------------------------------------------------------------------


async def test_message_log_newest_first_with_limit(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/chargers/CP1/log", params={"limit": 2})
    assert response.status_code == 200
    assert [r["at"] for r in response.json()] == ["t4", "t3"]
    assert len((await client.get("/api/chargers/CP1/log")).json()) == 5
    assert (await client.get("/api/chargers/GONE/log")).json() == []


@pytest.mark.parametrize("limit", ["0", "-3", "x", "1.5", "100001"])
async def test_bad_limit_is_400(client: httpx.AsyncClient, limit: str) -> None:
    _error(await client.get("/api/chargers/CP1/log", params={"limit": limit}), 400, "invalid_request")
    _error(await client.get("/api/transactions", params={"limit": limit}), 400, "invalid_request")


# -- call ----------------------------------------------------------------------------------------------------


async def test_call_returns_result_and_keeps_decimals(client: httpx.AsyncClient, fake: FakeOperator) -> None:
    fake.call_outcomes["GetConfiguration"] = {
        "configurationKey": [{"key": "K", "readonly": False, "value": "8.1"}]
    }
    response = await client.post(
        "/api/chargers/CP1/call/GetConfiguration",
        content=b'{"key": ["K"], "limit": 21.4}',
        params={"timeout": "2.5"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "result": {"configurationKey": [{"key": "K", "readonly": False, "value": "8.1"}]}
    }
    assert fake.calls == [("CP1", "GetConfiguration", {"key": ["K"], "limit": Decimal("21.4")}, 2.5)]


async def test_call_default_timeout_is_none(client: httpx.AsyncClient, fake: FakeOperator) -> None:
    response = await client.post("/api/chargers/CP1/call/Reset", json={"type": "Soft"})
    assert response.json() == {"result": {"status": "Accepted"}}
    assert fake.calls[-1][3] is None


@pytest.mark.parametrize("seconds", ["0", "-1", "x", "nan", "inf", "3601"])
async def test_call_bad_timeout_is_400(client: httpx.AsyncClient, fake: FakeOperator, seconds: str) -> None:
    _error(
        await client.post("/api/chargers/CP1/call/Reset", json={}, params={"timeout": seconds}),
        400,
        "invalid_request",
    )
    assert fake.calls == []


async def test_call_to_offline_charger_is_409(client: httpx.AsyncClient) -> None:
    body = _error(
        await client.post("/api/chargers/CP2/call/Reset", json={"type": "Soft"}), 409, "charger_offline"
    )
    assert body["charger_id"] == "CP2"


@pytest.mark.parametrize(
    ("exc", "status", "kind"),
    [
        (RefusedByStateError("CP1 is Pending"), 409, "refused_by_state"),
        (CallTimeoutError("CP1", "Reset", "42", 30.0), 504, "timeout"),
        (ResponseInvalidError("Reset", "42", "status: 'Maybe' is not one of"), 502, "response_invalid"),
        (CallQueueFullError("CP1", 16), 429, "queue_full"),
        (LocalOcppError("Heartbeat is not an action the CSMS sends"), 400, "invalid_request"),
        (CallInProgressError("one at a time"), 409, "call_in_progress"),
        (ChargerOfflineError("CP1", "closed before the answer came"), 409, "charger_offline"),
    ],
)
async def test_call_error_mapping(
    client: httpx.AsyncClient, fake: FakeOperator, exc: Exception, status: int, kind: str
) -> None:
    fake.call_outcomes["Reset"] = exc
    body = _error(await client.post("/api/chargers/CP1/call/Reset", json={"type": "Soft"}), status, kind)
    assert body["reason"] == str(exc)


async def test_call_error_response_carries_code_description_details(
    client: httpx.AsyncClient, fake: FakeOperator
) -> None:
    fake.call_outcomes["Reset"] = CallErrorResponse(
        "NotSupported", "no resets here", {"why": Decimal("1.10")}
    )
    response = await client.post("/api/chargers/CP1/call/Reset", json={"type": "Soft"})
    body = _error(response, 502, "call_error")
    assert body["code"] == "NotSupported"
    assert body["description"] == "no resets here"
    assert body["details"] == {"why": 1.1}
    assert '"why":1.10' in response.text


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"[1, 2]", "invalid_request"),
        (b'"text"', "invalid_request"),
        (b"null", "invalid_request"),
        (b"{not json", "invalid_json"),
        (b'{"a": 1, "a": 2}', "invalid_json"),
        (b'{"a": NaN}', "invalid_json"),
        (b"", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b"[" * 100_000, "invalid_json"),
    ],
)
async def test_call_body_must_be_a_json_object(
    client: httpx.AsyncClient, fake: FakeOperator, content: bytes, kind: str
) -> None:
    _error(await client.post("/api/chargers/CP1/call/Reset", content=content), 400, kind)
    assert fake.calls == []


async def test_call_body_over_limit_is_413(fake: FakeOperator) -> None:
    # Raw ASGI: httpx's test transport leaves its body iterator open when the app stops reading early.
    chunk = b"x" * 65536
    chunks_sent = 0
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal chunks_sent
        chunks_sent += 1
        return {"type": "http.request", "body": chunk, "more_body": chunks_sent < 10_000}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/chargers/CP1/call/DataTransfer",
        "raw_path": b"/api/chargers/CP1/call/DataTransfer",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    await build_app(fake)(scope, receive, send)
    assert sent[0]["status"] == 413
    body = json.loads(b"".join(message.get("body", b"") for message in sent[1:]))
    assert body["error"] == "payload_too_large"
    assert chunks_sent * len(chunk) <= MAX_BODY_BYTES + len(chunk)  # stopped reading at the limit
    assert fake.calls == []


async def test_unexpected_exception_is_a_logged_generic_500(
    client: httpx.AsyncClient, fake: FakeOperator, caplog: pytest.LogCaptureFixture
) -> None:
    fake.call_outcomes["Reset"] = RuntimeError("secret internals")
    with caplog.at_level(logging.ERROR, logger="engine.api.http"):
        response = await client.post("/api/chargers/CP1/call/Reset", json={})
    body = _error(response, 500, "internal_error")
    assert "secret" not in body["reason"]
    assert any(record.exc_info and "secret internals" in str(record.exc_info[1]) for record in caplog.records)


# -- transactions, meter values ------------------------------------------------------------------------------


async def test_transactions_filters(client: httpx.AsyncClient) -> None:
    everything = (await client.get("/api/transactions")).json()
    assert [(t["transaction_id"], t["active"]) for t in everything] == [(2, True), (1, False)]
    assert everything[1]["flags"] == ["meter_decreased"]
    active = (await client.get("/api/transactions", params={"active": "true"})).json()
    assert [t["transaction_id"] for t in active] == [2]
    closed = (await client.get("/api/transactions", params={"active": "false"})).json()
    assert [t["transaction_id"] for t in closed] == [1]
    by_charger = (await client.get("/api/transactions", params={"charger": "CP2"})).json()
    assert [t["transaction_id"] for t in by_charger] == [1]
    limited = (await client.get("/api/transactions", params={"limit": "1"})).json()
    assert len(limited) == 1


async def test_transactions_bad_active_is_400(client: httpx.AsyncClient) -> None:
    _error(await client.get("/api/transactions", params={"active": "maybe"}), 400, "invalid_request")


async def test_transaction_detail_with_meter_values(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/transactions/2")
    assert response.status_code == 200
    body = response.json()
    assert body["transaction_id"] == 2
    assert body["active"] is True
    assert [m["sampled_values"][0]["value"] for m in body["meter_values"]] == ["110"]
    assert '"multiplier":0.1' in response.text


async def test_transaction_errors(client: httpx.AsyncClient) -> None:
    body = _error(await client.get("/api/transactions/99"), 404, "not_found")
    assert body["transaction_id"] == 99
    _error(await client.get("/api/transactions/abc"), 400, "invalid_request")


async def test_meter_values_filters(client: httpx.AsyncClient) -> None:
    values = (await client.get("/api/meter-values")).json()
    assert len(values) == 3
    cp1 = (await client.get("/api/meter-values", params={"charger": "CP1"})).json()
    assert [m["sampled_values"][0]["value"] for m in cp1] == ["110", "1"]
    tx1 = (await client.get("/api/meter-values", params={"transaction": "1"})).json()
    assert [m["charger_id"] for m in tx1] == ["CP2"]
    one = (await client.get("/api/meter-values", params={"limit": "1"})).json()
    assert len(one) == 1
    _error(await client.get("/api/meter-values", params={"transaction": "x"}), 400, "invalid_request")


# -- id tags -------------------------------------------------------------------------------------------------


async def test_id_tags_list_put_delete(client: httpx.AsyncClient, fake: FakeOperator) -> None:
    assert (await client.get("/api/id-tags")).json() == [
        {"id_tag": "TAG1", "status": "Accepted", "expiry_date": None, "parent_id_tag": None}
    ]
    response = await client.put(
        "/api/id-tags/NEW-TAG",
        json={"status": "Blocked", "expiry_date": "2027-01-01T02:00:00+02:00", "parent_id_tag": "TAG1"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "id_tag": "NEW-TAG",
        "status": "Blocked",
        "expiry_date": "2027-01-01T00:00:00.000Z",
        "parent_id_tag": "TAG1",
    }
    assert fake.tags["new-tag"].status == "Blocked"
    minimal = await client.put("/api/id-tags/T2", json={"status": "Accepted"})
    assert minimal.json()["expiry_date"] is None
    deleted = await client.delete("/api/id-tags/new-tag")
    assert deleted.status_code == 200
    assert deleted.json() == {"deleted": True, "id_tag": "new-tag"}
    assert "new-tag" not in fake.tags
    body = _error(await client.delete("/api/id-tags/new-tag"), 404, "not_found")
    assert body["id_tag"] == "new-tag"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"status": "ConcurrentTx"},
        {"status": "accepted"},
        {"status": ["Accepted"]},
        {"status": "Accepted", "expiry_date": "tomorrow"},
        {"status": "Accepted", "expiry_date": 5},
        {"status": "Accepted", "parent_id_tag": "P" * 21},
        {"status": "Accepted", "parent_id_tag": ""},
        {"status": "Accepted", "colour": "red"},
    ],
)
async def test_put_id_tag_validates(client: httpx.AsyncClient, fake: FakeOperator, body: Any) -> None:
    _error(await client.put("/api/id-tags/T3", json=body), 400, "invalid_request")
    assert "t3" not in fake.tags


async def test_put_id_tag_too_long_is_400(client: httpx.AsyncClient) -> None:
    _error(await client.put("/api/id-tags/" + "T" * 21, json={"status": "Accepted"}), 400, "invalid_request")


# -- default policy ------------------------------------------------------------------------------------------


async def test_get_policy(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/policy")).json() == {
        "boot": "Accepted",
        "heartbeat_interval": 300,
        "boot_retry_interval": 60,
        "unknown_chargers": "register",
        "accept_unknown_id_tags": False,
        "id_tag_cache_ttl": None,
    }


async def test_patch_policy(client: httpx.AsyncClient, fake: FakeOperator) -> None:
    changes = {
        "boot": "PendingOnce",
        "heartbeat_interval": 60,
        "boot_retry_interval": 0,
        "unknown_chargers": "reject",
        "accept_unknown_id_tags": True,
        "id_tag_cache_ttl": 3600,
    }
    response = await client.patch("/api/policy", json=changes)
    assert response.status_code == 200
    assert response.json() == changes
    assert fake.policy.boot is BootPolicy.PENDING_ONCE
    assert fake.policy.unknown_chargers is UnknownChargerPolicy.REJECT
    response = await client.patch("/api/policy", json={"id_tag_cache_ttl": None})
    assert response.json()["id_tag_cache_ttl"] is None
    unchanged = await client.patch("/api/policy", json={})
    assert unchanged.json()["boot"] == "PendingOnce"
    assert len(fake.policy_updates) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"boot": "Sometimes"},
        {"boot": None},
        {"heartbeat_interval": None},
        {"heartbeat_interval": -5},
        {"heartbeat_interval": True},
        {"boot_retry_interval": "60"},
        {"unknown_chargers": "Reject"},
        {"accept_unknown_id_tags": 1},
        {"id_tag_cache_ttl": 1.5},
        {"recent": {}},
        {"boot_policy": "Pending"},
    ],
)
async def test_patch_policy_validates(client: httpx.AsyncClient, fake: FakeOperator, body: Any) -> None:
    _error(await client.patch("/api/policy", json=body), 400, "invalid_request")
    assert fake.policy_updates == []


async def test_patch_policy_malformed(client: httpx.AsyncClient) -> None:
    _error(await client.patch("/api/policy", content=b"[]"), 400, "invalid_request")
    _error(await client.patch("/api/policy", content=b"{"), 400, "invalid_json")


def test_policy_fields_cover_csms_policy() -> None:
    assert set(POLICY_FIELDS) == {field.name for field in dataclasses.fields(CsmsPolicy)}


# -- routing errors, auth ------------------------------------------------------------------------------------


async def test_unknown_endpoint_and_method_are_json(client: httpx.AsyncClient) -> None:
    _error(await client.get("/api/nothing"), 404, "not_found")
    _error(await client.get("/"), 404, "not_found")
    body = _error(await client.delete("/api/chargers"), 405, "method_not_allowed")
    assert "DELETE" in body["reason"]


async def test_token_required_everywhere(fake: FakeOperator) -> None:
    async with _client(fake, token=TOKEN) as client:
        for path in ("/api/health", "/api/chargers", "/api/openapi.json", "/api/nothing"):
            response = await client.get(path)
            _error(response, 401, "unauthorized")
            assert response.headers["www-authenticate"] == "Bearer"
        for header in (f"Basic {TOKEN}", "Bearer wrong", "Bearer", f"Bearer {TOKEN}x", TOKEN):
            _error(await client.get("/api/health", headers={"Authorization": header}), 401, "unauthorized")
        _error(await client.post("/api/chargers/CP1/call/Reset", json={}), 401, "unauthorized")
        assert fake.calls == []
        for header in (f"Bearer {TOKEN}", f"bearer {TOKEN}", f"Bearer  {TOKEN} "):
            response = await client.get("/api/health", headers={"Authorization": header})
            assert response.status_code == 200, header


@pytest.mark.parametrize("token", ["", "has space", "ünïcode", "tab\t"])
def test_bad_tokens_refused(fake: FakeOperator, token: str) -> None:
    with pytest.raises(ValueError, match="token"):
        build_app(fake, token=token)


async def test_serve_http_refuses_public_host_without_token(fake: FakeOperator) -> None:
    with pytest.raises(ValueError, match="without a token"):
        await serve_http(fake, "0.0.0.0", 0, token=None)
    with pytest.raises(ValueError, match="without a token"):
        await serve_http(fake, "example.org", 0, token=None)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("", False),
        ("::", False),
        ("192.168.1.1", False),
        ("localhost.example", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


# -- OpenAPI -------------------------------------------------------------------------------------------------


async def test_every_route_is_documented(client: httpx.AsyncClient, fake: FakeOperator) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    routes = {
        (route.path, method.lower())
        for route in build_app(fake).routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes == documented
    for path, item in document["paths"].items():
        for operation in item.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == {part[1:-1] for part in path.split("/") if part.startswith("{")}, path


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["$ref"]} if "$ref" in value else set()
        return found.union(*(_refs(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(item) for item in value))
    return set()


async def test_openapi_schemas_match_the_records(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for ref in _refs(document):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    expected = {
        "Charger": ({f.name for f in dataclasses.fields(ChargerRecord)} | {"connected"}),
        "Connector": {f.name for f in dataclasses.fields(ConnectorRecord)},
        "Transaction": ({f.name for f in dataclasses.fields(TransactionRecord)} | {"active"}),
        "MeterValue": {f.name for f in dataclasses.fields(MeterValueRecord)},
        "IdTag": {f.name for f in dataclasses.fields(IdTagRecord)},
        "LogRecord": {f.name for f in dataclasses.fields(LogRecord)},
        "Policy": {f.name for f in dataclasses.fields(CsmsPolicy)},
    }
    for name, fields in expected.items():
        assert set(schemas[name]["properties"]) == fields, name
    charger = (await client.get("/api/chargers/CP1")).json()
    assert set(charger) == expected["Charger"] | {"connectors"}
