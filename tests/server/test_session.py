"""Charger sessions over in-memory streams in virtual time: dispatch, call(), limits, closing, replacement.

Every test connects a trio-websocket client to ``Csms.serve_stream`` through ``memory_stream_pair``, so
timeouts are asserted exactly with the ``autojump_clock`` fixture.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing
from trio_websocket import ConnectionClosed, WebSocketConnection, wrap_client_stream
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Ping, Request

from engine.clock import FixedClock, format_timestamp
from engine.config import Config, ServerConfig
from engine.profiles.base import ChargerContext, Handler, Payload, RefusedByStateError
from engine.protocol.errors import ErrorCode, LocalOcppError, RemoteOcppError
from engine.protocol.validation import default_registry
from engine.server import (
    CallErrorResponse,
    CallQueueFullError,
    CallTimeoutError,
    ChargerOfflineError,
    Csms,
    ResponseInvalidError,
)
from engine.store import MemoryStore

BOOT = {"chargePointVendor": "Vendor", "chargePointModel": "Model"}
NOW = "2026-01-01T00:00:00.000Z"


async def boot(ctx: ChargerContext, payload: Payload) -> Payload:
    return {"status": "Accepted", "currentTime": format_timestamp(ctx.utc_now()), "interval": 300}


async def heartbeat(ctx: ChargerContext, payload: Payload) -> Payload:
    return {"currentTime": format_timestamp(ctx.utc_now())}


HANDLERS: dict[str, Handler] = {"BootNotification": boot, "Heartbeat": heartbeat}


def make_csms(
    handlers: Mapping[str, Handler] = HANDLERS, config: Config | None = None, **server: Any
) -> Csms:
    if config is None:
        # Server pings are off unless a test is about them: trio-websocket's client answers a ping that
        # crosses its own close with an error (trio-websocket #184), which would fail unrelated tests.
        config = Config(server=ServerConfig(**{"ping_interval": 0, **server}))
    return Csms(
        config, schemas=default_registry(), handlers=handlers, clock=FixedClock(), store=MemoryStore()
    )


@asynccontextmanager
async def charger(csms: Csms, identity: str = "CP-1") -> AsyncIterator[WebSocketConnection]:
    """A websocket client connected to ``csms`` over memory streams."""
    server_stream, client_stream = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(csms.serve_stream, server_stream)
        ws = await wrap_client_stream(
            nursery,
            client_stream,  # type: ignore[arg-type]
            "localhost",
            f"/ocpp/{identity}",
            subprotocols=["ocpp1.6"],
        )
        try:
            yield ws
        finally:
            await ws.aclose()


async def receive(ws: WebSocketConnection) -> list[Any]:
    message = await ws.get_message()
    assert isinstance(message, str)
    frame = json.loads(message)
    assert isinstance(frame, list)
    return frame


async def rpc(ws: WebSocketConnection, uid: str, action: str, payload: Payload) -> list[Any]:
    await ws.send_message(json.dumps([2, uid, action, payload]))
    return await receive(ws)


async def closed_with(ws: WebSocketConnection) -> tuple[int, str | None]:
    with pytest.raises(ConnectionClosed) as info:
        while True:
            await ws.get_message()
    reason = info.value.reason
    assert reason is not None
    return reason.code, reason.reason


# ---------------------------------------------------------------------------------------------- dispatch


async def test_boot_and_heartbeat_are_answered(autojump_clock: trio.testing.MockClock) -> None:
    csms = make_csms()
    async with charger(csms) as ws:
        assert ws.subprotocol == "ocpp1.6"
        assert await rpc(ws, "1", "BootNotification", BOOT) == [
            3,
            "1",
            {"status": "Accepted", "currentTime": NOW, "interval": 300},
        ]
        assert await rpc(ws, "2", "Heartbeat", {}) == [3, "2", {"currentTime": NOW}]
        assert csms.connected_chargers() == ["CP-1"]
    await trio.testing.wait_all_tasks_blocked()
    assert csms.connected_chargers() == []


async def test_schema_invalid_call_gets_a_callerror_and_a_log_line(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with charger(make_csms()) as ws:
        answer = await rpc(ws, "b1", "BootNotification", {"chargePointVendor": "V"})
        assert answer[:3] == [4, "b1", "ProtocolError"]
    assert "CP-1 CALLERROR ProtocolError for BootNotification id=b1: " in caplog.text


async def test_action_without_handler_is_not_supported(autojump_clock: trio.testing.MockClock) -> None:
    async with charger(make_csms()) as ws:
        answer = await rpc(ws, "a1", "Authorize", {"idTag": "TAG"})
        assert answer[:3] == [4, "a1", "NotSupported"]


async def test_handler_crash_is_internal_error_and_the_session_lives_on(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    async def crash(ctx: ChargerContext, payload: Payload) -> Payload:
        raise ZeroDivisionError("boom")

    async with charger(make_csms({**HANDLERS, "Authorize": crash})) as ws:
        answer = await rpc(ws, "a1", "Authorize", {"idTag": "TAG"})
        assert answer[:3] == [4, "a1", "InternalError"]
        assert answer[4] == {}
        assert await rpc(ws, "h1", "Heartbeat", {}) == [3, "h1", {"currentTime": NOW}]
    crash_records = [r for r in caplog.records if "handler for Authorize id=a1 crashed" in r.getMessage()]
    assert len(crash_records) == 1
    assert crash_records[0].exc_info is not None  # logged with its traceback
    assert "CP-1 CALLERROR InternalError for Authorize id=a1" in caplog.text


async def test_remote_error_from_a_handler_becomes_its_callerror(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def refuse(ctx: ChargerContext, payload: Payload) -> Payload:
        raise RemoteOcppError(ErrorCode.SECURITY_ERROR, "not accepted yet", {"why": "pending"})

    async with charger(make_csms({"Heartbeat": refuse})) as ws:
        assert await rpc(ws, "h1", "Heartbeat", {}) == [
            4,
            "h1",
            "SecurityError",
            "not accepted yet",
            {"why": "pending"},
        ]


async def test_handler_building_an_invalid_answer_is_internal_error(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    async def sloppy(ctx: ChargerContext, payload: Payload) -> Payload:
        return {"currentTime": "yesterday"}

    async with charger(make_csms({"Heartbeat": sloppy})) as ws:
        answer = await rpc(ws, "h1", "Heartbeat", {})
        assert answer[:3] == [4, "h1", "InternalError"]
    assert "built an invalid answer" in caplog.text


async def test_repeated_call_id_gets_the_cached_answer_without_running_twice(
    autojump_clock: trio.testing.MockClock,
) -> None:
    runs = 0

    async def counting(ctx: ChargerContext, payload: Payload) -> Payload:
        nonlocal runs
        runs += 1
        return {"currentTime": NOW}

    async with charger(make_csms({"Heartbeat": counting})) as ws:
        first = await rpc(ws, "h1", "Heartbeat", {})
        assert await rpc(ws, "h1", "Heartbeat", {}) == first
    assert runs == 1


async def test_retry_after_reconnect_is_recognised(autojump_clock: trio.testing.MockClock) -> None:
    runs = 0

    async def counting(ctx: ChargerContext, payload: Payload) -> Payload:
        nonlocal runs
        runs += 1
        return {"currentTime": NOW}

    csms = make_csms({"Heartbeat": counting})
    async with charger(csms) as ws:
        first = await rpc(ws, "h1", "Heartbeat", {})
    async with charger(csms) as ws:
        assert await rpc(ws, "h1", "Heartbeat", {}) == first
    assert runs == 1


async def test_calls_beyond_max_concurrent_handlers_wait_and_are_answered_in_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    release = trio.Event()
    started: list[str] = []

    async def slow(ctx: ChargerContext, payload: Payload) -> Payload:
        started.append(payload["vendorId"])
        await release.wait()
        return {"status": "Accepted"}

    csms = make_csms({"DataTransfer": slow}, max_concurrent_handlers=2, max_queued_incoming=10)
    async with charger(csms) as ws:
        for n in range(6):
            await ws.send_message(f'[2,"d{n}","DataTransfer",{{"vendorId":"v{n}"}}]')
        await trio.testing.wait_all_tasks_blocked()
        assert started == ["v0", "v1"]  # the rest wait; the reader still reads
        release.set()
        answers = [await receive(ws) for _ in range(6)]
        assert sorted(a[1] for a in answers) == [f"d{n}" for n in range(6)]
        assert all(a[0] == 3 for a in answers)
        assert started == [f"v{n}" for n in range(6)]  # started in arrival order


async def test_a_backlog_past_its_bound_closes_1008(autojump_clock: trio.testing.MockClock) -> None:
    release = trio.Event()

    async def slow(ctx: ChargerContext, payload: Payload) -> Payload:
        await release.wait()
        return {"status": "Accepted"}

    csms = make_csms({"DataTransfer": slow}, max_concurrent_handlers=1, max_queued_incoming=2)
    async with charger(csms) as ws:
        for n in range(4):
            await ws.send_message(f'[2,"d{n}","DataTransfer",{{"vendorId":"v"}}]')
        assert (await closed_with(ws))[0] == 1008


async def test_handler_can_call_back_the_same_charger_while_the_reader_runs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: list[Payload] = []

    async def asks_back(ctx: ChargerContext, payload: Payload) -> Payload:
        seen.append(await ctx.call("GetConfiguration", {"key": ["HeartbeatInterval"]}))
        return {"currentTime": NOW}

    async with charger(make_csms({"Heartbeat": asks_back})) as ws:
        await ws.send_message('[2,"h1","Heartbeat",{}]')
        call = await receive(ws)
        assert call[0] == 2
        assert call[2:] == ["GetConfiguration", {"key": ["HeartbeatInterval"]}]
        answer = {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]}
        await ws.send_message(json.dumps([3, call[1], answer]))
        assert await receive(ws) == [3, "h1", {"currentTime": NOW}]
    assert seen == [answer]


# ---------------------------------------------------------------------------------------------- call()


async def test_call_returns_the_result_payload(autojump_clock: trio.testing.MockClock) -> None:
    csms = make_csms()
    async with charger(csms) as ws, trio.open_nursery() as nursery:
        results: list[Payload] = []

        async def operator() -> None:
            results.append(await csms.call("CP-1", "ClearCache", {}))

        nursery.start_soon(operator)
        call = await receive(ws)
        assert call[2:] == ["ClearCache", {}]
        assert len(call[1]) == 36  # a UUID, never a counter that restarts (R1.18)
        await ws.send_message(json.dumps([3, call[1], {"status": "Accepted"}]))
    assert results == [{"status": "Accepted"}]


async def test_call_without_answer_times_out_at_exactly_the_response_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    csms = make_csms()
    async with charger(csms) as ws:
        start = trio.current_time()
        with pytest.raises(CallTimeoutError) as info:
            await csms.call("CP-1", "ClearCache", {})
        assert trio.current_time() - start == 30.0
        assert info.value.action == "ClearCache"
        late_id = info.value.unique_id
        # The late answer is discarded and the next call works normally.
        call = await receive(ws)
        assert call[1] == late_id
        await ws.send_message(json.dumps([3, late_id, {"status": "Accepted"}]))
        async with trio.open_nursery() as nursery:
            results: list[Payload] = []

            async def operator() -> None:
                results.append(await csms.call("CP-1", "ClearCache", {}, timeout=5))

            nursery.start_soon(operator)
            call = await receive(ws)
            await ws.send_message(json.dumps([3, call[1], {"status": "Rejected"}]))
        assert results == [{"status": "Rejected"}]


async def test_per_charger_response_timeout(autojump_clock: trio.testing.MockClock) -> None:
    config = Config(server=ServerConfig(ping_interval=0), chargers={"CP-1": {"response_timeout": 60.0}})
    csms = make_csms(config=config)
    async with charger(csms):
        start = trio.current_time()
        with pytest.raises(CallTimeoutError):
            await csms.call("CP-1", "ClearCache", {})
        assert trio.current_time() - start == 60.0


async def test_callerror_and_invalid_answers_raise_typed_errors(
    autojump_clock: trio.testing.MockClock,
) -> None:
    csms = make_csms()
    async with charger(csms) as ws, trio.open_nursery() as nursery:
        errors: list[Exception] = []

        async def operator() -> None:
            for _ in range(2):
                try:
                    await csms.call("CP-1", "ClearCache", {})
                except (CallErrorResponse, ResponseInvalidError) as exc:
                    errors.append(exc)

        nursery.start_soon(operator)
        call = await receive(ws)
        await ws.send_message(json.dumps([4, call[1], "FormatViolation", "2.0.1 spelling", {"a": 1}]))
        call = await receive(ws)
        await ws.send_message(json.dumps([3, call[1], {"status": "OK"}]))
    first, second = errors
    assert isinstance(first, CallErrorResponse)
    assert (first.code, first.description, first.details) == ("FormatViolation", "2.0.1 spelling", {"a": 1})
    assert isinstance(second, ResponseInvalidError)
    assert second.action == "ClearCache"


async def test_invalid_request_is_a_local_error_and_nothing_is_sent(
    autojump_clock: trio.testing.MockClock,
) -> None:
    csms = make_csms()
    async with charger(csms):
        with pytest.raises(LocalOcppError):
            await csms.call("CP-1", "ClearCache", {"unexpected": 1})
        with pytest.raises(LocalOcppError):
            await csms.call("CP-1", "Heartbeat", {})


async def test_calls_queue_fifo_and_the_bound_raises(autojump_clock: trio.testing.MockClock) -> None:
    csms = make_csms(max_queued_calls=2)
    async with charger(csms) as ws, trio.open_nursery() as nursery:
        results: list[tuple[int, Payload]] = []

        async def operator(number: int) -> None:
            results.append((number, await csms.call("CP-1", "DataTransfer", {"vendorId": f"v{number}"})))

        for number in range(3):  # one outstanding, two queued
            nursery.start_soon(operator, number)
            await trio.testing.wait_all_tasks_blocked()
        with pytest.raises(CallQueueFullError):
            await csms.call("CP-1", "ClearCache", {})
        for number in range(3):
            call = await receive(ws)
            assert call[2:] == ["DataTransfer", {"vendorId": f"v{number}"}]
            # Only one CALL is outstanding: nothing else was sent before this answer.
            await ws.send_message(json.dumps([3, call[1], {"status": "Accepted", "data": str(number)}]))
    assert results == [(n, {"status": "Accepted", "data": str(n)}) for n in range(3)]


async def test_pending_and_queued_calls_fail_when_the_charger_goes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    csms = make_csms()
    failures: list[Exception] = []
    async with trio.open_nursery() as nursery, charger(csms) as ws:

        async def operator() -> None:
            try:
                await csms.call("CP-1", "ClearCache", {})
            except ChargerOfflineError as exc:
                failures.append(exc)

        nursery.start_soon(operator)
        nursery.start_soon(operator)
        await receive(ws)
        # leaving the block closes the charger's side
    assert len(failures) == 2
    with pytest.raises(ChargerOfflineError):
        await csms.call("CP-1", "ClearCache", {})


# ---------------------------------------------------------------------------------------------- closing


async def test_binary_frame_closes_1003(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with charger(make_csms()) as ws:
        await ws.send_message(b"\x00\x01")
        assert await closed_with(ws) == (1003, "binary frames are not OCPP-J")
    assert "CP-1 disconnected code=1003 reason=binary frames are not OCPP-J" in caplog.text


async def test_message_over_the_size_limit_closes_1009(autojump_clock: trio.testing.MockClock) -> None:
    async with charger(make_csms()) as ws:
        await ws.send_message(
            '[2,"1","DataTransfer",{"vendorId":"v","data":"' + "x" * 2 * 1024 * 1024 + '"}]'
        )
        code, _ = await closed_with(ws)
        assert code == 1009


async def test_ten_unparseable_frames_in_a_row_close_1008(autojump_clock: trio.testing.MockClock) -> None:
    async with charger(make_csms()) as ws:
        for _ in range(10):
            await ws.send_message("hello")
        code, reason = await closed_with(ws)
        assert code == 1008
        assert reason is not None
        assert "10 malformed frames" in reason


class SilentClient:
    """A websocket client that completes the handshake and then never reads (so never pongs)."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.ws = WSConnection(ConnectionType.CLIENT)

    async def handshake(self, target: str) -> None:
        request = Request(host="localhost", target=target, subprotocols=["ocpp1.6"])
        await self.stream.send_all(self.ws.send(request))
        while True:
            self.ws.receive_data(bytes(await self.stream.receive_some()))
            for event in self.ws.events():
                assert isinstance(event, AcceptConnection)
                return

    async def read_until_eof(self) -> list[object]:
        events: list[object] = []
        while data := await self.stream.receive_some():
            self.ws.receive_data(bytes(data))
            events.extend(self.ws.events())
        return events


