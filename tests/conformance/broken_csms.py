"""Deliberately broken Central Systems, to prove the conformance suite fails them (a suite that passes a
broken CSMS is broken).

Each :class:`Variant` is the real ocpp-trio engine with one behaviour bent, so everything else about it is
right and the suite has exactly one thing to find:

- most bend one incoming handler: :class:`BentProfiles` is ``engine.profiles`` (registration gate,
  every handler, the rules for outgoing CALLs) with some handlers wrapped, installed as the ``Csms``'s
  profiles after construction;
- the registration-gate variants replace the gate;
- the handshake variants put :class:`HandshakeRewriter` between the simulated charger and the engine: a
  byte-level proxy on memory streams that rewrites the ``Sec-WebSocket-Protocol`` header of the engine's
  ``101 Switching Protocols`` answer and passes every other byte unchanged.

Everything runs over memory streams, so a run is exact and instantaneous under ``trio.testing.MockClock``
(the late variants answer after 31 s of virtual time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import trio
import trio.testing

import engine.profiles
from conformance.operators import InProcessOperator, OperatorAdapter
from conformance.runner import InProcessTarget, Target
from engine.config import Config, ServerConfig
from engine.policy import ChargerState
from engine.profiles.base import ChargerContext, Handler, Payload
from engine.profiles.core.registration import admit_incoming
from engine.protocol.errors import ErrorCode, RemoteOcppError
from engine.server import Csms
from engine.store import MemoryStore

#: ``wrapper(real_handler, ctx, payload)`` answers instead of the real handler
Wrapper = Callable[[Handler, ChargerContext, Payload], Awaitable[Payload]]
#: the registration gate: raises ``RemoteOcppError`` to refuse a CALL (``admit_incoming``'s signature)
Gate = Callable[[ChargerState, str, dt.datetime], None]

_REAL_HANDLERS: Mapping[str, Handler] = engine.profiles.handler_table()


class BentProfiles:
    """``engine.profiles`` with some incoming handlers wrapped and, optionally, another registration gate."""

    def __init__(self, wrappers: Mapping[str, Wrapper], gate: Gate = admit_incoming):
        self.wrappers = wrappers
        self.gate = gate

    async def handle_incoming(self, ctx: ChargerContext, action: str, payload: Payload) -> Payload:
        self.gate(ctx.charger, action, ctx.utc_now())
        handler = _REAL_HANDLERS.get(action)
        if handler is None:
            raise RemoteOcppError(
                ErrorCode.NOT_SUPPORTED, f"{action} is not supported by this Central System"
            )
        wrapper = self.wrappers.get(action)
        if wrapper is not None:
            return await wrapper(handler, ctx, payload)
        return await handler(ctx, payload)

    def before_outgoing(self, charger: ChargerState, action: str, payload: Payload, now: dt.datetime) -> None:
        engine.profiles.before_outgoing(charger, action, payload, now)

    async def after_outgoing(
        self, ctx: ChargerContext, action: str, payload: Payload, answer: Payload | None
    ) -> None:
        await engine.profiles.after_outgoing(ctx, action, payload, answer)


# ------------------------------------------------------------------------------------------ the bends


async def _always_pending(real: Handler, ctx: ChargerContext, payload: Payload) -> Payload:
    """BootNotification is Pending every time, whatever the operator's boot policy says."""
    answer = await real(ctx, payload)
    ctx.charger.registration = "Pending"
    return {**answer, "status": "Pending", "interval": ctx.policy.boot_retry_interval}


async def _transaction_id_one(real: Handler, ctx: ChargerContext, payload: Payload) -> Payload:
    """Every StartTransaction gets transactionId 1 (a constant, like woopstar/hsem#906's 0)."""
    answer = await real(ctx, payload)
    return {**answer, "transactionId": 1}


async def _data_transfer_callerror(real: Handler, ctx: ChargerContext, payload: Payload) -> Payload:
    """An unknown vendorId is answered with a CALLERROR instead of status UnknownVendorId."""
    if payload["vendorId"] not in ctx.vendors:
        raise RemoteOcppError(ErrorCode.NOT_SUPPORTED, f"vendorId {payload['vendorId']!r} is not supported")
    return await real(ctx, payload)


