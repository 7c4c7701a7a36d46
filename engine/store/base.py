"""The store contract: records, outcomes, errors and the :class:`Store` protocol.

Everything a handler must not lose goes through a store (design.md decisions 6, 7; rules §8.1–8.2). The
API is synchronous and thread-safe: the Trio shell calls it from a worker thread
(``trio.to_thread.run_sync``). Every write method has committed when it returns, so the caller may
acknowledge the charger straight after ("committed before acknowledged", R8.1).

Shared rules, kept identical by :class:`~engine.store.memory.MemoryStore` and
:class:`~engine.store.sqlite.SqliteStore`:

- Charger ids are matched exactly (case-sensitive); id tags case-insensitively on their ASCII letters
  (IdToken is a case-insensitive CiString, R4.7) while the spelling given is kept.
- JSON-ish values (boot info, configuration, meter values, DataTransfer data) are written with
  :func:`engine.protocol.jsontext.dumps` and read back with :func:`~engine.protocol.jsontext.loads`, so
  ``Decimal`` numbers survive exactly and a float given in comes back as ``Decimal``.
- Transaction ids are positive int32, allocated in increasing order, never reused (R4.6).
- Integers from the wire are never a reason to fail: values beyond int64 are kept exactly.
- :meth:`Store.group` turns many calls into one commit; a write method called inside it is durable when the
  group has exited, not when the method returns.
- Lists documented as "newest first" are ordered by arrival, not by the charger's timestamps.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from engine.clock import parse_timestamp
from engine.protocol import jsontext

#: Largest transaction id a charger can hold (int32, R4.6).
MAX_TRANSACTION_ID = 2_147_483_647


class StoreError(Exception):
    """Base class of the errors a store raises on purpose."""


class TransactionIdsExhausted(StoreError):
    """Every positive int32 transaction id has been handed out; none can ever be reused."""


class UnknownChargerError(StoreError, LookupError):
    """A method that changes an existing charger was given an id the store does not know."""


class SchemaVersionError(StoreError):
    """The database was written by a newer schema than this code knows (migrations are forward-only)."""


class StopOutcome(enum.Enum):
    """What :meth:`Store.stop_transaction` did. The charger is answered normally in every case."""

    STOPPED = "stopped"  # the open transaction is now stopped
    REPLAY = "replay"  # it was stopped before: nothing changed, no second stop row (R8.5)
    ORPHAN = "orphan"  # unknown, -1/0, or another charger's id: kept in ``orphan_stops`` (R4.4, #82/#83)


class RegistrationStatus(enum.StrEnum):
    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class IdTagStatus(enum.StrEnum):
    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"


class TransactionFlag(enum.StrEnum):
    """Flags the store sets itself; callers may add their own with :meth:`Store.add_transaction_flags`."""

    SUPERSEDED = "superseded"  # a later start arrived on the same connector before this one stopped
    METER_DECREASED = "meter_decreased"  # meterStop < meterStart
    STOP_BEFORE_START = "stop_before_start"  # stop timestamp earlier than the start timestamp


class OrphanKind(enum.StrEnum):
    """Why a StopTransaction became an orphan."""

    INVALID_ID = "invalid_id"  # not a positive int32 (-1, 0, huge)
    UNKNOWN = "unknown"  # a plausible id this CSMS never allocated
    OTHER_CHARGER = "other_charger"  # allocated to a transaction of another charger


@dataclass(frozen=True, slots=True)
class ChargerRecord:
    charger_id: str
    registration_status: str | None  # "Accepted"/"Pending"/"Rejected"; None = never booted here
    boot_info: dict[str, Any]  # the last BootNotification payload, as sent
    boot_policy: str | None  # per-charger override of the default boot policy
    heartbeat_interval: int | None  # per-charger override
    flags: frozenset[str]  # leniency flags (design.md decision 8)
    first_seen: str
    last_seen: str | None
    last_boot: str | None
    configuration: dict[str, str | None]  # snapshot from GetConfiguration


@dataclass(frozen=True, slots=True)
class ConnectorRecord:
    """The current status of a connector, or one StatusNotification of its history.

    ``status_timestamp`` is the charger's timestamp (as sent); ``updated_at`` when we received it."""

    charger_id: str
    connector_id: int
    status: str
    error_code: str
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    status_timestamp: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class IdTagRecord:
    id_tag: str
    status: str  # Accepted/Blocked/Expired/Invalid
    expiry_date: str | None = None
    parent_id_tag: str | None = None


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    transaction_id: int
    charger_id: str
    connector_id: int
    id_tag: str
    meter_start: int
    start_timestamp: str  # the charger's timestamp, as sent
    reservation_id: int | None
    start_status: str  # the idTagInfo status we answered (a retry gets the same one, R8.4)
    meter_stop: int | None
    stop_timestamp: str | None
    stop_reason: str | None  # "Local" when the charger sent none (C §6.49)
    stop_id_tag: str | None
    stopped_at: str | None  # when we received the StopTransaction
    flags: frozenset[str]
    started_at: str = ""  # when we received the StartTransaction

    @property
    def active(self) -> bool:
        """Open: not stopped and not superseded by a later start on its connector."""
        return self.stopped_at is None and TransactionFlag.SUPERSEDED not in self.flags


