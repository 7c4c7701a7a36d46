"""An in-memory :class:`~engine.store.base.Store` for tests: the same behaviour as the SQLite store.

JSON-ish values are kept as jsontext and parsed on every read, exactly as the SQLite store does, so
callers get fresh objects (mutating a returned dict changes nothing stored) and the same types back.
A :class:`threading.Lock` makes every method atomic.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

from engine.protocol import jsontext
from engine.store.base import (
    MAX_TRANSACTION_ID,
    ChargerRecord,
    ConnectorRecord,
    DataTransferRecord,
    IdTagRecord,
    LogRecord,
    MeterValueRecord,
    OrphanKind,
    OrphanStopRecord,
    StopOutcome,
    Store,
    TransactionFlag,
    TransactionIdsExhausted,
    TransactionRecord,
    UnknownChargerError,
    id_tag_key,
    later_or_equal,
    meter_value_digest,
    orphan_kind_for_id,
    plain_flags,
    stop_flags,
)
from engine.store.migrations import LATEST_VERSION


@dataclass(slots=True)
class _Charger:
    charger_id: str
    first_seen: str
    registration_status: str | None = None
    boot_info: str = "{}"
    boot_policy: str | None = None
    heartbeat_interval: int | None = None
    flags: frozenset[str] = frozenset()
    last_seen: str | None = None
    last_boot: str | None = None
    configuration: str = "{}"

    def record(self) -> ChargerRecord:
        return ChargerRecord(
            charger_id=self.charger_id,
            registration_status=self.registration_status,
            boot_info=jsontext.loads(self.boot_info),
            boot_policy=self.boot_policy,
            heartbeat_interval=self.heartbeat_interval,
            flags=self.flags,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            last_boot=self.last_boot,
            configuration=jsontext.loads(self.configuration),
        )


@dataclass(frozen=True, slots=True)
class _Orphan:
    record: OrphanStopRecord
    data_text: str | None


@dataclass(frozen=True, slots=True)
class _MeterValue:
    charger_id: str
    connector_id: int
    transaction_id: int | None
    timestamp: str | None
    text: str
    source: str
    received_at: str

    def record(self) -> MeterValueRecord:
        body = jsontext.loads(self.text)
        sampled = body.get("sampledValue", []) if isinstance(body, dict) else []
        return MeterValueRecord(
            charger_id=self.charger_id,
            connector_id=self.connector_id,
            transaction_id=self.transaction_id,
            timestamp=self.timestamp,
            sampled_values=sampled if isinstance(sampled, list) else [],
            source=self.source,
            received_at=self.received_at,
            text=self.text,
        )


class MemoryStore:
    """:class:`~engine.store.base.Store` in dictionaries; nothing survives :meth:`close`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chargers: dict[str, _Charger] = {}
        self._connectors: dict[tuple[str, int], ConnectorRecord] = {}
        self._history: list[ConnectorRecord] = []
        self._id_tags: dict[str, IdTagRecord] = {}
        self._transactions: dict[int, TransactionRecord] = {}
        self._start_keys: dict[tuple[str, int, str, int, str], int] = {}
        self._next_transaction_id = 1
        self._orphans: list[_Orphan] = []
        self._orphan_keys: set[tuple[str, int, int, str]] = set()
        self._meter_values: list[_MeterValue] = []
        self._meter_keys: set[tuple[str, int, int | None, str]] = set()
        self._data_transfers: list[tuple[str, str, str, str | None, str, str | None, str]] = []
        self._log: list[LogRecord] = []

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return LATEST_VERSION

    def close(self) -> None:
        pass

    @contextmanager
    def group(self) -> Iterator[None]:
        """Nothing here is durable, so a group is a plain block: each call takes effect at once."""
        yield

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- chargers ---------------------------------------------------------------------------------
    def _ensure(self, charger_id: str, at: str) -> _Charger:
        charger = self._chargers.get(charger_id)
        if charger is None:
            charger = self._chargers[charger_id] = _Charger(charger_id, first_seen=at)
        return charger

    def _existing(self, charger_id: str) -> _Charger:
        charger = self._chargers.get(charger_id)
        if charger is None:
            raise UnknownChargerError(charger_id)
        return charger

    def get_charger(self, charger_id: str) -> ChargerRecord | None:
        with self._lock:
            charger = self._chargers.get(charger_id)
            return None if charger is None else charger.record()

    def ensure_charger(self, charger_id: str, at: str) -> ChargerRecord:
        with self._lock:
            return self._ensure(charger_id, at).record()

    def record_boot(self, charger_id: str, boot_info: dict[str, Any], status: str, at: str) -> None:
        info = jsontext.dumps(boot_info)
        with self._lock:
            charger = self._ensure(charger_id, at)
            charger.boot_info = info
            charger.registration_status = str(status)
            charger.last_boot = charger.last_seen = at

    def set_registration_status(self, charger_id: str, status: str | None) -> None:
        with self._lock:
            self._existing(charger_id).registration_status = None if status is None else str(status)

    def set_charger_policy(
        self, charger_id: str, *, boot_policy: str | None, heartbeat_interval: int | None
    ) -> None:
        with self._lock:
            charger = self._existing(charger_id)
            charger.boot_policy = None if boot_policy is None else str(boot_policy)
            charger.heartbeat_interval = heartbeat_interval

    def set_charger_flags(self, charger_id: str, flags: frozenset[str]) -> None:
        with self._lock:
            self._existing(charger_id).flags = plain_flags(flags)

    def touch_charger(self, charger_id: str, at: str) -> None:
        with self._lock:
            self._ensure(charger_id, at).last_seen = at

    def touch_chargers(self, seen: Mapping[str, str]) -> None:
        with self._lock:
            for charger_id, at in seen.items():
                self._ensure(charger_id, at).last_seen = at

    def save_configuration(self, charger_id: str, config: dict[str, str | None]) -> None:
        text = jsontext.dumps(config)
        with self._lock:
            self._existing(charger_id).configuration = text

    def list_chargers(self) -> list[ChargerRecord]:
        with self._lock:
            return [self._chargers[key].record() for key in sorted(self._chargers)]

    def delete_charger(self, charger_id: str) -> bool:
        with self._lock:
            if self._chargers.pop(charger_id, None) is None:
                return False
            for key in [key for key in self._connectors if key[0] == charger_id]:
                del self._connectors[key]
            return True

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
        record = ConnectorRecord(
            charger_id=charger_id,
            connector_id=connector_id,
            status=str(status),
            error_code=str(error_code),
            info=info,
            vendor_id=vendor_id,
            vendor_error_code=vendor_error_code,
            status_timestamp=timestamp,
            updated_at=received_at,
        )
        with self._lock:
            self._history.append(record)
            current = self._connectors.get((charger_id, connector_id))
            if current is not None and not later_or_equal(
                timestamp, current.status_timestamp, new_received_at=received_at
            ):
                return False
            self._ensure(charger_id, received_at)
            self._connectors[charger_id, connector_id] = record
            return True

    def get_connectors(self, charger_id: str) -> list[ConnectorRecord]:
        with self._lock:
            found = [record for key, record in self._connectors.items() if key[0] == charger_id]
        return sorted(found, key=lambda record: record.connector_id)

    def status_history(self, charger_id: str, connector_id: int, limit: int = 100) -> list[ConnectorRecord]:
        with self._lock:
            found = [
                record
                for record in reversed(self._history)
                if record.charger_id == charger_id and record.connector_id == connector_id
            ]
        return found[: max(limit, 0)]

    # -- id tags ----------------------------------------------------------------------------------
    def put_id_tag(self, record: IdTagRecord) -> None:
        with self._lock:
            self._id_tags[id_tag_key(record.id_tag)] = replace(record, status=str(record.status))

    def get_id_tag(self, id_tag: str) -> IdTagRecord | None:
        with self._lock:
            return self._id_tags.get(id_tag_key(id_tag))

    def delete_id_tag(self, id_tag: str) -> bool:
        with self._lock:
            return self._id_tags.pop(id_tag_key(id_tag), None) is not None

    def list_id_tags(self) -> list[IdTagRecord]:
        with self._lock:
            return [self._id_tags[key] for key in sorted(self._id_tags)]

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
        key = (charger_id, connector_id, id_tag, meter_start, timestamp)
        with self._lock:
            existing = self._start_keys.get(key)
            if existing is not None:
                return self._transactions[existing], False
            transaction_id = self._next_transaction_id
            if transaction_id > MAX_TRANSACTION_ID:
                raise TransactionIdsExhausted(f"no transaction id left (next would be {transaction_id})")
            for open_id, record in self._transactions.items():
                if record.charger_id == charger_id and record.connector_id == connector_id and record.active:
                    self._transactions[open_id] = replace(
                        record, flags=record.flags | {TransactionFlag.SUPERSEDED.value}
                    )
            record = TransactionRecord(
                transaction_id=transaction_id,
                charger_id=charger_id,
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start=meter_start,
                start_timestamp=timestamp,
                reservation_id=reservation_id,
                start_status=str(start_status),
                meter_stop=None,
                stop_timestamp=None,
                stop_reason=None,
                stop_id_tag=None,
                stopped_at=None,
                flags=plain_flags(flags),
                started_at=received_at,
            )
            self._transactions[transaction_id] = record
            self._start_keys[key] = transaction_id
            self._next_transaction_id = transaction_id + 1
            return record, True

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
        data_text = None if transaction_data is None else jsontext.dumps(transaction_data)
        with self._lock:
            kind = orphan_kind_for_id(transaction_id)
            record = None if kind is not None else self._transactions.get(transaction_id)
            if kind is None and record is None:
                kind = OrphanKind.UNKNOWN
            elif record is not None and record.charger_id != charger_id:
                kind = OrphanKind.OTHER_CHARGER
            if kind is not None:
                orphan_key = (charger_id, transaction_id, meter_stop, timestamp)
                if orphan_key not in self._orphan_keys:
                    self._orphan_keys.add(orphan_key)
                    orphan = OrphanStopRecord(
                        charger_id=charger_id,
                        transaction_id=transaction_id,
                        kind=kind.value,
                        meter_stop=meter_stop,
                        stop_timestamp=timestamp,
                        reason=reason,
                        id_tag=id_tag,
                        transaction_data=None,
                        received_at=received_at,
                    )
                    self._orphans.append(_Orphan(orphan, data_text))
                return StopOutcome.ORPHAN
            assert record is not None
            if record.stopped_at is not None:
                return StopOutcome.REPLAY
            self._transactions[transaction_id] = replace(
                record,
                meter_stop=meter_stop,
                stop_timestamp=timestamp,
                stop_reason="Local" if reason is None else str(reason),
                stop_id_tag=id_tag,
                stopped_at=received_at,
                flags=record.flags
                | stop_flags(record.meter_start, record.start_timestamp, meter_stop, timestamp),
            )
            if transaction_data:
                self._insert_meter_values(
                    charger_id,
                    record.connector_id,
                    transaction_id,
                    transaction_data,
                    source="StopTransaction",
                    received_at=received_at,
                )
            return StopOutcome.STOPPED

    def get_transaction(self, transaction_id: int) -> TransactionRecord | None:
        with self._lock:
            return self._transactions.get(transaction_id)

    def list_transactions(
        self, *, charger_id: str | None = None, active: bool | None = None, limit: int = 100
    ) -> list[TransactionRecord]:
        with self._lock:
            found = [
                record
                for _, record in sorted(self._transactions.items(), reverse=True)
                if (charger_id is None or record.charger_id == charger_id)
                and (active is None or record.active == active)
            ]
        return found[: max(limit, 0)]

    def active_transaction_for_tag(self, id_tag: str) -> TransactionRecord | None:
        key = id_tag_key(id_tag)
        with self._lock:
            for _, record in sorted(self._transactions.items(), reverse=True):
                if record.active and id_tag_key(record.id_tag) == key:
                    return record
        return None

    def active_transaction_on(self, charger_id: str, connector_id: int) -> TransactionRecord | None:
        with self._lock:
            for _, record in sorted(self._transactions.items(), reverse=True):
                if record.active and record.charger_id == charger_id and record.connector_id == connector_id:
                    return record
        return None

    def add_transaction_flags(self, transaction_id: int, flags: frozenset[str]) -> bool:
        with self._lock:
            record = self._transactions.get(transaction_id)
            if record is None:
                return False
            self._transactions[transaction_id] = replace(record, flags=record.flags | plain_flags(flags))
            return True

    def raise_transaction_id_floor(self, next_id: int) -> None:
        if not 1 <= next_id <= MAX_TRANSACTION_ID + 1:
            raise ValueError(f"next transaction id must be 1..{MAX_TRANSACTION_ID + 1}, not {next_id}")
        with self._lock:
            self._next_transaction_id = max(self._next_transaction_id, next_id)

    def list_orphan_stops(self, charger_id: str | None = None) -> list[OrphanStopRecord]:
        with self._lock:
            return [
                replace(
                    item.record,
                    transaction_data=None if item.data_text is None else jsontext.loads(item.data_text),
                )
                for item in reversed(self._orphans)
                if charger_id is None or item.record.charger_id == charger_id
            ]

    # -- meter values -----------------------------------------------------------------------------
    def _insert_meter_values(
        self,
        charger_id: str,
        connector_id: int,
        transaction_id: int | None,
        meter_values: list[dict[str, Any]],
        *,
        source: str,
        received_at: str,
    ) -> int:
        added = 0
        for meter_value in meter_values:
            key = (charger_id, connector_id, transaction_id, meter_value_digest(meter_value))
            if key in self._meter_keys:
                continue
            self._meter_keys.add(key)
            timestamp = meter_value.get("timestamp") if isinstance(meter_value, dict) else None
            self._meter_values.append(
                _MeterValue(
                    charger_id=charger_id,
                    connector_id=connector_id,
                    transaction_id=transaction_id,
                    timestamp=timestamp if isinstance(timestamp, str) else None,
                    text=jsontext.dumps(meter_value),
                    source=source,
                    received_at=received_at,
                )
            )
            added += 1
        return added

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
        with self._lock:
            return self._insert_meter_values(
                charger_id, connector_id, transaction_id, meter_values, source=source, received_at=received_at
            )

    def list_meter_values(
        self, *, charger_id: str | None = None, transaction_id: int | None = None, limit: int = 1000
    ) -> list[MeterValueRecord]:
        with self._lock:
            found = [
                item
                for item in self._meter_values
                if (charger_id is None or item.charger_id == charger_id)
                and (transaction_id is None or item.transaction_id == transaction_id)
            ][: max(limit, 0)]
        return [item.record() for item in found]

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
    ) -> None:
        text = jsontext.dumps(data)
        with self._lock:
            self._data_transfers.append(
                (
                    charger_id,
                    direction,
                    vendor_id,
                    message_id,
                    text,
                    None if status is None else str(status),
                    at,
                )
            )

    def list_data_transfers(
        self, charger_id: str | None = None, limit: int = 100
    ) -> list[DataTransferRecord]:
        with self._lock:
            found = [
                row for row in reversed(self._data_transfers) if charger_id is None or row[0] == charger_id
            ]
        return [
            DataTransferRecord(row[0], row[1], row[2], row[3], jsontext.loads(row[4]), row[5], row[6])
            for row in found[: max(limit, 0)]
        ]

    # -- message log ------------------------------------------------------------------------------
    def log_message(self, charger_id: str, direction: str, text: str, at: str) -> None:
        with self._lock:
            self._log.append(LogRecord(charger_id, direction, text, at))

    def log_messages(self, records: list[LogRecord]) -> None:
        with self._lock:
            self._log.extend(records)

    def message_log(self, charger_id: str, limit: int = 100) -> list[LogRecord]:
        with self._lock:
            found = [record for record in reversed(self._log) if record.charger_id == charger_id]
        return found[: max(limit, 0)]


def _conforms(store: MemoryStore) -> Store:
    """Static check (mypy) that :class:`MemoryStore` implements the :class:`Store` protocol."""
    return store
