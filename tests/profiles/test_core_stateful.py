"""The Core profile against a reference model: a Hypothesis state machine plays two chargers and an
operator against a real :class:`~engine.server.Csms` (real profiles, schemas, RPC layer and shell; chargers
on in-memory websockets) and checks every answer, and the store after every step, against a small model
written here from the rules (design.md decisions 5–7, rules §2, §4, §8).

Invariants checked:

- every CALL is answered exactly once, with its own id (CALLRESULT or CALLERROR), and nothing else is
  sent unasked;
- transaction ids are positive int32, unique across chargers, increasing, and stable across retries (an
  identical StartTransaction gets the same id and status, whether retried with the same message id —
  cached answer — or a new one, after a reconnect or a restart);
- every acknowledged StartTransaction, StopTransaction and MeterValues is in the store with its data,
  and nothing else is (orphan stops included);
- a connector's current status is the one of the newest-timestamped StatusNotification (ties: the later
  one), and every accepted notification is in its history;
- registration gate: before Accepted only BootNotification (and, while Pending, a message we triggered)
  gets through; anything else is SecurityError with no stored effect at all; registration survives
  reconnects and restarts;
- operator calls reach the charger only when its state allows (C §4.2), and their answers come back.

How it runs. Hypothesis steps are synchronous, but a charger's websocket must outlive a step (reconnects
without BootNotification are part of the model). So each example runs one ``trio.run`` in a helper thread
(:class:`TrioHost`), and every step enters it through ``trio.from_thread.run``; one step is one exchange,
awaited to its end, so the outcome does not depend on scheduling. With the MemoryStore the loop runs on
``MockClock(autojump_threshold=0)``: the store runs inline, virtual time is exact, and a missing answer
shows up at once as a timeout instead of a hang. The SqliteStore runs in worker threads, during which
autojump would move virtual time spuriously, so that variant runs on the real clock with real-time
guards. Wall-clock time (currentTime, expiry, trigger windows) comes from a :class:`FixedClock` the model
advances itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import threading
import traceback
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from trio_websocket import WebSocketConnection

from engine.clock import FixedClock, format_timestamp
from engine.config import Config, ServerConfig
from engine.profiles.base import RefusedByStateError
from engine.profiles.core.registration import TRIGGER_WINDOW
from engine.protocol.validation import default_registry
from engine.server import CallErrorResponse, CallFailedError, ChargerOfflineError, Csms
from engine.store import MAX_TRANSACTION_ID, IdTagRecord, MemoryStore, SqliteStore, Store

T = TypeVar("T")

CHARGERS = ("CP-1", "CP-2")
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
#: answered CALLs the engine remembers per charger identity (RecentReplies' default capacity)
RECENT_CAPACITY = 64
HEARTBEAT_DEFAULT, BOOT_RETRY_DEFAULT = 300, 60
REDACTED = "<redacted>"

#: How many steps one example runs, and how many examples. The ci profile asks for 200 examples: 200
#: examples of 25 steps on the MemoryStore take about 10 s here. The SqliteStore variant costs about twice
#: as much per example (a commit and fsync per write, store calls in threads) and runs 25 examples (2-3 s):
#: it shows the SQLite store keeps the same promises through the real shell (restarts reopen the file);
#: the wide search is the MemoryStore variant's job. Both together stay well under the 30 s budget.
STEPS = 25
SQLITE_EXAMPLES = 25

STATUSES = (
    "Available",
    "Preparing",
    "Charging",
    "SuspendedEVSE",
    "SuspendedEV",
    "Finishing",
    "Reserved",
    "Unavailable",
    "Faulted",
)
STOP_REASONS = ("EVDisconnected", "Local", "PowerLoss", "Remote", "DeAuthorized", "Reboot")
BOOT_POLICIES = ("Accepted", "Pending", "Rejected", "PendingOnce", "RejectedOnce")
#: a boot policy for the operator to set: Accepted most often, so the rest of the profile gets exercised
boot_policies = st.sampled_from(("Accepted",) * 4 + BOOT_POLICIES)
TRIGGERABLE = ("BootNotification", "Heartbeat", "MeterValues", "StatusNotification")
PENDING_MAY_RECEIVE = frozenset({"GetConfiguration", "ChangeConfiguration", "TriggerMessage"})
#: the simulated charger's own configuration: key -> (readonly, value); AuthorizationKey is one a
#: careless charger returns, so the CSMS's snapshot must redact it
CHARGER_KEYS: dict[str, tuple[bool, str]] = {
    "HeartbeatInterval": (False, "300"),
    "MeterValueSampleInterval": (False, "60"),
    "NumberOfConnectors": (True, "3"),
    "AuthorizationKey": (False, "00112233445566778899aabbccddeeff"),
}


# ---------------------------------------------------------------------------------------------- Trio host


class TrioHost:
    """One ``trio.run`` in a thread, with the Csms's background tasks, for the life of one Csms."""

    def __init__(self, csms: Csms, clock: trio.abc.Clock | None):
        self.csms = csms
        self._clock = clock
        self._token: trio.lowlevel.TrioToken | None = None
        self._stop: trio.Event | None = None
        self._error: BaseException | None = None
        self._surfaced = False
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="trio-host", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._token is None:
            raise RuntimeError("the Trio host did not start") from self._error

    def _main(self) -> None:
        try:
            trio.run(self._serve, clock=self._clock)
        except BaseException as exc:  # handed to the test thread by stop()
            self._error = exc
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._stop = trio.Event()
        async with trio.open_nursery() as nursery:
            await nursery.start(self.csms.run_background)
            self._token = trio.lowlevel.current_trio_token()
            self._ready.set()
            await self._stop.wait()
            nursery.cancel_scope.cancel()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def run(self, afn: Callable[[], Awaitable[T]]) -> T:
        """Run ``afn()`` in the Trio thread, let everything it set off run too (the log writer), and
        return its result. When the Csms's background tasks crashed meanwhile, raise that crash rather
        than what it did to the step (a cancellation, a closed connection)."""

        async def to_the_end() -> T:
            result = await afn()
            await trio.testing.wait_all_tasks_blocked()
            return result

        try:
            return trio.from_thread.run(to_the_end, trio_token=self._token)
        except AssertionError:
            raise
        except BaseException:
            self._thread.join(timeout=1)
            if self._error is None:
                raise
        raise self._crash()  # outside the except clause: no __context__

    def _crash(self) -> RuntimeError:
        # The crash's own traceback goes in the message, not in a chain, so that Hypothesis sees one
        # failure whatever the nesting of exception groups (and the step) it arrived in.
        self._surfaced = True
        crash = self._error
        while isinstance(crash, BaseExceptionGroup):
            crash = crash.exceptions[0]
        assert crash is not None
        detail = "".join(traceback.format_exception(crash))
        return RuntimeError(f"the Csms's background tasks crashed:\n{detail}")

    def stop(self) -> None:
        if self._thread.is_alive() and self._stop is not None:
            try:
                trio.from_thread.run_sync(self._stop.set, trio_token=self._token)
            except trio.RunFinishedError:
                pass
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "the Trio host did not stop"
        if self._error is not None and not self._surfaced:
            raise self._crash()