@dataclass(frozen=True, slots=True)
class OrphanStopRecord:
    """A StopTransaction that matched no transaction of its charger, kept whole (nothing is lost)."""

    charger_id: str
    transaction_id: int
    kind: str  # an OrphanKind value
    meter_stop: int
    stop_timestamp: str
    reason: str | None  # as sent (None = absent, which means Local)
    id_tag: str | None
    transaction_data: list[Any] | None
    received_at: str


@dataclass(frozen=True, slots=True)
class MeterValueRecord:
    """One OCPP MeterValue object as sent; ``text`` is its stored JSON text (jsontext.dumps)."""

    charger_id: str
    connector_id: int
    transaction_id: int | None
    timestamp: str | None
    sampled_values: list[dict[str, Any]]
    source: str  # "MeterValues", "StopTransaction", …
    received_at: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class DataTransferRecord:
    charger_id: str
    direction: str  # "in" (charger → CSMS) or "out"
    vendor_id: str
    message_id: str | None
    data: Any
    status: str | None
    at: str


@dataclass(frozen=True, slots=True)
class LogRecord:
    charger_id: str
    direction: str  # "in"/"out"
    text: str
    at: str


def id_tag_key(id_tag: str) -> str:
    """The matching key of an id tag: ASCII letters folded to lower case (CiString, R4.7).

    Only ASCII is folded, on purpose: it is what a CiString may hold, and it is what SQLite's NOCASE
    does, so both stores match the same pairs."""
    return id_tag.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def parse_instant(text: str | None) -> dt.datetime | None:
    """An OCPP timestamp as an aware UTC datetime, or None when it cannot be read."""
    if text is None:
        return None
    try:
        return parse_timestamp(text)
    except (ValueError, TypeError, OverflowError):
        return None


def later_or_equal(new: str, current: str, *, new_received_at: str) -> bool:
    """True when the status timestamped ``new`` is not older than the one timestamped ``current``.

    Compared as UTC instants, never as text. An unreadable ``new`` stands for its receipt time; an
    unreadable ``current`` never blocks an update."""
    new_instant = parse_instant(new) or parse_instant(new_received_at)
    current_instant = parse_instant(current)
    if current_instant is None:
        return True
    if new_instant is None:
        return False
    return new_instant >= current_instant


def stop_flags(meter_start: int, start_timestamp: str, meter_stop: int, stop_timestamp: str) -> set[str]:
    """The suspect-data flags a stop adds (R4.17, catalogue #85)."""
    flags: set[str] = set()
    if meter_stop < meter_start:
        flags.add(TransactionFlag.METER_DECREASED.value)
    start, stop = parse_instant(start_timestamp), parse_instant(stop_timestamp)
    if start is not None and stop is not None and stop < start:
        flags.add(TransactionFlag.STOP_BEFORE_START.value)
    return flags


