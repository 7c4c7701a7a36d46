"""A small scripted Central System for the conformance-suite tests, and an operator adapter driving it.

``FakeCsms.serve_stream`` has the shape of ``engine.server.Csms.serve_stream``, so ``InProcessTarget``
reaches it over memory streams (virtual time works); ``FakeCsms.serve_tcp`` runs it on a real socket.
It answers every charger action like a well-behaved CSMS; tests bend it with ``overrides``: a function
per action returning the raw frame text to send (or None: never answer).
"""

from __future__ import annotations

import base64
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import trio
from trio_websocket import (
    ConnectionClosed,
    WebSocketConnection,
    WebSocketRequest,
    serve_websocket,
    wrap_server_stream,
)

from conformance.config import RunConfig
from conformance.operators import OperatorResult
from engine.protocol.frames import (
    Call,
    CallError,
    CallResult,
    encode_call,
    encode_error,
    encode_result,
    parse_frame,
)

NOW = "2026-01-01T00:00:00.000Z"

Override = Callable[[str, dict[str, Any]], str | None]


@dataclass
class _ServerConfig:
    path_prefix: str = "/ocpp"


@dataclass
class _Config:
    server: _ServerConfig = field(default_factory=_ServerConfig)


class FakeCsms:
    def __init__(self, run_config: RunConfig | None = None, *, password: str | None = None) -> None:
        self.run_config = run_config if run_config is not None else RunConfig()
        self.config = _Config()
        self.password = password
        self.ws: WebSocketConnection | None = None
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.errors_received: list[tuple[str, str]] = []
        self.overrides: dict[str, Override] = {}
        #: statuses for the next BootNotifications (then Accepted)
        self.boot_queue: list[str] = []
        self.boot_policy: str | None = None
        self.boot_interval = 10
        self.heartbeat_interval = 300
        #: (delay, action, payload): CALLs the CSMS sends on its own after the charger's BootNotification
        self.after_boot: list[tuple[float, str, dict[str, Any]]] = []
        self.answer_delay: dict[str, float] = {}
        self.connections = 0
        self._next_transaction = 1
        self._pending: dict[str, tuple[trio.Event, list[Any]]] = {}
        self.provisioned: RunConfig | None = None
        self.headers_seen: list[dict[str, str]] = []

    # --------------------------------------------------------------------------------------- serving

    async def serve_stream(self, stream: trio.abc.Stream) -> None:
        async with trio.open_nursery() as nursery:
            request = await wrap_server_stream(nursery, stream)
            await self._handle(request)
            nursery.cancel_scope.cancel()

    async def serve_tcp(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        async with trio.open_nursery() as nursery:
            server = await nursery.start(serve_websocket, self._handle, "127.0.0.1", 0, ssl_context)
            task_status.started(server.port)

    async def _handle(self, request: WebSocketRequest) -> None:
        headers = {k.decode().lower(): v.decode() for k, v in request.headers}
        self.headers_seen.append(headers)
        if self.password is not None:
            expected = (
                "Basic " + base64.b64encode(f"{self.run_config.charger_id}:{self.password}".encode()).decode()
            )
            if headers.get("authorization") != expected:
                await request.reject(401, body=b"unauthorized")
                return
        if "ocpp1.6" not in request.proposed_subprotocols:
            await request.reject(400, body=b"subprotocol")
            return
        ws = await request.accept(subprotocol="ocpp1.6")
        self.ws = ws
        self.connections += 1
        try:
            await self._read(ws)
        except* ConnectionClosed:
            pass

    async def _read(self, ws: WebSocketConnection) -> None:
        if True:
            async with trio.open_nursery() as nursery:
                while True:
                    text = await ws.get_message()
                    assert isinstance(text, str)
                    frame = parse_frame(text)
                    if isinstance(frame, Call):
                        nursery.start_soon(self._answer, ws, frame, nursery)
                    elif isinstance(frame, CallResult | CallError):
                        waiter = self._pending.pop(frame.unique_id, None)
                        if isinstance(frame, CallError):
                            self.errors_received.append((frame.unique_id, frame.error_code))
                        if waiter is not None:
                            waiter[1].append(frame)
                            waiter[0].set()

    async def _answer(self, ws: WebSocketConnection, frame: Call, nursery: trio.Nursery) -> None:
        self.received.append((frame.action, frame.payload))
        delay = self.answer_delay.get(frame.action)
        if delay:
            await trio.sleep(delay)
        override = self.overrides.get(frame.action)
        if override is not None:
            text = override(frame.unique_id, frame.payload)
        else:
            text = encode_result(frame.unique_id, self.respond(frame.action, frame.payload))
        if text is None:
            return
        try:
            await ws.send_message(text)
        except ConnectionClosed:
            return
        if frame.action == "BootNotification":
            for delay_s, action, payload in self.after_boot:
                nursery.start_soon(self._later, delay_s, action, payload)

    async def _later(self, delay: float, action: str, payload: dict[str, Any]) -> None:
        await trio.sleep(delay)
        await self.send_call(action, payload, wait=False)

    def respond(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        tags = self.run_config.id_tags
        if action == "BootNotification":
            status = self.boot_queue.pop(0) if self.boot_queue else "Accepted"
            interval = self.heartbeat_interval if status == "Accepted" else self.boot_interval
            return {"status": status, "currentTime": NOW, "interval": interval}
        if action == "Heartbeat":
            return {"currentTime": NOW}
        if action in ("Authorize", "StartTransaction"):
            status = {tags.valid: "Accepted", tags.expired: "Expired", tags.blocked: "Blocked"}.get(
                payload["idTag"], "Invalid"
            )
            answer: dict[str, Any] = {"idTagInfo": {"status": status}}
            if action == "StartTransaction":
                answer["transactionId"] = self._next_transaction
                self._next_transaction += 1
            return answer
        if action == "StopTransaction":
            return {"idTagInfo": {"status": "Accepted"}} if "idTag" in payload else {}
        if action == "DataTransfer":
            return {"status": "UnknownVendorId"}
        return {}

    # -------------------------------------------------------------------------------------- operating

    async def send_call(self, action: str, payload: dict[str, Any], *, wait: bool = True) -> Any:
        ws = self.ws
        if ws is None:
            raise RuntimeError("no charger connected")
        unique_id = str(uuid.uuid4())
        event = trio.Event()
        box: list[Any] = []
        self._pending[unique_id] = (event, box)
        await ws.send_message(encode_call(unique_id, action, payload))
        if not wait:
            return None
        with trio.move_on_after(30):
            await event.wait()
        return box[0] if box else None


class FakeOperator:
    """Drives :class:`FakeCsms` the way an operator API drives a real CSMS."""

    name = "fake"
    waits_for_result = True

    def __init__(
        self, csms: FakeCsms, *, mangle: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None
    ):
        self.csms = csms
        self.mangle = mangle
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.policies: list[str | None] = []

    async def request(self, charger_id: str, action: str, payload: dict[str, Any]) -> OperatorResult:
        self.requests.append((charger_id, action, payload))
        if self.mangle is not None:
            payload = self.mangle(action, payload)
        answer = await self.csms.send_call(action, payload)
        if isinstance(answer, CallResult):
            return OperatorResult(result=answer.payload)
        if isinstance(answer, CallError):
            return OperatorResult(error="call_error", reason=answer.error_code)
        return OperatorResult(error="timeout", reason="no answer")

    async def provision(self, config: RunConfig) -> None:
        self.csms.provisioned = config

    async def set_boot_policy(self, charger_id: str, policy: str | None) -> OperatorResult:
        self.policies.append(policy)
        self.csms.boot_policy = policy
        if policy == "PendingOnce":
            self.csms.boot_queue = ["Pending"]
        elif policy == "RejectedOnce":
            self.csms.boot_queue = ["Rejected"]
        else:
            self.csms.boot_queue = []
        return OperatorResult()


def raw_result(payload: dict[str, Any]) -> Override:
    """An override answering with ``payload`` as is (for schema-invalid answers)."""
    return lambda unique_id, _payload: encode_result(unique_id, payload)


def raw_error(code: str, description: str = "") -> Override:
    return lambda unique_id, _payload: encode_error(unique_id, code, description, {})


def never() -> Override:
    return lambda _unique_id, _payload: None