async def test_no_pong_within_the_timeout_closes_1011(autojump_clock: trio.testing.MockClock) -> None:
    csms = make_csms(ping_interval=60)
    server_stream, client_stream = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(csms.serve_stream, server_stream)
        client = SilentClient(client_stream)
        await client.handshake("/ocpp/CP-1")
        start = trio.current_time()
        await trio.sleep(89)
        assert csms.connected_chargers() == ["CP-1"]
        # Ping at 60 s, no pong by 90 s: close 1011; the close handshake then waits close_timeout (5 s).
        events = await client.read_until_eof()
        assert trio.current_time() - start == 95.0
        assert any(isinstance(e, Ping) for e in events)
        closes = [e for e in events if isinstance(e, CloseConnection)]
        assert [(c.code, c.reason) for c in closes] == [(1011, "ping timeout")]
        await client_stream.aclose()
    assert csms.connected_chargers() == []


async def test_pings_answered_keep_the_session_open(autojump_clock: trio.testing.MockClock) -> None:
    csms = make_csms(ping_interval=60)
    async with charger(csms) as ws:
        await trio.sleep(600)
        assert csms.connected_chargers() == ["CP-1"]
        assert await rpc(ws, "h", "Heartbeat", {}) == [3, "h", {"currentTime": NOW}]