def orphan_kind_for_id(transaction_id: int) -> OrphanKind | None:
    """INVALID_ID for ids no transaction can have; None for ids worth looking up."""
    if 1 <= transaction_id <= MAX_TRANSACTION_ID:
        return None
    return OrphanKind.INVALID_ID


def canonical_json(value: Any) -> str:
    """JSON text with object keys sorted (numbers written exactly): equal for equal values."""
    return jsontext.dumps_sorted(value)


def _digest(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def meter_value_body_and_digest(meter_value: Any) -> tuple[str, str]:
    """The stored text of one MeterValue object (as sent) and its replay key, written in one go."""
    text, canonical = jsontext.dumps_both(meter_value)
    return text, _digest(canonical)


def meter_value_digest(meter_value: Any) -> str:
    """The replay key of one MeterValue object: SHA-256 of its canonical JSON text."""
    return _digest(canonical_json(meter_value))


def plain_flags(flags: frozenset[str] | set[str]) -> frozenset[str]:
    """Flags as plain ``str`` (a StrEnum member is kept as its value)."""
    return frozenset(str(flag) for flag in flags)


class Store(Protocol):
    """Persistence of the CSMS. Synchronous, thread-safe; each write has committed when it returns."""

    @property
    def schema_version(self) -> int: ...

    def close(self) -> None: ...

    def group(self) -> AbstractContextManager[None]:
        """Many calls as one commit (group commit): inside the block each write method is atomic on its
        own, and all of them are durable once the block has exited without an exception. The shell
        acknowledges none of them before that."""
        ...

    # -- chargers ---------------------------------------------------------------------------------
    def get_charger(self, charger_id: str) -> ChargerRecord | None:
        """The charger with exactly this id (case-sensitive), or None."""
        ...

    def ensure_charger(self, charger_id: str, at: str) -> ChargerRecord:
        """The charger, created (never booted, ``first_seen=at``) if missing."""
        ...

    def record_boot(self, charger_id: str, boot_info: dict[str, Any], status: str, at: str) -> None:
        """A BootNotification answered with ``status``; creates the charger if missing."""
        ...

    def set_registration_status(self, charger_id: str, status: str | None) -> None:
        """Raises :class:`UnknownChargerError` for an unknown charger (as do the other ``set_*``)."""
        ...

    def set_charger_policy(
        self, charger_id: str, *, boot_policy: str | None, heartbeat_interval: int | None
    ) -> None: ...

    def set_charger_flags(self, charger_id: str, flags: frozenset[str]) -> None: ...

    def touch_charger(self, charger_id: str, at: str) -> None:
        """``last_seen = at``; creates the charger if missing."""
        ...

    def touch_chargers(self, seen: Mapping[str, str]) -> None:
        """:meth:`touch_charger` for many chargers (charger id → last seen) in one write."""
        ...

    def save_configuration(self, charger_id: str, config: dict[str, str | None]) -> None: ...

    def list_chargers(self) -> list[ChargerRecord]:
        """All chargers, by id."""
        ...

    def delete_charger(self, charger_id: str) -> bool:
        """Forget the charger and its current connector states. Transactions, meter values, history and
        logs are billing/audit data and stay. Returns whether it existed."""
        ...

    # -- connectors -------------------------------------------------------------------------------
    def record_status(
        self,
        charger_id: str,
        connector_id: int,
        status: str,
        error_code: str,
        *,
        info: str | None = None,
        vendor_id: str | None = None,
        vendor_error_code: str | None = None,
        timestamp: str,
        received_at: str,
    ) -> bool:
        """Append to the history; update the current status unless ``timestamp`` is older than the
        current one (R4.20, #92). Returns whether the current status was written."""
        ...

    def get_connectors(self, charger_id: str) -> list[ConnectorRecord]:
        """Current statuses, by connector id."""
        ...

    def status_history(self, charger_id: str, connector_id: int, limit: int = 100) -> list[ConnectorRecord]:
        """StatusNotifications of one connector, newest first (``updated_at`` = received at)."""
        ...

    # -- id tags ----------------------------------------------------------------------------------
    def put_id_tag(self, record: IdTagRecord) -> None:
        """Insert or replace (matched case-insensitively; the new spelling is kept)."""
        ...

    def get_id_tag(self, id_tag: str) -> IdTagRecord | None: ...

    def delete_id_tag(self, id_tag: str) -> bool: ...

    def list_id_tags(self) -> list[IdTagRecord]:
        """All id tags, by matching key."""
        ...

    # -- transactions -----------------------------------------------------------------------------
    def start_transaction(
        self,
        charger_id: str,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: str,
        *,
        reservation_id: int | None,
        start_status: str,
        received_at: str,
        flags: frozenset[str] = frozenset(),
    ) -> tuple[TransactionRecord, bool]:
        """Allocate and commit a transaction id; returns (record, created).

        Idempotent on (charger_id, connector_id, id_tag, meter_start, timestamp): a retry returns the
        stored record (same id, same ``start_status``) and created=False (R8.4). An open transaction on
        the same connector is flagged ``superseded`` (R4.17). Raises :class:`TransactionIdsExhausted`."""
        ...

    def stop_transaction(
        self,
        charger_id: str,
        transaction_id: int,
        *,
        meter_stop: int,
        timestamp: str,
        reason: str | None,
        id_tag: str | None,
        transaction_data: list[Any] | None,
        received_at: str,
    ) -> StopOutcome:
        """Stop, or recognise a replay, or keep an orphan. ``transaction_data`` is stored as meter values
        (source "StopTransaction") of a STOPPED transaction, and inside the row of an ORPHAN."""
        ...

    def get_transaction(self, transaction_id: int) -> TransactionRecord | None: ...

    def list_transactions(
        self, *, charger_id: str | None = None, active: bool | None = None, limit: int = 100
    ) -> list[TransactionRecord]:
        """Newest first. ``active``: see :attr:`TransactionRecord.active`."""
        ...

    def active_transaction_for_tag(self, id_tag: str) -> TransactionRecord | None:
        """The newest active transaction of this id tag (case-insensitive), on any charger."""
        ...

    def active_transaction_on(self, charger_id: str, connector_id: int) -> TransactionRecord | None: ...

    def add_transaction_flags(self, transaction_id: int, flags: frozenset[str]) -> bool:
        """Add flags to a transaction; returns False when the id is unknown."""
        ...

    def raise_transaction_id_floor(self, next_id: int) -> None:
        """Make every id allocated from now on >= ``next_id`` (never lowers). For a CSMS taking over
        chargers that still hold ids of a previous system."""
        ...

    def list_orphan_stops(self, charger_id: str | None = None) -> list[OrphanStopRecord]:
        """Newest first."""
        ...

    # -- meter values -----------------------------------------------------------------------------
    def add_meter_values(
        self,
        charger_id: str,
        connector_id: int,
        transaction_id: int | None,
        meter_values: list[dict[str, Any]],
        *,
        source: str,
        received_at: str,
    ) -> int:
        """Store each MeterValue object as sent; replays (same charger, connector, transaction and
        canonical JSON) are skipped. Returns how many were new."""
        ...

    def list_meter_values(
        self, *, charger_id: str | None = None, transaction_id: int | None = None, limit: int = 1000
    ) -> list[MeterValueRecord]:
        """In arrival order (oldest first: the order a bill reads them)."""
        ...

    # -- data transfer ----------------------------------------------------------------------------
    def add_data_transfer(
        self,
        charger_id: str,
        direction: str,
        vendor_id: str,
        message_id: str | None,
        data: Any,
        *,
        status: str | None,
        at: str,
    ) -> None: ...

    def list_data_transfers(
        self, charger_id: str | None = None, limit: int = 100
    ) -> list[DataTransferRecord]:
        """Newest first."""
        ...

    # -- message log ------------------------------------------------------------------------------
    def log_message(self, charger_id: str, direction: str, text: str, at: str) -> None: ...

    def log_messages(self, records: list[LogRecord]) -> None:
        """Append many log records in one commit (the shell's log writer batches frames)."""
        ...

    def message_log(self, charger_id: str, limit: int = 100) -> list[LogRecord]:
        """Newest first."""
        ...