async def _drop_unknown_stop(real: Handler, ctx: ChargerContext, payload: Payload) -> Payload:
    """A StopTransaction for a transaction this CSMS did not start for this charger is never answered."""
    transaction_id = payload["transactionId"]
    record = await ctx.run_store(lambda: ctx.store.get_transaction(transaction_id))
    if record is None or record.charger_id != ctx.charger_id:
        await trio.sleep_forever()
    return await real(ctx, payload)


def late(seconds: float) -> Wrapper:
    """The real answer, ``seconds`` late."""

    async def answer_late(real: Handler, ctx: ChargerContext, payload: Payload) -> Payload:
        await trio.sleep(seconds)
        return await real(ctx, payload)

    return answer_late


async def _unknown_tag_accepted(real: Handler, ctx: ChargerContext, payload: Payload) -> Payload:
    """An idTag the CSMS does not hold is Accepted (an "open" CSMS answering Accepted to everyone)."""
    answer = await real(ctx, payload)
    known = await ctx.run_store(lambda: ctx.store.get_id_tag(payload["idTag"]))
    if known is None:
        return {**answer, "idTagInfo": {"status": "Accepted"}}
    return answer


async def _local_time_without_offset(real: Handler, ctx: ChargerContext, payload: Payload) -> Payload:
    """currentTime as local wall-clock time with no offset ("2026-01-01T12:00:00"): the charger cannot
    tell which instant it names (RFC 3339 requires the offset; C §3.14 recommends UTC)."""
    answer = await real(ctx, payload)
    local = ctx.utc_now().astimezone(dt.timezone(dt.timedelta(hours=2)))
    return {**answer, "currentTime": local.replace(tzinfo=None).isoformat(timespec="seconds")}


def _no_gate(charger: ChargerState, action: str, now: dt.datetime) -> None:
    """No registration gate: every CALL is processed, whatever the charger's registration status."""


def _gate_only_after_a_boot(charger: ChargerState, action: str, now: dt.datetime) -> None:
    """The gate refuses Pending and Rejected chargers but lets a charger that never booted through."""
    if charger.registration is None:
        return
    admit_incoming(charger, action, now)


# ------------------------------------------------------------------------------ the handshake variant


class HandshakeRewriter:
    """A CSMS whose websocket handshake answer selects ``subprotocol`` (None: selects none), built from the
    real engine: it serves the engine over memory streams and rewrites the ``Sec-WebSocket-Protocol``
    header of the ``101 Switching Protocols`` answer. Every other byte passes through unchanged.

    Has the ``serve_stream`` + ``config`` shape :class:`~conformance.runner.InProcessTarget` needs."""

    def __init__(self, csms: Csms, subprotocol: str | None):
        self.csms = csms
        self.subprotocol = subprotocol
        self.config = csms.config
        self.rewritten: list[bytes] = []

    async def serve_stream(self, charger: trio.abc.Stream) -> None:
        upstream, engine_side = trio.testing.memory_stream_pair()
        async with trio.open_nursery() as nursery:

            async def serve_engine() -> None:
                await self.csms.serve_stream(engine_side)
                nursery.cancel_scope.cancel()

            nursery.start_soon(serve_engine)
            nursery.start_soon(self._pump, charger, upstream, False, nursery.cancel_scope)
            nursery.start_soon(self._pump, upstream, charger, True, nursery.cancel_scope)
        for stream in (charger, upstream):
            await trio.aclose_forcefully(stream)

    async def _pump(
        self, source: trio.abc.Stream, sink: trio.abc.Stream, rewrite: bool, scope: trio.CancelScope
    ) -> None:
        head = b""
        try:
            while True:
                data = await source.receive_some(65536)
                if not data:
                    break
                if rewrite:
                    head += data
                    if b"\r\n\r\n" not in head:
                        continue
                    rewrite = False
                    data = self._rewrite(head)
                await sink.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        scope.cancel()

    def _rewrite(self, data: bytes) -> bytes:
        head, rest = data.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        if not lines[0].startswith(b"HTTP/1.1 101"):
            return data
        lines = [line for line in lines if not line.lower().startswith(b"sec-websocket-protocol:")]
        if self.subprotocol is not None:
            lines.append(b"Sec-WebSocket-Protocol: " + self.subprotocol.encode())
        new_head = b"\r\n".join(lines)
        self.rewritten.append(new_head)
        return new_head + b"\r\n\r\n" + rest