# ---------------------------------------------------------------------------------------------- registry


async def test_second_connection_replaces_the_first(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    csms = make_csms()
    failures: list[ChargerOfflineError] = []
    async with charger(csms) as old, trio.open_nursery() as nursery:

        async def operator() -> None:
            try:
                await csms.call("CP-1", "ClearCache", {})
            except ChargerOfflineError as exc:
                failures.append(exc)

        nursery.start_soon(operator)
        await receive(old)  # the old connection has a pending call
        async with charger(csms) as new:
            assert await closed_with(old) == (1000, "replaced")
            await trio.sleep(10)  # let the old session's clean-up run to the end
            assert "CP-1 disconnected code=1000 reason=replaced" in caplog.text
            assert csms.connected_chargers() == ["CP-1"]
            assert await rpc(new, "h1", "Heartbeat", {}) == [3, "h1", {"currentTime": NOW}]

            async def answer_one() -> None:
                call = await receive(new)
                await new.send_message(json.dumps([3, call[1], {"status": "Accepted"}]))

            nursery.start_soon(answer_one)
            assert await csms.call("CP-1", "ClearCache", {}) == {"status": "Accepted"}
    assert len(failures) == 1
    assert "replaced" in str(failures[0])


async def test_one_chargers_failure_does_not_affect_another(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenForDataTransfer:
        """Schemas that blow up inside the reader: a bug in the core, not in a handler."""

        def __init__(self) -> None:
            self.real = default_registry()

        def has_action(self, action: str) -> bool:
            return self.real.has_action(action)

        def validate_request(self, action: str, payload: dict[str, Any]) -> None:
            if action == "DataTransfer":
                raise RuntimeError("schema layer bug")
            self.real.validate_request(action, payload)

        def validate_response(self, action: str, payload: dict[str, Any]) -> None:
            self.real.validate_response(action, payload)

    csms = Csms(
        Config(server=ServerConfig(ping_interval=0)),
        schemas=BrokenForDataTransfer(),
        handlers=HANDLERS,
        clock=FixedClock(),
        store=MemoryStore(),
    )
    async with charger(csms, "CP-A") as a, charger(csms, "CP-B") as b:
        await a.send_message('[2,"d1","DataTransfer",{"vendorId":"x"}]')
        assert await closed_with(a) == (1011, "internal error")
        assert await rpc(b, "h1", "Heartbeat", {}) == [3, "h1", {"currentTime": NOW}]
        assert csms.connected_chargers() == ["CP-B"]
    assert "connection from" in caplog.text
    assert "schema layer bug" in caplog.text


# ---------------------------------------------------------------------------------------------- shutdown


async def test_server_shutdown_closes_chargers_1001(autojump_clock: trio.testing.MockClock) -> None:
    csms = make_csms()
    server_stream, client_stream = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        serving = trio.CancelScope()

        async def serve() -> None:
            with serving:
                await csms.serve_stream(server_stream)

        nursery.start_soon(serve)
        ws = await wrap_client_stream(
            nursery,
            client_stream,  # type: ignore[arg-type]
            "localhost",
            "/ocpp/CP-1",
            subprotocols=["ocpp1.6"],
        )
        serving.cancel()
        assert await closed_with(ws) == (1001, "server shutting down")
        await ws.aclose()
    assert csms.connected_chargers() == []


# ---------------------------------------------------------------------------------------------- profiles


def production_csms(store: MemoryStore) -> Csms:
    """The real profiles (registration gate included) over a memory store."""
    config = Config(server=ServerConfig(ping_interval=0))
    return Csms(config, schemas=default_registry(), clock=FixedClock(), store=store)


async def test_real_profiles_gate_and_registration_survives_reconnect_and_restart(
    autojump_clock: trio.testing.MockClock,
) -> None:
    store = MemoryStore()
    csms = production_csms(store)
    async with charger(csms) as ws:
        assert (await rpc(ws, "h0", "Heartbeat", {}))[:3] == [4, "h0", "SecurityError"]
        with pytest.raises(RefusedByStateError):
            await csms.call("CP-1", "ClearCache", {})
        assert (await rpc(ws, "b1", "BootNotification", BOOT))[2]["status"] == "Accepted"
    async with charger(csms) as ws:  # reconnect without BootNotification (J §5.4)
        assert await rpc(ws, "h1", "Heartbeat", {}) == [3, "h1", {"currentTime": NOW}]
    restarted = production_csms(store)  # the store is the truth after a restart
    async with charger(restarted) as ws:
        assert await rpc(ws, "h2", "Heartbeat", {}) == [3, "h2", {"currentTime": NOW}]


async def test_operator_call_goes_through_the_outgoing_hooks(autojump_clock: trio.testing.MockClock) -> None:
    csms = production_csms(MemoryStore())
    async with charger(csms) as ws, trio.open_nursery() as nursery:
        await rpc(ws, "b1", "BootNotification", BOOT)
        results: list[Payload] = []

        async def operator() -> None:
            results.append(await csms.call("CP-1", "GetConfiguration", {}))

        nursery.start_soon(operator)
        call = await receive(ws)
        answer = {"configurationKey": [{"key": "AuthorizationKey", "readonly": False, "value": "secret"}]}
        await ws.send_message(json.dumps([3, call[1], answer]))
    assert results == [answer]
    record = csms.store.get_charger("CP-1")
    assert record is not None
    assert record.configuration == {"AuthorizationKey": "<redacted>"}
