"""The Central System object: configuration, schemas, profiles, store, clock and live sessions in one place.

``Csms.call`` is the operator's entry point (design.md decision 12): it forwards to the live session of a
charger and raises :class:`ChargerOfflineError` when there is none. ``serve`` runs the TCP listener;
``serve_stream`` serves one in-memory stream the same way (tests, virtual-time conformance runs).

Store calls block, so handlers make them through :meth:`Csms.run_store`: in a worker thread for SQLite
(one at a time, the store serialises anyway), inline for :class:`~engine.store.MemoryStore`, which never
blocks — and inline keeps virtual time exact, since MockClock's autojump fires while a thread is busy.

Background work lives in :meth:`Csms.run_background` (started by :meth:`serve`, or by an embedding
harness that only uses :meth:`open_memory_connection`): the message-log writer, which takes every frame
in and out from a bounded channel, redacts secrets and appends them in batches — one commit for many
frames instead of one fsync each, so logging never sits on the answer path.

Operator events (:meth:`subscribe`) go to each subscriber's own bounded channel; a subscriber that does
not keep up loses events (counted, logged) rather than slowing chargers down.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

import trio
import trio.testing
from trio_websocket import ConnectionRejected, WebSocketConnection, wrap_client_stream

import engine.profiles
from engine.api.operator import ChargerConnected, ChargerDisconnected, CsmsEvent
from engine.clock import Clock, SystemClock, format_timestamp
from engine.config import Config
from engine.policy import BootPolicy, ChargerState, CsmsPolicy, UnknownChargerPolicy
from engine.profiles.base import Handler, Payload
from engine.profiles.core.data_transfer import VendorHandler
from engine.protocol.connection import OcppConnection, Schemas
from engine.protocol.redact import redact_frame
from engine.server.errors import ChargerOfflineError
from engine.server.listener import Listener, Refusal
from engine.server.registry import Registry
from engine.server.session import HandlerTable, Profiles, Session
from engine.server.store_runner import StoreRunner
from engine.server.websocket import ServerWebSocket
from engine.store import (
    ChargerRecord,
    ConnectorRecord,
    IdTagRecord,
    LogRecord,
    MemoryStore,
    MeterValueRecord,
    SqliteStore,
    Store,
    TransactionRecord,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")
E = TypeVar("E", bound=BaseException)

#: frames waiting for the log writer; past this the newest are dropped (and counted) rather than
#: letting a slow disk hold chargers up
LOG_QUEUE_SIZE = 20_000
LOG_BATCH = 20_000
#: the log writer gathers frames this long before writing them: a few commits a second rather than one
#: per frame (the log is not data a charger was promised, R8.1 is not at stake)...
LOG_GATHER_SECONDS = 0.05
#: ... unless this many are already waiting (100,000 frames/s before it stops sleeping)
LOG_GATHER_BELOW = 5_000
EVENT_QUEUE_SIZE = 1_000


class Csms:
    """An OCPP 1.6-J Central System. Build it, then ``await nursery.start(csms.serve)``.

    Defaults are the production ones: the schemas of ``schemas/``, every profile of
    :mod:`engine.profiles` (registration gate included), a SQLite store at ``config.db_path`` (closed by
    :meth:`close`), the system clock. ``handlers`` replaces the profiles with a plain table (no gates).
    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        schemas: Schemas | None = None,
        handlers: Mapping[str, Handler] | None = None,
        clock: Clock | None = None,
        store: Store | None = None,
        policy: CsmsPolicy | None = None,
        vendors: Mapping[str, VendorHandler] | None = None,
    ):
        self.config = config if config is not None else Config()
        if schemas is None:
            from engine.protocol.validation import default_registry

            schemas = default_registry()
        self.schemas: Schemas = schemas
        if handlers is None:
            self.profiles: Profiles = engine.profiles
        else:
            self.profiles = HandlerTable(handlers)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._owns_store = store is None
        self.store: Store = (
            store
            if store is not None
            else SqliteStore(self.config.db_path, synchronous=self.config.db_synchronous)
        )
        self._store_in_thread = not isinstance(self.store, MemoryStore)
        self._store_runner = StoreRunner(self.store)
        #: chargers' last-seen times not yet written: heartbeats are answered without waiting for disk
        self._seen: dict[str, str] = {}
        self._policy: CsmsPolicy = policy if policy is not None else dataclasses.replace(self.config.policy)
        self.vendors: Mapping[str, VendorHandler] = vendors if vendors is not None else {}
        self.registry: Registry[Session] = Registry()
        #: sessions that have run and ended (with :meth:`session_churn`, what paces full collections)
        self.sessions_ended = 0
        self._listener = Listener(self.config, self._run_session, self._screen_identity)
        self._log_send, self._log_receive = trio.open_memory_channel[LogRecord](LOG_QUEUE_SIZE)
        self.log_frames_dropped = 0
        self._subscribers: set[trio.MemorySendChannel[CsmsEvent]] = set()
        self.events_dropped = 0
        self._background: trio.Nursery | None = None

    def close(self) -> None:
        """Close the store if this object opened it."""
        if self._owns_store:
            self.store.close()

    async def serve(self, *, task_status: trio.TaskStatus[list[int]] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen until cancelled; ``task_status`` gets the bound port(s) (so port 0 works). Runs the
        background tasks too."""
        async with trio.open_nursery() as nursery:
            await nursery.start(self.run_background)
            ports: list[int] = await nursery.start(self._listener.serve)
            task_status.started(ports)

    async def run_background(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The message-log writer and the nursery in-memory connections run in; until cancelled."""
        async with trio.open_nursery() as nursery:
            self._background = nursery
            try:
                nursery.start_soon(self._write_log)
                task_status.started()
                await trio.sleep_forever()
            finally:
                self._background = None
                nursery.cancel_scope.cancel()

    async def open_memory_connection(
        self,
        path: str,
        subprotocols: list[str],
        extra_headers: list[tuple[bytes, bytes]] | None = None,
    ) -> WebSocketConnection:
        """A websocket client connected to this CSMS over an in-memory stream (no sockets, so trio's
        virtual clock stays exact). Needs :meth:`run_background` or :meth:`serve` running; raises
        ``trio_websocket.ConnectionRejected`` when the handshake is refused."""
        nursery = self._background
        if nursery is None:
            raise RuntimeError("open_memory_connection needs Csms.run_background (or serve) running")
        ws: WebSocketConnection = await nursery.start(self._memory_client, path, subprotocols, extra_headers)
        return ws

    async def _memory_client(
        self,
        path: str,
        subprotocols: list[str],
        extra_headers: list[tuple[bytes, bytes]] | None,
        *,
        task_status: trio.TaskStatus[WebSocketConnection],
    ) -> None:
        # Its own nursery is the error boundary: trio-websocket's client reader task raises into the
        # nursery it runs in (a refused handshake, a close race), which must not end run_background.
        client, server = trio.testing.memory_stream_pair()
        started = False
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self.serve_stream, server)
                # trio-websocket annotates SocketStream, but any trio Stream works.
                ws = await wrap_client_stream(
                    nursery,
                    cast(trio.SocketStream, client),
                    "localhost",
                    path,
                    subprotocols=subprotocols,
                    extra_headers=extra_headers,
                    message_queue_size=0,
                    max_message_size=self.config.server.max_message_size,
                )
                task_status.started(ws)
                started = True
        except BaseExceptionGroup as group:
            if group.split(trio.Cancelled)[0] is not None:
                raise
            if not started:
                rejected = _first_leaf(group, ConnectionRejected)
                if rejected is not None:
                    raise rejected from None
                raise
            logger.info("in-memory connection to %s ended: %r", path, group)

    async def serve_stream(self, stream: trio.abc.Stream) -> None:
        """Serve one connected byte stream (a websocket client on the other end) until it closes."""
        await self._listener.serve_stream(stream)

    # The timeout is OCPP's response deadline, not a cancel scope (see ChargerContext.call).
    async def call(
        self,
        charger_id: str,
        action: str,
        payload: Payload,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> Payload:
        """Send a CALL to a connected charger and return its CALLRESULT payload.

        Raises :class:`ChargerOfflineError` when ``charger_id`` has no live connection, and otherwise what
        :meth:`Session.call` raises.
        """
        session = self.registry.get(charger_id)
        if session is None:
            raise ChargerOfflineError(charger_id)
        return await session.call(action, payload, timeout=timeout)

    def connected_chargers(self) -> list[str]:
        """Identities with a live connection, sorted."""
        return self.registry.identities()

    def session_churn(self) -> tuple[int, int]:
        """(sessions ended so far, sessions live now): see :mod:`engine.server.collector_pacer`."""
        return self.sessions_ended, len(self.registry)

    # ------------------------------------------------------------------ queries (OperatorApi)

    async def chargers(self) -> list[ChargerRecord]:
        return await self.run_store(self.store.list_chargers)

    async def charger(self, charger_id: str) -> ChargerRecord | None:
        return await self.run_store(lambda: self.store.get_charger(charger_id))

    async def connectors(self, charger_id: str) -> list[ConnectorRecord]:
        return await self.run_store(lambda: self.store.get_connectors(charger_id))

    async def transactions(
        self, *, charger_id: str | None = None, active: bool | None = None, limit: int = 100
    ) -> list[TransactionRecord]:
        return await self.run_store(
            lambda: self.store.list_transactions(charger_id=charger_id, active=active, limit=limit)
        )

    async def transaction(self, transaction_id: int) -> TransactionRecord | None:
        return await self.run_store(lambda: self.store.get_transaction(transaction_id))

    async def meter_values(
        self, *, charger_id: str | None = None, transaction_id: int | None = None, limit: int = 1000
    ) -> list[MeterValueRecord]:
        return await self.run_store(
            lambda: self.store.list_meter_values(
                charger_id=charger_id, transaction_id=transaction_id, limit=limit
            )
        )

    async def id_tags(self) -> list[IdTagRecord]:
        return await self.run_store(self.store.list_id_tags)

    async def put_id_tag(self, record: IdTagRecord) -> None:
        await self.run_store(lambda: self.store.put_id_tag(record))

    async def delete_id_tag(self, id_tag: str) -> bool:
        return await self.run_store(lambda: self.store.delete_id_tag(id_tag))

    async def message_log(self, charger_id: str, limit: int = 100) -> list[LogRecord]:
        return await self.run_store(lambda: self.store.message_log(charger_id, limit))

    # ------------------------------------------------------------------ policy (OperatorApi)

    @property
    def policy(self) -> CsmsPolicy:
        return self._policy

    async def update_policy(self, **changes: Any) -> CsmsPolicy:
        """Replace default policy fields; unknown fields raise TypeError, bad values ValueError."""
        if "boot" in changes:
            changes["boot"] = BootPolicy(changes["boot"])
        if "unknown_chargers" in changes:
            changes["unknown_chargers"] = UnknownChargerPolicy(changes["unknown_chargers"])
        self._policy = dataclasses.replace(self._policy, **changes)
        if "boot" in changes:
            for state in self.registry.states():
                state.boot_policy_armed = True
        logger.info("default policy changed: %s", ", ".join(f"{k}={v}" for k, v in changes.items()))
        return self._policy

    async def set_charger_policy(
        self, charger_id: str, *, boot_policy: str | None, heartbeat_interval: int | None
    ) -> None:
        """Per-charger boot policy and heartbeat interval (None: the default). Registers an unknown
        charger, so an operator can prepare one before it first connects."""
        policy = BootPolicy(boot_policy) if boot_policy is not None else None
        now = format_timestamp(self.clock.utc_now())

        def save() -> None:
            self.store.ensure_charger(charger_id, now)
            self.store.set_charger_policy(
                charger_id, boot_policy=boot_policy, heartbeat_interval=heartbeat_interval
            )

        await self.run_store(save)
        state = await self.charger_state(charger_id)
        state.boot_policy, state.heartbeat_interval = policy, heartbeat_interval
        state.boot_policy_armed = True

    # ------------------------------------------------------------------ events (OperatorApi)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[CsmsEvent]]:
        """``async with csms.subscribe() as events: async for event in events: …`` — events from now on."""
        send, receive = trio.open_memory_channel[CsmsEvent](EVENT_QUEUE_SIZE)
        self._subscribers.add(send)
        try:
            async with receive:
                yield receive
        finally:
            self._subscribers.discard(send)
            send.close()

    def publish(self, event: CsmsEvent) -> None:
        for channel in list(self._subscribers):
            try:
                channel.send_nowait(event)
            except trio.WouldBlock:
                self.events_dropped += 1
                if self.events_dropped in (1, 100) or self.events_dropped % 10_000 == 0:
                    logger.warning("a slow event subscriber missed %d events so far", self.events_dropped)
            except trio.BrokenResourceError:
                self._subscribers.discard(channel)

    # ------------------------------------------------------------------ message log

    def record_frame(self, charger_id: str, direction: str, text: str) -> None:
        record = LogRecord(charger_id, direction, text, format_timestamp(self.clock.utc_now()))
        try:
            self._log_send.send_nowait(record)
        except trio.WouldBlock:
            self.log_frames_dropped += 1
            if self.log_frames_dropped in (1, 100) or self.log_frames_dropped % 10_000 == 0:
                logger.warning("message log behind: %d frames not logged so far", self.log_frames_dropped)

    async def _write_log(self) -> None:
        batch: list[LogRecord] = []
        try:
            async for first in self._log_receive:
                batch = [first]
                self._drain_log(batch)
                if len(batch) < LOG_GATHER_BELOW:
                    # Wait a little for more, so one commit (one fsync, one thread hop) carries many frames.
                    await trio.sleep(LOG_GATHER_SECONDS)
                    self._drain_log(batch)
                await self._store_log(batch)
                batch = []
        finally:
            # On shutdown, what is queued still goes to the store (bounded: the queue is).
            with trio.CancelScope(shield=True):
                while True:
                    try:
                        batch.append(self._log_receive.receive_nowait())
                    except (trio.WouldBlock, trio.EndOfChannel):
                        break
                if batch or self._seen:
                    await self._store_log(batch)

    def _drain_log(self, batch: list[LogRecord]) -> None:
        while len(batch) < LOG_BATCH:
            try:
                batch.append(self._log_receive.receive_nowait())
            except trio.WouldBlock:
                return

    async def _store_log(self, batch: list[LogRecord]) -> None:
        # Whatever goes wrong here loses log lines, never the server: this task runs in run_background.
        seen, self._seen = self._seen, {}
        try:
            redacted = [_redacted(record) for record in batch]

            def write() -> None:
                self.store.log_messages(redacted)
                if seen:
                    self.store.touch_chargers(seen)

            await self.run_store(write)
        except Exception:
            logger.exception("message log: %d frames could not be stored", len(batch))

    async def _screen_identity(self, identity: str) -> Refusal | None:
        """J §3.2: an unknown identity gets 404 when the policy says so (config-listed ones are known)."""
        if (
            self._policy.unknown_chargers is not UnknownChargerPolicy.REJECT
            or identity in self.config.chargers
        ):
            return None
        if await self.run_store(lambda: self.store.get_charger(identity)) is not None:
            return None
        return Refusal(404, f"unknown charge point {identity!r}")

    async def run_store(self, operation: Callable[[], T]) -> T:
        """Run a blocking store operation without blocking the event loop; it has committed (in a group
        with other chargers' writes) when this returns."""
        if not self._store_in_thread:
            return operation()
        return await self._store_runner.run(operation)

    def note_seen(self, charger_id: str, at: str) -> None:
        """The charger's last-seen time, written with the next message-log batch: a crash may lose the
        last second of it, which is all a last-seen time can lose (R8.1 is about acknowledged data)."""
        if not self._store_in_thread:
            self.store.touch_charger(charger_id, at)
            return
        self._seen[charger_id] = at

    async def charger_state(self, identity: str) -> ChargerState:
        """The in-memory state of ``identity``, seeded from the store on first use (after a restart the
        store is the truth: a charger Accepted before stays Accepted, R1.28)."""
        state = self.registry.state(identity)
        if state is not None:
            return state
        record = await self.run_store(lambda: self.store.get_charger(identity))
        state = ChargerState(identity)
        if record is not None:
            state.registration = record.registration_status
            state.boot_policy = BootPolicy(record.boot_policy) if record.boot_policy else None
            state.heartbeat_interval = record.heartbeat_interval
            state.flags = record.flags
        # Another connection of the same identity may have seeded it while we awaited the store.
        return self.registry.keep_state(state)

    async def _run_session(
        self, identity: str, ws: ServerWebSocket, subprotocol: str | None, remote: str
    ) -> None:
        limits = self.config.server
        state = await self.charger_state(identity)
        conn = OcppConnection(self.schemas, recent=state.recent, bad_frame_limit=limits.bad_frame_limit)
        session = Session(
            state,
            ws,
            conn,
            profiles=self.profiles,
            services=self,
            clock=self.clock,
            limits=limits,
            response_timeout=self.config.response_timeout(identity),
        )
        logger.info("%s connected from %s subprotocol=%s", identity, remote, subprotocol)
        if self.registry.register(session) is not None:
            logger.info("%s replaced its previous connection", identity)
        self.publish(ChargerConnected(identity, remote))
        try:
            await session.run()
        finally:
            self.registry.unregister(session)
            self.sessions_ended += 1
            code, reason = session.close_info
            logger.info("%s disconnected code=%s reason=%s", identity, code, reason or "-")
            self.publish(ChargerDisconnected(identity, code, reason))


def _redacted(record: LogRecord) -> LogRecord:
    text = redact_frame(record.text)
    return record if text is record.text else dataclasses.replace(record, text=text)


def _first_leaf(group: BaseExceptionGroup[BaseException], kind: type[E]) -> E | None:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            found = _first_leaf(exc, kind)
            if found is not None:
                return found
        elif isinstance(exc, kind):
            return exc
    return None