# ------------------------------------------------------------------------------------------- variants


@dataclass(frozen=True)
class Variant:
    """One broken CSMS. ``wrappers``/``gate`` bend the engine; ``subprotocol`` (when ``rewrite_handshake``)
    is what its handshake answer selects."""

    name: str
    description: str
    wrappers: Mapping[str, Wrapper] = field(default_factory=dict)
    gate: Gate = admit_incoming
    rewrite_handshake: bool = False
    subprotocol: str | None = None


VARIANTS: tuple[Variant, ...] = (
    Variant(
        "pending-forever",
        "BootNotification is always answered Pending, also after the operator sets Accepted",
        wrappers={"BootNotification": _always_pending},
    ),
    Variant(
        "transaction-id-reused",
        "every StartTransaction is answered with transactionId 1",
        wrappers={"StartTransaction": _transaction_id_one},
    ),
    Variant(
        "data-transfer-callerror",
        "DataTransfer with an unknown vendorId is answered CALLERROR NotSupported, not UnknownVendorId",
        wrappers={"DataTransfer": _data_transfer_callerror},
    ),
    Variant(
        "subprotocol-ocpp2.0.1",
        "the websocket handshake answer selects ocpp2.0.1, which the charger did not offer",
        rewrite_handshake=True,
        subprotocol="ocpp2.0.1",
    ),
    Variant(
        "subprotocol-none",
        "the websocket handshake answer selects no subprotocol (no Sec-WebSocket-Protocol header)",
        rewrite_handshake=True,
        subprotocol=None,
    ),
    Variant(
        "stop-unknown-dropped",
        "StopTransaction for a transactionId the CSMS does not know is never answered",
        wrappers={"StopTransaction": _drop_unknown_stop},
    ),
    Variant(
        "authorize-late",
        "Authorize is answered after 31 s, past the 30 s response timeout",
        wrappers={"Authorize": late(31.0)},
    ),
    Variant(
        "start-transaction-late",
        "StartTransaction is answered after 31 s, past the 30 s response timeout",
        wrappers={"StartTransaction": late(31.0)},
    ),
    Variant(
        "no-registration-gate",
        "CALLs from a charger that is not Accepted (never booted, Pending) are processed normally instead "
        "of being answered SecurityError",
        gate=_no_gate,
    ),
    Variant(
        "gate-skips-never-booted",
        "a charger that never sent BootNotification may send anything (Pending/Rejected are refused)",
        gate=_gate_only_after_a_boot,
    ),
    Variant(
        "authorize-unknown-accepted",
        "Authorize for an idTag the CSMS does not hold is answered Accepted",
        wrappers={"Authorize": _unknown_tag_accepted},
    ),
    Variant(
        "current-time-without-offset",
        "currentTime in BootNotification.conf and Heartbeat.conf is local time without a UTC offset",
        wrappers={"BootNotification": _local_time_without_offset, "Heartbeat": _local_time_without_offset},
    ),
)
BY_NAME: Mapping[str, Variant] = {variant.name: variant for variant in VARIANTS}


@asynccontextmanager
async def serve(variant: Variant) -> AsyncIterator[tuple[Target, OperatorAdapter]]:
    """Run the broken CSMS in process; yields the suite's target and operator adapter for it."""
    # Server pings off, as in test_core_cases_inprocess (trio-websocket #184).
    csms = Csms(Config(server=ServerConfig(ping_interval=0)), store=MemoryStore())
    csms.profiles = BentProfiles(variant.wrappers, variant.gate)
    async with trio.open_nursery() as nursery:
        await nursery.start(csms.run_background)
        if variant.rewrite_handshake:
            target = InProcessTarget(HandshakeRewriter(csms, variant.subprotocol))
        else:
            target = InProcessTarget(csms)
        yield target, InProcessOperator(csms)
        nursery.cancel_scope.cancel()