# ---------------------------------------------------------------------------------------------- backends


class MemoryBackend:
    """MemoryStore, virtual time."""

    guard = 60.0  # virtual seconds: longer than the 30 s response timeout

    def __init__(self) -> None:
        self.store: Store = MemoryStore()

    def clock(self) -> trio.abc.Clock | None:
        return trio.testing.MockClock(autojump_threshold=0)

    def restart_store(self) -> Store:
        return self.store  # the same object: what a restart keeps

    def close(self) -> None:
        self.store.close()


class SqliteBackend:
    """SqliteStore on a file (closed and reopened by a restart), real time."""

    guard = 10.0  # real seconds

    def __init__(self, path: Path):
        self.path = path
        self.store: Store = SqliteStore(path)

    def clock(self) -> trio.abc.Clock | None:
        return None

    def restart_store(self) -> Store:
        self.store.close()
        self.store = SqliteStore(self.path)
        return self.store

    def close(self) -> None:
        self.store.close()


Backend = MemoryBackend | SqliteBackend


# ---------------------------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class TagModel:
    status: str
    expiry: dt.datetime | None
    parent: str | None


@dataclass
class TxModel:
    transaction_id: int
    charger_id: str
    connector_id: int
    id_tag: str
    meter_start: int
    timestamp: str
    status: str
    superseded: bool = False
    stop: tuple[int, str, str, str | None] | None = None  # meterStop, timestamp, reason, idTag

    @property
    def active(self) -> bool:
        return self.stop is None and not self.superseded


@dataclass(frozen=True)
class Sent:
    """A CALL that got a CALLRESULT, kept so a rule can send it again (a retry)."""

    charger_id: str
    unique_id: str
    action: str
    payload: dict[str, Any]
    text: str
    answer: dict[str, Any]


@dataclass
class ChargerModel:
    charger_id: str
    registration: str | None = None
    boot_policy: str | None = None
    heartbeat_interval: int | None = None
    #: the operator set the boot policy since the last BootNotification (kept in memory only)
    armed: bool = False
    ws: WebSocketConnection | None = None
    triggered: dict[str, dt.datetime] = field(default_factory=dict)
    #: unique id -> (CALL text, answer frame) of answered CALLs (CALLERRORs are not cached)
    recent: OrderedDict[str, tuple[str, list[Any]]] = field(default_factory=OrderedDict)
    #: connector -> (instant, status, errorCode, status timestamp as stored)
    current: dict[int, tuple[dt.datetime, str, str, str]] = field(default_factory=dict)
    history: Counter[int] = field(default_factory=Counter)
    configuration: dict[str, str | None] = field(default_factory=dict)
    device_keys: dict[str, tuple[bool, str]] = field(default_factory=lambda: dict(CHARGER_KEYS))


def boot_answer(policy: str, previous: str | None, *, armed: bool) -> str:
    """AQ-1: the …Once policies answer Pending/Rejected to a charger's first boot, and to the first boot
    after the operator set them (``armed``); every other boot is Accepted."""
    if policy in ("PendingOnce", "RejectedOnce"):
        first = policy.removesuffix("Once")
        return first if previous is None or armed else "Accepted"
    return policy


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def call_text(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    return json.dumps([2, unique_id, action, payload], separators=(",", ":"))


def render(instant: dt.datetime, style: str) -> str:
    """The same instant written the ways chargers write it."""
    if style == "Z":
        return instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "offset":
        return instant.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()
    return format_timestamp(instant)


def vary_case(tag: str, mask: int) -> str:
    """IdToken is case-insensitive (R4.7): present a tag with some letters lower-cased."""
    return "".join(ch.lower() if mask >> i & 1 else ch for i, ch in enumerate(tag))


# ---------------------------------------------------------------------------------------------- strategies

chargers = st.sampled_from(CHARGERS)
tag_spellings = st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=1, max_size=6).map("T".__add__)
unknown_tags = st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=1, max_size=6).map("U".__add__)
tag_statuses = st.sampled_from(("Accepted", "Accepted", "Blocked", "Expired", "Invalid"))
expiry_offsets = st.one_of(st.none(), st.integers(-2 * 86400, 2 * 86400))
styles = st.sampled_from(("Z", "ms", "offset"))
sampled_values = st.fixed_dictionaries(
    {"value": st.integers(0, 10**6).map(lambda n: f"{n // 10}.{n % 10}")},
    optional={
        "measurand": st.sampled_from(("Energy.Active.Import.Register", "Power.Active.Import")),
        "unit": st.sampled_from(("Wh", "W")),
        "context": st.sampled_from(("Sample.Periodic", "Transaction.Begin")),
    },
)
meter_value_lists = st.lists(
    st.tuples(st.integers(0, 3), st.lists(sampled_values, min_size=1, max_size=2)), min_size=1, max_size=2
)


class CoreMachine(RuleBasedStateMachine):
    tags = Bundle("tags")
    answered_starts = Bundle("answered_starts")
    answered_stops = Bundle("answered_stops")
    answered_meter_values = Bundle("answered_meter_values")

    def __init__(self, backend: Backend):
        super().__init__()
        self.backend = backend
        self.clock = FixedClock(START)
        self.schemas = default_registry()
        self.config = Config(server=ServerConfig(ping_interval=0, close_timeout=1.0))
        self.chargers = {cid: ChargerModel(cid) for cid in CHARGERS}
        self.id_tags: dict[str, TagModel] = {}
        self.transactions: dict[int, TxModel] = {}
        self.start_keys: dict[tuple[str, int, str, int, str], int] = {}
        #: (charger, transactionId, meterStop, timestamp) -> (kind, reason, idTag, transactionData)
        self.orphans: dict[tuple[str, int, int, str], tuple[str, str | None, str | None, Any]] = {}
        #: (charger, connector, transactionId, canonical MeterValue) -> source of its first copy
        self.expected_meter_values: dict[tuple[str, int, int | None, str], str] = {}
        self.ids = itertools.count(1)
        self.moments = itertools.count(1)
        self.status_cursor = START
        self.csms, self.host = self._start_csms(backend.store)

    # ------------------------------------------------------------------ plumbing

    def _start_csms(self, store: Store) -> tuple[Csms, TrioHost]:
        csms = Csms(self.config, schemas=self.schemas, clock=self.clock, store=store)
        return csms, TrioHost(csms, self.backend.clock())

    def teardown(self) -> None:
        try:
            if self.host.alive:
                self._disconnect_all()
        finally:
            try:
                self.host.stop()
            finally:
                self.backend.close()

    def _disconnect_all(self) -> None:
        for charger in self.chargers.values():
            if charger.ws is not None:
                self.host.run(functools.partial(self._close, charger.charger_id, charger.ws))
                charger.ws = None

    def now(self) -> dt.datetime:
        return self.clock.utc_now()

    def new_uid(self) -> str:
        return f"m{next(self.ids)}"

    def moment(self, style: str) -> str:
        """A charger timestamp never used before (starts and stops are keyed by theirs)."""
        return render(START + dt.timedelta(minutes=next(self.moments)), style)

    def store(self) -> Store:
        return self.backend.store

    async def _guarded(self, afn: Callable[[], Awaitable[T]]) -> T:
        with trio.fail_after(self.backend.guard):
            return await afn()

    @staticmethod
    async def _until(condition: Callable[[], bool]) -> None:
        """Wait for the server side to catch up (with SQLite, session set-up reads the store in a thread)."""
        while not condition():  # noqa: ASYNC110 - polls the server's state; it has no event to wait on
            await trio.sleep(0.001)

    async def _connect(self, charger_id: str) -> WebSocketConnection:
        previous = self.csms.registry.get(charger_id)
        ws = await self.csms.open_memory_connection(f"/ocpp/{charger_id}", ["ocpp1.6"])
        await self._until(lambda: self.csms.registry.get(charger_id) not in (None, previous))
        return ws

    async def _close(self, charger_id: str, ws: WebSocketConnection) -> None:
        await ws.aclose()
        await self._until(lambda: self.csms.registry.get(charger_id) is None)

    async def _replace(self, charger_id: str, old: WebSocketConnection) -> WebSocketConnection:
        new = await self._connect(charger_id)
        await self._until(lambda: old.closed is not None)
        reason = old.closed
        assert reason is not None
        assert (reason.code, reason.reason) == (1000, "replaced")
        return new

    async def _exchange(self, ws: WebSocketConnection, text: str) -> list[Any]:
        await ws.send_message(text)
        message = await ws.get_message()
        assert isinstance(message, str)
        frame: list[Any] = json.loads(message)
        await self._assert_quiet(ws)
        return frame

    @staticmethod
    async def _assert_quiet(ws: WebSocketConnection) -> None:
        """Nothing more arrives once everything has run: one answer per CALL, nothing unasked."""
        extra: list[str | bytes] = []

        async def grab() -> None:
            extra.append(await ws.get_message())

        async with trio.open_nursery() as nursery:
            nursery.start_soon(grab)
            await trio.testing.wait_all_tasks_blocked()
            nursery.cancel_scope.cancel()
        assert extra == [], f"unexpected extra frame(s): {extra}"

    def ensure_connected(self, charger: ChargerModel) -> WebSocketConnection:
        if charger.ws is None:
            charger.ws = self.host.run(
                functools.partial(self._guarded, lambda: self._connect(charger.charger_id))
            )
        return charger.ws

    # ------------------------------------------------------------------ store views

    def snapshot(self) -> tuple[Any, ...]:
        """Everything a message could change in the store (the message log aside)."""
        store = self.store()
        return (
            store.list_chargers(),
            [store.get_connectors(cid) for cid in CHARGERS],
            [store.status_history(cid, c, 10**6) for cid in CHARGERS for c in range(4)],
            store.list_transactions(limit=10**6),
            store.list_orphan_stops(),
            store.list_meter_values(limit=10**9),
            store.list_data_transfers(limit=10**6),
        )

    # ------------------------------------------------------------------ the model's rules

    def admitted(self, charger: ChargerModel, action: str) -> bool:
        if charger.registration == "Accepted" or action == "BootNotification":
            return True
        if charger.registration == "Pending":
            until = charger.triggered.get(action)
            return until is not None and self.now() <= until
        return False

    def id_tag_info(self, id_tag: str) -> dict[str, Any]:
        tag = self.id_tags.get(id_tag.lower())
        if tag is None:
            return {"status": "Invalid"}
        status = tag.status
        if tag.expiry is not None and status == "Accepted" and tag.expiry <= self.now():
            status = "Expired"
        info: dict[str, Any] = {"status": status}
        if tag.parent is not None:
            info["parentIdTag"] = tag.parent
        if tag.expiry is not None:
            info["expiryDate"] = format_timestamp(tag.expiry)
        return info

    def incoming(
        self, charger_id: str, action: str, payload: dict[str, Any], *, text: str | None = None
    ) -> dict[str, Any] | None:
        """Send one CALL and check the envelope and the gate. Returns the CALLRESULT payload for the
        caller to check, or None when the answer was a cached one or a SecurityError (both checked here,
        with the store unchanged)."""
        charger = self.chargers[charger_id]
        ws = self.ensure_connected(charger)
        if text is None:
            text = call_text(self.new_uid(), action, payload)
        unique_id = json.loads(text)[1]
        cached = charger.recent.get(unique_id)
        replayed = cached is not None and cached[0] == text
        gated = not self.admitted(charger, action)
        before = self.snapshot() if replayed or gated else None
        frame = self.host.run(functools.partial(self._guarded, lambda: self._exchange(ws, text)))
        assert frame[0] in (3, 4), frame
        assert frame[1] == unique_id, f"answer to {frame[1]!r}, expected {unique_id!r}"
        if replayed:
            assert cached is not None
            assert frame == cached[1], "a repeated CALL id must get the cached answer"
        elif gated:
            assert frame[0] == 4 and frame[2] == "SecurityError", (charger.registration, action, frame)
        event(f"{action}: {'cached answer' if replayed else 'SecurityError' if gated else 'processed'}")
        if before is not None:
            assert self.snapshot() == before, (
                f"{action} changed the store ({'cached' if replayed else 'gated'})"
            )
            return None
        assert frame[0] == 3, f"{action} {payload} answered with a CALLERROR: {frame}"
        assert len(frame) == 3 and isinstance(frame[2], dict)
        charger.recent[unique_id] = (text, frame)
        charger.recent.move_to_end(unique_id)
        while len(charger.recent) > RECENT_CAPACITY:
            charger.recent.popitem(last=False)
        answer: dict[str, Any] = frame[2]
        return answer

    def expect_start(self, charger_id: str, payload: dict[str, Any], answer: dict[str, Any]) -> TxModel:
        key = (
            charger_id,
            payload["connectorId"],
            payload["idTag"],
            payload["meterStart"],
            payload["timestamp"],
        )
        info = self.id_tag_info(payload["idTag"])
        known = self.start_keys.get(key)
        if known is not None:  # a retry: same id, same status (R8.4)
            tx = self.transactions[known]
        else:
            status = info["status"]
            if status == "Accepted":
                tag = payload["idTag"].lower()
                busy = [t for t in self.transactions.values() if t.active and t.id_tag.lower() == tag]
                newest = max(busy, key=lambda t: t.transaction_id, default=None)
                if newest is not None and (newest.charger_id, newest.connector_id) != key[:2]:
                    status = "ConcurrentTx"
            transaction_id = answer.get("transactionId")
            assert isinstance(transaction_id, int) and 1 <= transaction_id <= MAX_TRANSACTION_ID
            assert transaction_id not in self.transactions, f"transaction id {transaction_id} reused"
            assert transaction_id > max(self.transactions, default=0), "ids are allocated in increasing order"
            for other in self.transactions.values():
                if other.active and (other.charger_id, other.connector_id) == key[:2]:
                    other.superseded = True
            tx = TxModel(
                transaction_id=transaction_id,
                charger_id=charger_id,
                connector_id=payload["connectorId"],
                id_tag=payload["idTag"],
                meter_start=payload["meterStart"],
                timestamp=payload["timestamp"],
                status=status,
            )
            self.transactions[transaction_id] = tx
            self.start_keys[key] = transaction_id
        assert answer == {"transactionId": tx.transaction_id, "idTagInfo": {**info, "status": tx.status}}
        return tx

    def expect_stop(self, charger_id: str, payload: dict[str, Any], answer: dict[str, Any]) -> None:
        id_tag = payload.get("idTag")
        assert answer == ({} if id_tag is None else {"idTagInfo": self.id_tag_info(id_tag)})
        transaction_id = payload["transactionId"]
        data = payload.get("transactionData")
        tx = self.transactions.get(transaction_id)
        if not 1 <= transaction_id <= MAX_TRANSACTION_ID:
            kind = "invalid_id"
        elif tx is None:
            kind = "unknown"
        elif tx.charger_id != charger_id:
            kind = "other_charger"
        else:
            if tx.stop is None:  # the first stop counts; a replay changes nothing (R8.5)
                tx.stop = (payload["meterStop"], payload["timestamp"], payload.get("reason", "Local"), id_tag)
                for meter_value in data or []:
                    key = (charger_id, tx.connector_id, transaction_id, canonical(meter_value))
                    self.expected_meter_values.setdefault(key, "StopTransaction")
            return
        orphan_key = (charger_id, transaction_id, payload["meterStop"], payload["timestamp"])
        self.orphans.setdefault(orphan_key, (kind, payload.get("reason"), id_tag, data))

    # ------------------------------------------------------------------ rules: operator set-up

    @initialize(target=tags, spellings=st.lists(tag_spellings, min_size=1, max_size=3, unique=True))
    def provision_first_tags(self, spellings: list[str]) -> Any:
        for spelling in spellings:
            self._put_tag(spelling, "Accepted", None, parent=False)
        return multiple(*spellings)

    @rule(
        target=tags, spelling=tag_spellings, status=tag_statuses, expiry=expiry_offsets, parent=st.booleans()
    )
    def provision_tag(self, spelling: str, status: str, expiry: int | None, parent: bool) -> str:
        self._put_tag(spelling, status, expiry, parent)
        return spelling

    @rule(tag=tags, mask=st.integers(0, 63), status=tag_statuses, expiry=expiry_offsets, parent=st.booleans())
    def reprovision_tag(self, tag: str, mask: int, status: str, expiry: int | None, parent: bool) -> None:
        self._put_tag(vary_case(tag, mask), status, expiry, parent)

    def _put_tag(self, spelling: str, status: str, expiry: int | None, parent: bool) -> None:
        moment = None if expiry is None else self.now().replace(microsecond=0) + dt.timedelta(seconds=expiry)
        record = IdTagRecord(
            spelling,
            status,
            None if moment is None else format_timestamp(moment),
            "PARENT-1" if parent else None,
        )
        self.host.run(functools.partial(self.csms.put_id_tag, record))
        self.id_tags[spelling.lower()] = TagModel(status, moment, record.parent_id_tag)

    @rule(seconds=st.sampled_from((1, 59, 121, 3600, 86400)))
    def advance_wall_clock(self, seconds: int) -> None:
        self.clock.advance(seconds)

    # ------------------------------------------------------------------ rules: registration

    @initialize(policies=st.tuples(*[st.one_of(st.none(), boot_policies)] * len(CHARGERS)))
    def first_boots(self, policies: tuple[str | None, ...]) -> None:
        """Most examples start with booted chargers (None: that one stays unregistered for now)."""
        for charger_id, policy in zip(CHARGERS, policies, strict=True):
            if policy is not None:
                self.boot(charger_id=charger_id, policy=policy, interval=None, serial=0)

    @rule(
        charger_id=chargers,
        policy=st.one_of(st.none(), boot_policies),
        interval=st.one_of(st.none(), st.integers(1, 3600)),
        serial=st.integers(0, 3),
    )
    def boot(self, charger_id: str, policy: str | None, interval: int | None, serial: int) -> None:
        """The operator sets this charger's boot policy (unless None), then the charger boots."""
        charger = self.chargers[charger_id]
        if policy is not None:
            self.host.run(
                functools.partial(
                    self.csms.set_charger_policy, charger_id, boot_policy=policy, heartbeat_interval=interval
                )
            )
            charger.boot_policy, charger.heartbeat_interval, charger.armed = policy, interval, True
        payload = {
            "chargePointVendor": "Acme",
            "chargePointModel": "Model-T",
            "chargePointSerialNumber": f"S{serial}",
        }
        answer = self.incoming(charger_id, "BootNotification", payload)
        if answer is None:  # a cached answer: nothing happened
            return
        status = boot_answer(charger.boot_policy or "Accepted", charger.registration, armed=charger.armed)
        accepted_interval = charger.heartbeat_interval or HEARTBEAT_DEFAULT
        assert answer == {
            "status": status,
            "currentTime": format_timestamp(self.now()),
            "interval": accepted_interval if status == "Accepted" else BOOT_RETRY_DEFAULT,
        }
        charger.registration, charger.armed = status, False
        record = self.store().get_charger(charger_id)
        assert record is not None and record.boot_info == payload

    @rule(charger_id=chargers)
    def heartbeat(self, charger_id: str) -> None:
        answer = self.incoming(charger_id, "Heartbeat", {})
        if answer is not None:
            assert answer == {"currentTime": format_timestamp(self.now())}

    # ------------------------------------------------------------------ rules: connectors and tags

    @rule(
        charger_id=chargers,
        connector=st.integers(0, 3),
        status=st.sampled_from(STATUSES),
        error_code=st.sampled_from(("NoError", "NoError", "OtherError", "GroundFailure")),
        shift=st.one_of(st.none(), st.integers(-900, 900)),
        style=styles,
    )
    def status_notification(
        self, *, charger_id: str, connector: int, status: str, error_code: str, shift: int | None, style: str
    ) -> None:
        payload: dict[str, Any] = {"connectorId": connector, "errorCode": error_code, "status": status}
        if shift is None:  # C §6.47: no timestamp means the time of receipt
            instant, stored = self.now(), format_timestamp(self.now())
        else:
            instant = self.status_cursor + dt.timedelta(seconds=shift)
            self.status_cursor = max(self.status_cursor, instant)
            payload["timestamp"] = stored = render(instant, style)
        answer = self.incoming(charger_id, "StatusNotification", payload)
        if answer is None:
            return
        assert answer == {}
        charger = self.chargers[charger_id]
        charger.history[connector] += 1
        current = charger.current.get(connector)
        if current is None or instant >= current[0]:  # never regress on an older timestamp (R4.20)
            charger.current[connector] = (instant, status, error_code, stored)

    @rule(
        charger_id=chargers,
        tag=st.one_of(tags, tags, tags, unknown_tags),
        mask=st.integers(0, 63),
    )
    def authorize(self, charger_id: str, tag: str, mask: int) -> None:
        id_tag = vary_case(tag, mask)
        answer = self.incoming(charger_id, "Authorize", {"idTag": id_tag})
        if answer is not None:
            assert answer == {"idTagInfo": self.id_tag_info(id_tag)}

    # ------------------------------------------------------------------ rules: transactions

    @rule(
        target=answered_starts,
        charger_id=chargers,
        connector=st.integers(1, 3),
        tag=st.one_of(tags, tags, tags, unknown_tags),
        mask=st.integers(0, 63),
        meter_start=st.integers(0, 10**6),
        style=styles,
    )
    def start_transaction(
        self, *, charger_id: str, connector: int, tag: str, mask: int, meter_start: int, style: str
    ) -> Any:
        payload = {
            "connectorId": connector,
            "idTag": vary_case(tag, mask),
            "meterStart": meter_start,
            "timestamp": self.moment(style),
        }
        return self._start(charger_id, payload, None)

    @rule(
        target=answered_starts,
        charger_id=chargers,
        connector=st.integers(1, 3),
        tag=st.one_of(tags, tags, tags, unknown_tags),
        meter_start=st.integers(0, 10**6),
        readings=st.lists(st.integers(1, 5000), max_size=3),
        stop=st.booleans(),
        misrouted=st.booleans(),
    )
    def charging_session(
        self,
        *,
        charger_id: str,
        connector: int,
        tag: str,
        meter_start: int,
        readings: list[int],
        stop: bool,
        misrouted: bool,
    ) -> Any:
        """An ordinary session in one step: start, a few periodic meter values, often the stop;
        ``misrouted``: the other charger first sends a stop for this transaction id (an orphan, #82)."""
        payload = {
            "connectorId": connector,
            "idTag": tag,
            "meterStart": meter_start,
            "timestamp": self.moment("ms"),
        }
        started = self._start(charger_id, payload, None)
        if not isinstance(started, Sent):
            return started
        transaction_id = started.answer["transactionId"]
        meter = meter_start
        for reading in readings:
            meter += reading
            sample = {"value": str(meter), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
            values = {
                "connectorId": connector,
                "transactionId": transaction_id,
                "meterValue": [{"timestamp": self.moment("ms"), "sampledValue": [sample]}],
            }
            self._meter_values(charger_id, values, None)
        if misrouted:
            other = next(cid for cid in CHARGERS if cid != charger_id)
            wrong = {"transactionId": transaction_id, "meterStop": meter, "timestamp": self.moment("ms")}
            self._stop(other, wrong, None)
        if stop:
            end = {
                "transactionId": transaction_id,
                "meterStop": meter,
                "timestamp": self.moment("ms"),
                "idTag": tag,
                "reason": "EVDisconnected",
            }
            self._stop(charger_id, end, None)
        return started

    @rule(target=answered_starts, start=answered_starts, same_id=st.booleans())
    def retry_start(self, start: Sent, same_id: bool) -> Any:
        """The charger never saw our answer and sends the same StartTransaction again."""
        return self._start(start.charger_id, start.payload, start.text if same_id else None)

    def _start(self, charger_id: str, payload: dict[str, Any], text: str | None) -> Any:
        text = text or call_text(self.new_uid(), "StartTransaction", payload)
        answer = self.incoming(charger_id, "StartTransaction", payload, text=text)
        if answer is None:
            return multiple()
        self.expect_start(charger_id, payload, answer)
        return Sent(charger_id, json.loads(text)[1], "StartTransaction", payload, text, answer)

    @rule(
        target=answered_stops,
        charger_id=chargers,
        which=st.sampled_from(("own", "own", "own_active", "other_charger", "unknown", "minus_one", "zero")),
        pick=st.integers(0, 10**6),
        meter_stop=st.integers(0, 10**6),
        reason=st.one_of(st.none(), st.sampled_from(STOP_REASONS)),
        tag=st.one_of(st.none(), tags, tags, unknown_tags),
        with_data=st.booleans(),
        style=styles,
    )
    def stop_transaction(
        self,
        *,
        charger_id: str,
        which: str,
        pick: int,
        meter_stop: int,
        reason: str | None,
        tag: str | None,
        with_data: bool,
        style: str,
    ) -> Any:
        candidates = sorted(
            tx.transaction_id
            for tx in self.transactions.values()
            if (tx.charger_id == charger_id) == (which != "other_charger")
            and (which != "own_active" or tx.active)
        )
        if which in ("unknown", "minus_one", "zero") or not candidates:
            transaction_id = {"minus_one": -1, "zero": 0}.get(which, 1_000_000 + pick)
        else:
            transaction_id = candidates[pick % len(candidates)]
        payload: dict[str, Any] = {
            "transactionId": transaction_id,
            "meterStop": meter_stop,
            "timestamp": self.moment(style),
        }
        if reason is not None:
            payload["reason"] = reason
        if tag is not None:
            payload["idTag"] = tag
        if with_data:
            payload["transactionData"] = [
                {
                    "timestamp": payload["timestamp"],
                    "sampledValue": [{"value": str(meter_stop), "context": "Transaction.End"}],
                }
            ]
        return self._stop(charger_id, payload, None)

    @rule(target=answered_stops, stop=answered_stops, same_id=st.booleans())
    def replay_stop(self, stop: Sent, same_id: bool) -> Any:
        return self._stop(stop.charger_id, stop.payload, stop.text if same_id else None)

    def _stop(self, charger_id: str, payload: dict[str, Any], text: str | None) -> Any:
        text = text or call_text(self.new_uid(), "StopTransaction", payload)
        answer = self.incoming(charger_id, "StopTransaction", payload, text=text)
        if answer is None:
            return multiple()
        self.expect_stop(charger_id, payload, answer)
        return Sent(charger_id, json.loads(text)[1], "StopTransaction", payload, text, answer)

    @rule(
        target=answered_meter_values,
        charger_id=chargers,
        connector=st.integers(0, 3),
        which=st.sampled_from(("none", "own", "other_charger", "unknown")),
        pick=st.integers(0, 10**6),
        values=meter_value_lists,
    )
    def meter_values(
        self,
        *,
        charger_id: str,
        connector: int,
        which: str,
        pick: int,
        values: list[tuple[int, list[dict[str, Any]]]],
    ) -> Any:
        payload: dict[str, Any] = {
            "connectorId": connector,
            "meterValue": [
                {"timestamp": render(START + dt.timedelta(minutes=minute), "ms"), "sampledValue": sampled}
                for minute, sampled in values
            ],
        }
        candidates = sorted(
            tx.transaction_id
            for tx in self.transactions.values()
            if (tx.charger_id == charger_id) == (which == "own")
        )
        if which == "unknown" or (which != "none" and not candidates):
            payload["transactionId"] = 2_000_000 + pick
        elif which != "none":
            payload["transactionId"] = candidates[pick % len(candidates)]
        return self._meter_values(charger_id, payload, None)

    @rule(target=answered_meter_values, sent=answered_meter_values, same_id=st.booleans())
    def replay_meter_values(self, sent: Sent, same_id: bool) -> Any:
        return self._meter_values(sent.charger_id, sent.payload, sent.text if same_id else None)

    def _meter_values(self, charger_id: str, payload: dict[str, Any], text: str | None) -> Any:
        text = text or call_text(self.new_uid(), "MeterValues", payload)
        answer = self.incoming(charger_id, "MeterValues", payload, text=text)
        if answer is None:
            return multiple()
        assert answer == {}
        for meter_value in payload["meterValue"]:
            key = (charger_id, payload["connectorId"], payload.get("transactionId"), canonical(meter_value))
            self.expected_meter_values.setdefault(key, "MeterValues")
        return Sent(charger_id, json.loads(text)[1], "MeterValues", payload, text, answer)

    # ------------------------------------------------------------------ rules: connections

    @rule(charger_id=chargers, replace=st.booleans())
    def reconnect(self, charger_id: str, replace: bool) -> None:
        """A new connection, no BootNotification (J §5.4): registration must persist (R1.28)."""
        charger = self.chargers[charger_id]
        old = charger.ws
        if old is not None and replace:  # decision 9: the new connection wins, the old one is closed
            charger.ws = self.host.run(
                functools.partial(self._guarded, lambda: self._replace(charger_id, old))
            )
            return
        if old is not None:
            self.host.run(functools.partial(self._guarded, lambda: self._close(charger_id, old)))
            charger.ws = None
        self.ensure_connected(charger)

    @rule(charger_id=chargers)
    def disconnect(self, charger_id: str) -> None:
        charger = self.chargers[charger_id]
        ws = charger.ws
        if ws is not None:
            self.host.run(functools.partial(self._guarded, lambda: self._close(charger_id, ws)))
            charger.ws = None

    @rule()
    def restart_csms(self) -> None:
        """Stop the Central System and start a new one on the same store: only the store remembers."""
        self._disconnect_all()
        self.host.stop()
        self.csms, self.host = self._start_csms(self.backend.restart_store())
        for charger in self.chargers.values():
            charger.triggered.clear()
            charger.recent.clear()
            charger.armed = False

    # ------------------------------------------------------------------ rules: operator calls

    @rule(
        charger_id=chargers,
        action=st.sampled_from(
            ("RemoteStartTransaction", "GetConfiguration", "ChangeConfiguration", "TriggerMessage")
        ),
        data=st.data(),
    )
    def operator_call(self, charger_id: str, action: str, data: st.DataObject) -> None:
        charger = self.chargers[charger_id]
        device = charger.device_keys
        key_names = [*CHARGER_KEYS, "NoSuchKey"]
        error_answer = data.draw(st.integers(0, 5)) == 0  # the charger answers with a CALLERROR
        payload: dict[str, Any]
        answer: dict[str, Any]
        if action == "RemoteStartTransaction":
            payload = {"idTag": data.draw(unknown_tags)}
            connector = data.draw(st.one_of(st.none(), st.integers(1, 3)))
            if connector is not None:
                payload["connectorId"] = connector
            answer = {"status": data.draw(st.sampled_from(("Accepted", "Rejected")))}
        elif action == "GetConfiguration":
            keys = data.draw(
                st.one_of(
                    st.none(),
                    st.lists(st.sampled_from(key_names), min_size=1, max_size=3, unique=True),
                )
            )
            payload = {} if keys is None else {"key": keys}
            wanted = list(device) if keys is None else keys
            answer = {
                "configurationKey": [
                    {"key": k, "readonly": device[k][0], "value": device[k][1]} for k in wanted if k in device
                ]
            }
            unknown = [k for k in wanted if k not in device]
            if unknown:
                answer["unknownKey"] = unknown
        elif action == "ChangeConfiguration":
            payload = {
                "key": data.draw(st.sampled_from(key_names)),
                "value": str(data.draw(st.integers(1, 999))),
            }
            answer = {
                "status": data.draw(
                    st.sampled_from(("Accepted", "Rejected", "RebootRequired", "NotSupported"))
                )
            }
        else:
            payload = {"requestedMessage": data.draw(st.sampled_from(TRIGGERABLE))}
            answer = {
                "status": data.draw(st.sampled_from(("Accepted", "Accepted", "Rejected", "NotImplemented")))
            }

        self.operate(charger, action, payload, answer, error_answer=error_answer)

    @rule(
        charger_id=chargers,
        message=st.sampled_from(("Heartbeat", "StatusNotification", "MeterValues")),
        connector=st.integers(0, 3),
        status=st.sampled_from(STATUSES),
        values=meter_value_lists,
    )
    def trigger_then_send(
        self, charger_id: str, message: str, connector: int, status: str, values: list[Any]
    ) -> None:
        """The operator triggers a message, the charger accepts and sends it: the one thing besides
        BootNotification a Pending charger may send (C §4.2, §5.17; R2.6)."""
        charger = self.chargers[charger_id]
        self.ensure_connected(charger)
        self.operate(charger, "TriggerMessage", {"requestedMessage": message}, {"status": "Accepted"})
        if message == "Heartbeat":
            self.heartbeat(charger_id=charger_id)
        elif message == "StatusNotification":
            self.status_notification(
                charger_id=charger_id,
                connector=connector,
                status=status,
                error_code="NoError",
                shift=1,
                style="Z",
            )
        else:
            self.meter_values(charger_id=charger_id, connector=connector, which="none", pick=0, values=values)

    def operate(
        self,
        charger: ChargerModel,
        action: str,
        payload: dict[str, Any],
        answer: dict[str, Any],
        *,
        error_answer: bool = False,
    ) -> None:
        """An operator call, answered by the simulated charger (``answer``, or a CALLERROR): checks it
        reaches the charger exactly when the charger's state allows (C §4.2) and comes back as answered."""
        outcome, seen = self.host.run(
            functools.partial(
                self._guarded, lambda: self._operator(charger, action, payload, answer, error_answer)
            )
        )
        if charger.ws is None:
            assert isinstance(outcome, ChargerOfflineError), outcome
        elif charger.registration not in ("Accepted", "Pending") or (
            charger.registration == "Pending" and action not in PENDING_MAY_RECEIVE
        ):
            assert isinstance(outcome, RefusedByStateError), (charger.registration, action, outcome)
        else:
            assert len(seen) == 1 and seen[0][0] == 2 and seen[0][2:] == [action, payload], seen
            if error_answer:
                assert isinstance(outcome, CallErrorResponse) and outcome.code == "NotSupported", outcome
            else:
                assert outcome == answer
            self._learn_from_answer(charger, action, payload, None if error_answer else answer)
            return
        assert seen == [], f"{action} reached a charger that may not receive it: {seen}"

    async def _operator(
        self,
        charger: ChargerModel,
        action: str,
        payload: dict[str, Any],
        answer: dict[str, Any],
        error_answer: bool,
    ) -> tuple[dict[str, Any] | Exception, list[list[Any]]]:
        seen: list[list[Any]] = []
        ws = charger.ws

        async def play_charger(ws: WebSocketConnection) -> None:
            message = await ws.get_message()
            assert isinstance(message, str)
            frame = json.loads(message)
            seen.append(frame)
            reply = [4, frame[1], "NotSupported", "", {}] if error_answer else [3, frame[1], answer]
            await ws.send_message(json.dumps(reply))

        outcome: dict[str, Any] | Exception
        async with trio.open_nursery() as nursery:
            if ws is not None:
                nursery.start_soon(play_charger, ws)
            try:
                outcome = await self.csms.call(charger.charger_id, action, payload)
            except (CallFailedError, RefusedByStateError) as exc:
                outcome = exc
            await trio.testing.wait_all_tasks_blocked()
            nursery.cancel_scope.cancel()
        if ws is not None:
            await self._assert_quiet(ws)
        return outcome, seen

    def _learn_from_answer(
        self, charger: ChargerModel, action: str, payload: dict[str, Any], answer: dict[str, Any] | None
    ) -> None:
        if action == "TriggerMessage":
            requested = payload["requestedMessage"]
            if answer is not None and answer["status"] == "Accepted":
                charger.triggered[requested] = self.now() + TRIGGER_WINDOW
            else:
                charger.triggered.pop(requested, None)
        elif action == "GetConfiguration" and answer is not None:
            snapshot = {
                entry["key"]: REDACTED if entry["key"] == "AuthorizationKey" else entry.get("value")
                for entry in answer.get("configurationKey", [])
            }
            if payload.get("key"):
                charger.configuration.update(snapshot)
            else:
                charger.configuration = snapshot
        elif action == "ChangeConfiguration" and answer is not None and answer["status"] == "Accepted":
            key = payload["key"]
            if key in charger.device_keys and not charger.device_keys[key][0]:
                charger.device_keys[key] = (False, payload["value"])

    # ------------------------------------------------------------------ invariants

    @invariant()
    def transactions_are_stored_as_answered(self) -> None:
        stored = {tx.transaction_id: tx for tx in self.store().list_transactions(limit=10**6)}
        assert set(stored) == set(self.transactions), "an acknowledged start is missing, or one too many"
        for transaction_id, model in self.transactions.items():
            record = stored[transaction_id]
            assert (
                record.charger_id,
                record.connector_id,
                record.id_tag,
                record.meter_start,
                record.start_timestamp,
                record.start_status,
            ) == (
                model.charger_id,
                model.connector_id,
                model.id_tag,
                model.meter_start,
                model.timestamp,
                model.status,
            ), transaction_id
            stop = (
                None
                if record.stopped_at is None
                else (record.meter_stop, record.stop_timestamp, record.stop_reason, record.stop_id_tag)
            )
            assert stop == model.stop, (transaction_id, stop, model.stop)
            assert record.active == model.active, transaction_id

    @invariant()
    def orphan_stops_are_kept(self) -> None:
        stored = Counter(
            (
                o.charger_id,
                o.transaction_id,
                o.meter_stop,
                o.stop_timestamp,
                o.kind,
                o.reason,
                o.id_tag,
                canonical(o.transaction_data),
            )
            for o in self.store().list_orphan_stops()
        )
        expected = Counter(
            (*key, kind, reason, id_tag, canonical(data))
            for key, (kind, reason, id_tag, data) in self.orphans.items()
        )
        assert stored == expected

    @invariant()
    def meter_values_are_stored_once(self) -> None:
        stored = Counter(
            (
                mv.charger_id,
                mv.connector_id,
                mv.transaction_id,
                canonical({"timestamp": mv.timestamp, "sampledValue": mv.sampled_values}),
                mv.source,
            )
            for mv in self.store().list_meter_values(limit=10**9)
        )
        expected = Counter((*key, source) for key, source in self.expected_meter_values.items())
        assert stored == expected

    @invariant()
    def connectors_show_the_newest_status(self) -> None:
        store = self.store()
        for charger_id, charger in self.chargers.items():
            current = {
                c.connector_id: (c.status, c.error_code, c.status_timestamp)
                for c in store.get_connectors(charger_id)
            }
            expected = {c: (status, code, ts) for c, (_, status, code, ts) in charger.current.items()}
            assert current == expected, charger_id
            for connector in range(4):
                history = store.status_history(charger_id, connector, 10**6)
                assert len(history) == charger.history[connector], (charger_id, connector)

    @invariant()
    def registration_and_configuration_persist(self) -> None:
        for charger_id, charger in self.chargers.items():
            record = self.store().get_charger(charger_id)
            if record is None:
                assert charger.registration is None
                continue
            assert record.registration_status == charger.registration, charger_id
            assert record.boot_policy == charger.boot_policy, charger_id
            assert record.configuration == charger.configuration, charger_id


def _settings(max_examples: int) -> settings:
    return settings(
        settings.default,
        max_examples=max_examples,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def test_core_profile_against_the_model_on_a_memory_store() -> None:
    run_state_machine_as_test(
        lambda: CoreMachine(MemoryBackend()), settings=_settings(settings.default.max_examples)
    )


def test_core_profile_against_the_model_on_a_sqlite_store(tmp_path: Path) -> None:
    files = itertools.count()
    run_state_machine_as_test(
        lambda: CoreMachine(SqliteBackend(tmp_path / f"core-{next(files)}.sqlite")),
        settings=_settings(min(settings.default.max_examples, SQLITE_EXAMPLES)),
    )


# ---------------------------------------------------------------------------------------------- found by it

#: Frames that name the AuthorizationKey inside a list under "key": the operator's GetConfiguration for
#: that key, and the same shape sent by a charger (schema-invalid, but logged before it is validated).
KEY_LIST_FRAMES = {
    "operator GetConfiguration": None,
    "charger frame": [2, "bad-1", "Heartbeat", {"key": ["AuthorizationKey"]}],
}


@pytest.mark.parametrize("case", list(KEY_LIST_FRAMES))
async def test_a_key_list_naming_the_authorization_key_does_not_stop_the_csms(
    case: str, autojump_clock: trio.testing.MockClock
) -> None:
    """The message-log writer redacts every frame mentioning AuthorizationKey; a ``"key"`` holding a
    list (GetConfiguration.req) must not crash it — the writer runs in the Csms's background nursery,
    so its crash ends every connection (and, under ``serve``, the server)."""
    csms = Csms(Config(server=ServerConfig(ping_interval=0)), clock=FixedClock(START), store=MemoryStore())
    boot = {"chargePointVendor": "Acme", "chargePointModel": "Model-T"}
    async with trio.open_nursery() as nursery:
        await nursery.start(csms.run_background)
        ws = await csms.open_memory_connection("/ocpp/CP-1", ["ocpp1.6"])
        await ws.send_message(call_text("1", "BootNotification", boot))
        assert json.loads(await ws.get_message())[2]["status"] == "Accepted"
        frame = KEY_LIST_FRAMES[case]
        if frame is None:

            async def answer() -> None:
                call = json.loads(await ws.get_message())
                await ws.send_message(json.dumps([3, call[1], {"unknownKey": ["AuthorizationKey"]}]))

            nursery.start_soon(answer)
            result = await csms.call("CP-1", "GetConfiguration", {"key": ["AuthorizationKey"]})
            assert result == {"unknownKey": ["AuthorizationKey"]}
        else:
            await ws.send_message(json.dumps(frame))
            assert json.loads(await ws.get_message())[:3] == [4, "bad-1", "FormationViolation"]
        await trio.sleep(1)  # the log writer has run
        await ws.send_message(call_text("2", "Heartbeat", {}))
        assert json.loads(await ws.get_message())[:2] == [3, "2"]
        nursery.cancel_scope.cancel()
