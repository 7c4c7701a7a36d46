"""The embedded default store: one SQLite file, WAL, ``synchronous=FULL``, foreign keys on.

One connection (``check_same_thread=False``) guarded by a :class:`threading.RLock`: the Trio shell calls
from worker threads, one at a time per lock. The connection is in autocommit mode; every write runs in its
own ``BEGIN IMMEDIATE … COMMIT`` (so read-check-write sequences are atomic even against another process
on the same file) and has committed when the method returns (R8.1).

Group commit: inside :meth:`SqliteStore.group` the store holds one ``BEGIN IMMEDIATE`` transaction and
each write method runs in a ``SAVEPOINT`` instead (still all-or-nothing on its own); the group's single
``COMMIT`` (one fsync) makes all of them durable together. The shell's store runner uses it to commit the
writes of many chargers at once, and answers none of them before that commit (R8.1 still holds).

Uniqueness that matters (start key, meter value replay key, orphan key) is enforced by UNIQUE indexes, not
only by the lookups before them.

``synchronous=FULL`` (default) fsyncs the WAL on every commit, so an acknowledged message survives a power
cut; ``NORMAL`` survives a crash of the process but may lose the last commits on power loss.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Literal

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
    meter_value_body_and_digest,
    orphan_kind_for_id,
    plain_flags,
    stop_flags,
)
from engine.store.migrations import apply_migrations

DEFAULT_PATH = "ocpp-trio.sqlite"
Synchronous = Literal["FULL", "NORMAL", "EXTRA"]

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

_TRANSACTION_COLUMNS = (
    "transaction_id, charger_id, connector_id, id_tag, meter_start, start_timestamp, reservation_id, "
    "start_status, meter_stop, stop_timestamp, stop_reason, stop_id_tag, stopped_at, flags, started_at"
)
_CHARGER_COLUMNS = (
    "charger_id, registration_status, boot_info, boot_policy, heartbeat_interval, flags, first_seen, "
    "last_seen, last_boot, configuration"
)
_CONNECTOR_COLUMNS = (
    "charger_id, connector_id, status, error_code, info, vendor_id, vendor_error_code, status_timestamp"
)


def _wide(value: int) -> int | str:
    """An integer from the wire as SQLite can hold it exactly: INTEGER within int64, decimal text beyond."""
    return value if _INT64_MIN <= value <= _INT64_MAX else str(value)


def _opt_wide(value: int | None) -> int | str | None:
    return None if value is None else _wide(value)


def _int(value: Any) -> int:
    return int(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _tx_key(transaction_id: int | None) -> str:
    return "" if transaction_id is None else str(transaction_id)


def _flags_text(flags: frozenset[str] | set[str]) -> str:
    return jsontext.dumps(sorted(plain_flags(frozenset(flags))))


def _flags(text: str) -> frozenset[str]:
    return frozenset(jsontext.loads(text))


def _charger(row: sqlite3.Row | tuple[Any, ...]) -> ChargerRecord:
    return ChargerRecord(
        charger_id=row[0],
        registration_status=row[1],
        boot_info=jsontext.loads(row[2]),
        boot_policy=row[3],
        heartbeat_interval=row[4],
        flags=_flags(row[5]),
        first_seen=row[6],
        last_seen=row[7],
        last_boot=row[8],
        configuration=jsontext.loads(row[9]),
    )


def _connector(row: tuple[Any, ...]) -> ConnectorRecord:
    return ConnectorRecord(
        charger_id=row[0],
        connector_id=_int(row[1]),
        status=row[2],
        error_code=row[3],
        info=row[4],
        vendor_id=row[5],
        vendor_error_code=row[6],
        status_timestamp=row[7],
        updated_at=row[8],
    )


def _transaction(row: tuple[Any, ...]) -> TransactionRecord:
    return TransactionRecord(
        transaction_id=row[0],
        charger_id=row[1],
        connector_id=_int(row[2]),
        id_tag=row[3],
        meter_start=_int(row[4]),
        start_timestamp=row[5],
        reservation_id=_opt_int(row[6]),
        start_status=row[7],
        meter_stop=_opt_int(row[8]),
        stop_timestamp=row[9],
        stop_reason=row[10],
        stop_id_tag=row[11],
        stopped_at=row[12],
        flags=_flags(row[13]),
        started_at=row[14],
    )


def _orphan(row: tuple[Any, ...]) -> OrphanStopRecord:
    return OrphanStopRecord(
        charger_id=row[0],
        transaction_id=_int(row[1]),
        kind=row[2],
        meter_stop=_int(row[3]),
        stop_timestamp=row[4],
        reason=row[5],
        id_tag=row[6],
        transaction_data=None if row[7] is None else jsontext.loads(row[7]),
        received_at=row[8],
    )


def _meter_value(row: tuple[Any, ...]) -> MeterValueRecord:
    body = jsontext.loads(row[4])
    sampled = body.get("sampledValue", []) if isinstance(body, dict) else []
    return MeterValueRecord(
        charger_id=row[0],
        connector_id=_int(row[1]),
        transaction_id=None if row[2] == "" else int(row[2]),
        timestamp=row[3],
        sampled_values=sampled if isinstance(sampled, list) else [],
        source=row[5],
        received_at=row[6],
        text=row[4],
    )


class SqliteStore:
    """:class:`~engine.store.base.Store` on one SQLite file (``":memory:"`` allowed)."""

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_PATH, *, synchronous: str = "FULL"):
        mode = synchronous.upper()
        if mode not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError(f"synchronous must be FULL, NORMAL or EXTRA, not {synchronous!r}")
        self.path = os.fspath(path)
        self.synchronous = mode
        # Re-entrant: a group holds the lock while the write methods inside it take it again.
        self._lock = threading.RLock()
        self._grouped = False  # inside group(); only read or written while holding the lock
        self._closed = False
        self._conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        try:
            self._conn.execute("PRAGMA foreign_keys = ON")
            self.journal_mode = str(self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            self._conn.execute(f"PRAGMA synchronous = {mode}")
            self._schema_version = apply_migrations(self._conn)
        except BaseException:
            self._conn.close()
            raise

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return self._schema_version

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def group(self) -> Iterator[None]:
        """Run many store calls as one commit: durable together when the block exits normally, all
        rolled back when it raises (or when the COMMIT fails). A write method that raises inside the
        group undoes only its own changes. Nested groups join the outer one."""
        with self._lock:
            if self._grouped:
                yield
                return
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            self._grouped = True
            try:
                yield
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            finally:
                self._grouped = False

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed on normal exit, rolled back on any exception; inside a
        :meth:`group`, a savepoint of the group's transaction."""
        with self._lock:
            conn = self._conn
            if self._grouped:
                conn.execute("SAVEPOINT write")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK TO write")
                    conn.execute("RELEASE write")
                    raise
                conn.execute("RELEASE write")
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                # Also when COMMIT itself fails (disk full, I/O error): the caller must not acknowledge.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # -- chargers ---------------------------------------------------------------------------------
    @staticmethod
    def _get_charger(conn: sqlite3.Connection, charger_id: str) -> ChargerRecord | None:
        row = conn.execute(
            f"SELECT {_CHARGER_COLUMNS} FROM chargers WHERE charger_id = ?", (charger_id,)
        ).fetchone()
        return None if row is None else _charger(row)

    @staticmethod
    def _ensure(conn: sqlite3.Connection, charger_id: str, at: str) -> None:
        conn.execute(
            "INSERT INTO chargers (charger_id, first_seen) VALUES (?, ?) ON CONFLICT (charger_id) DO NOTHING",
            (charger_id, at),
        )

    def get_charger(self, charger_id: str) -> ChargerRecord | None:
        with self._lock:
            return self._get_charger(self._conn, charger_id)

    def ensure_charger(self, charger_id: str, at: str) -> ChargerRecord:
        with self._write() as conn:
            self._ensure(conn, charger_id, at)
            record = self._get_charger(conn, charger_id)
        assert record is not None
        return record

    def record_boot(self, charger_id: str, boot_info: dict[str, Any], status: str, at: str) -> None:
        info = jsontext.dumps(boot_info)
        with self._write() as conn:
            self._ensure(conn, charger_id, at)
            conn.execute(
                "UPDATE chargers SET boot_info = ?, registration_status = ?, last_boot = ?, last_seen = ? "
                "WHERE charger_id = ?",
                (info, str(status), at, at, charger_id),
            )

    def _update_charger(self, charger_id: str, assignments: str, params: tuple[Any, ...]) -> None:
        with self._write() as conn:
            cursor = conn.execute(
                f"UPDATE chargers SET {assignments} WHERE charger_id = ?", (*params, charger_id)
            )
            if cursor.rowcount == 0:
                raise UnknownChargerError(charger_id)

    def set_registration_status(self, charger_id: str, status: str | None) -> None:
        self._update_charger(
            charger_id, "registration_status = ?", (None if status is None else str(status),)
        )

    def set_charger_policy(
        self, charger_id: str, *, boot_policy: str | None, heartbeat_interval: int | None
    ) -> None:
        self._update_charger(
            charger_id,
            "boot_policy = ?, heartbeat_interval = ?",
            (None if boot_policy is None else str(boot_policy), heartbeat_interval),
        )

    def set_charger_flags(self, charger_id: str, flags: frozenset[str]) -> None:
        self._update_charger(charger_id, "flags = ?", (_flags_text(flags),))

    def touch_charger(self, charger_id: str, at: str) -> None:
        self.touch_chargers({charger_id: at})

    def touch_chargers(self, seen: Mapping[str, str]) -> None:
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO chargers (charger_id, first_seen, last_seen) VALUES (?, ?, ?) "
                "ON CONFLICT (charger_id) DO UPDATE SET last_seen = excluded.last_seen",
                [(charger_id, at, at) for charger_id, at in seen.items()],
            )

    def save_configuration(self, charger_id: str, config: dict[str, str | None]) -> None:
        self._update_charger(charger_id, "configuration = ?", (jsontext.dumps(config),))

    def list_chargers(self) -> list[ChargerRecord]:
        rows = self._read(f"SELECT {_CHARGER_COLUMNS} FROM chargers ORDER BY charger_id")
        return [_charger(row) for row in rows]

    def delete_charger(self, charger_id: str) -> bool:
        with self._write() as conn:
            # connectors follow through ON DELETE CASCADE
            return conn.execute("DELETE FROM chargers WHERE charger_id = ?", (charger_id,)).rowcount > 0

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
        connector = _wide(connector_id)
        values = (str(status), str(error_code), info, vendor_id, vendor_error_code, timestamp)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO status_history (charger_id, connector_id, status, error_code, info, vendor_id, "
                "vendor_error_code, status_timestamp, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (charger_id, connector, *values, received_at),
            )
            row = conn.execute(
                "SELECT status_timestamp FROM connectors WHERE charger_id = ? AND connector_id = ?",
                (charger_id, connector),
            ).fetchone()
            if row is not None and not later_or_equal(timestamp, row[0], new_received_at=received_at):
                return False
            self._ensure(conn, charger_id, received_at)
            conn.execute(
                f"INSERT OR REPLACE INTO connectors ({_CONNECTOR_COLUMNS}, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (charger_id, connector, *values, received_at),
            )
            return True

    def get_connectors(self, charger_id: str) -> list[ConnectorRecord]:
        rows = self._read(
            f"SELECT {_CONNECTOR_COLUMNS}, updated_at FROM connectors WHERE charger_id = ?", (charger_id,)
        )
        return sorted((_connector(row) for row in rows), key=lambda record: record.connector_id)

    def status_history(self, charger_id: str, connector_id: int, limit: int = 100) -> list[ConnectorRecord]:
        rows = self._read(
            f"SELECT {_CONNECTOR_COLUMNS}, received_at FROM status_history "
            "WHERE charger_id = ? AND connector_id = ? ORDER BY id DESC LIMIT ?",
            (charger_id, _wide(connector_id), max(limit, 0)),
        )
        return [_connector(row) for row in rows]

    # -- id tags ----------------------------------------------------------------------------------
    def put_id_tag(self, record: IdTagRecord) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO id_tags (tag_key, id_tag, status, expiry_date, parent_id_tag) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    id_tag_key(record.id_tag),
                    record.id_tag,
                    str(record.status),
                    record.expiry_date,
                    record.parent_id_tag,
                ),
            )

    def get_id_tag(self, id_tag: str) -> IdTagRecord | None:
        rows = self._read(
            "SELECT id_tag, status, expiry_date, parent_id_tag FROM id_tags WHERE tag_key = ?",
            (id_tag_key(id_tag),),
        )
        return IdTagRecord(*rows[0]) if rows else None

    def delete_id_tag(self, id_tag: str) -> bool:
        with self._write() as conn:
            return conn.execute("DELETE FROM id_tags WHERE tag_key = ?", (id_tag_key(id_tag),)).rowcount > 0

    def list_id_tags(self) -> list[IdTagRecord]:
        rows = self._read("SELECT id_tag, status, expiry_date, parent_id_tag FROM id_tags ORDER BY tag_key")
        return [IdTagRecord(*row) for row in rows]

    # -- transactions -----------------------------------------------------------------------------
    @staticmethod
    def _get_transaction(conn: sqlite3.Connection, transaction_id: int) -> TransactionRecord | None:
        if not 1 <= transaction_id <= MAX_TRANSACTION_ID:
            return None
        row = conn.execute(
            f"SELECT {_TRANSACTION_COLUMNS} FROM transactions WHERE transaction_id = ?", (transaction_id,)
        ).fetchone()
        return None if row is None else _transaction(row)

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
        key = (charger_id, _wide(connector_id), id_tag, _wide(meter_start), timestamp)
        with self._write() as conn:
            row = conn.execute(
                f"SELECT {_TRANSACTION_COLUMNS} FROM transactions WHERE charger_id = ? AND connector_id = ? "
                "AND id_tag = ? AND meter_start = ? AND start_timestamp = ?",
                key,
            ).fetchone()
            if row is not None:
                return _transaction(row), False
            # R4.17 / #81: the previous transaction on this connector never got its Stop.
            for open_id, open_flags in conn.execute(
                "SELECT transaction_id, flags FROM transactions "
                "WHERE charger_id = ? AND connector_id = ? AND stopped_at IS NULL AND superseded = 0",
                key[:2],
            ).fetchall():
                conn.execute(
                    "UPDATE transactions SET superseded = 1, flags = ? WHERE transaction_id = ?",
                    (_flags_text(_flags(open_flags) | {TransactionFlag.SUPERSEDED.value}), open_id),
                )
            cursor = conn.execute(
                "INSERT INTO transactions (charger_id, connector_id, id_tag, meter_start, start_timestamp, "
                "tag_key, reservation_id, start_status, started_at, flags, superseded) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    *key,
                    id_tag_key(id_tag),
                    _opt_wide(reservation_id),
                    str(start_status),
                    received_at,
                    _flags_text(flags),
                    int(TransactionFlag.SUPERSEDED in plain_flags(flags)),
                ),
            )
            new_id = cursor.lastrowid
            if new_id is None or new_id > MAX_TRANSACTION_ID:
                raise TransactionIdsExhausted(f"no transaction id left (next would be {new_id})")
            record = self._get_transaction(conn, new_id)
        assert record is not None
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
        with self._write() as conn:
            kind = orphan_kind_for_id(transaction_id)
            record = None if kind is not None else self._get_transaction(conn, transaction_id)
            if kind is None and record is None:
                kind = OrphanKind.UNKNOWN
            elif record is not None and record.charger_id != charger_id:
                kind = OrphanKind.OTHER_CHARGER
            if kind is not None:
                conn.execute(
                    "INSERT INTO orphan_stops (charger_id, transaction_id, kind, meter_stop, stop_timestamp, "
                    "reason, id_tag, transaction_data, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (charger_id, transaction_id, meter_stop, stop_timestamp) DO NOTHING",
                    (
                        charger_id,
                        _wide(transaction_id),
                        kind.value,
                        _wide(meter_stop),
                        timestamp,
                        reason,
                        id_tag,
                        None if transaction_data is None else jsontext.dumps(transaction_data),
                        received_at,
                    ),
                )
                return StopOutcome.ORPHAN
            assert record is not None
            if record.stopped_at is not None:
                return StopOutcome.REPLAY
            new_flags = record.flags | stop_flags(
                record.meter_start, record.start_timestamp, meter_stop, timestamp
            )
            conn.execute(
                "UPDATE transactions SET meter_stop = ?, stop_timestamp = ?, stop_reason = ?, "
                "stop_id_tag = ?, stopped_at = ?, flags = ? WHERE transaction_id = ?",
                (
                    _wide(meter_stop),
                    timestamp,
                    "Local" if reason is None else str(reason),
                    id_tag,
                    received_at,
                    _flags_text(new_flags),
                    transaction_id,
                ),
            )
            if transaction_data:
                self._insert_meter_values(
                    conn,
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
            return self._get_transaction(self._conn, transaction_id)

    def list_transactions(
        self, *, charger_id: str | None = None, active: bool | None = None, limit: int = 100
    ) -> list[TransactionRecord]:
        where: list[str] = []
        params: list[Any] = []
        if charger_id is not None:
            where.append("charger_id = ?")
            params.append(charger_id)
        if active is True:
            where.append("stopped_at IS NULL AND superseded = 0")
        elif active is False:
            where.append("NOT (stopped_at IS NULL AND superseded = 0)")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._read(
            f"SELECT {_TRANSACTION_COLUMNS} FROM transactions{clause} ORDER BY transaction_id DESC LIMIT ?",
            (*params, max(limit, 0)),
        )
        return [_transaction(row) for row in rows]

    def active_transaction_for_tag(self, id_tag: str) -> TransactionRecord | None:
        rows = self._read(
            f"SELECT {_TRANSACTION_COLUMNS} FROM transactions "
            "WHERE tag_key = ? AND stopped_at IS NULL AND superseded = 0 "
            "ORDER BY transaction_id DESC LIMIT 1",
            (id_tag_key(id_tag),),
        )
        return _transaction(rows[0]) if rows else None

    def active_transaction_on(self, charger_id: str, connector_id: int) -> TransactionRecord | None:
        rows = self._read(
            f"SELECT {_TRANSACTION_COLUMNS} FROM transactions WHERE charger_id = ? AND connector_id = ? "
            "AND stopped_at IS NULL AND superseded = 0 ORDER BY transaction_id DESC LIMIT 1",
            (charger_id, _wide(connector_id)),
        )
        return _transaction(rows[0]) if rows else None

    def add_transaction_flags(self, transaction_id: int, flags: frozenset[str]) -> bool:
        with self._write() as conn:
            record = self._get_transaction(conn, transaction_id)
            if record is None:
                return False
            merged = record.flags | plain_flags(flags)
            conn.execute(
                "UPDATE transactions SET flags = ?, superseded = ? WHERE transaction_id = ?",
                (_flags_text(merged), int(TransactionFlag.SUPERSEDED in merged), transaction_id),
            )
            return True

    def raise_transaction_id_floor(self, next_id: int) -> None:
        if not 1 <= next_id <= MAX_TRANSACTION_ID + 1:
            raise ValueError(f"next transaction id must be 1..{MAX_TRANSACTION_ID + 1}, not {next_id}")
        with self._write() as conn:
            row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'transactions'").fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES ('transactions', ?)", (next_id - 1,)
                )
            elif row[0] < next_id - 1:
                conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'transactions'", (next_id - 1,))

    def list_orphan_stops(self, charger_id: str | None = None) -> list[OrphanStopRecord]:
        columns = (
            "charger_id, transaction_id, kind, meter_stop, stop_timestamp, reason, id_tag, transaction_data, "
            "received_at"
        )
        if charger_id is None:
            rows = self._read(f"SELECT {columns} FROM orphan_stops ORDER BY id DESC")
        else:
            rows = self._read(
                f"SELECT {columns} FROM orphan_stops WHERE charger_id = ? ORDER BY id DESC", (charger_id,)
            )
        return [_orphan(row) for row in rows]

    # -- meter values -----------------------------------------------------------------------------
    @staticmethod
    def _insert_meter_values(
        conn: sqlite3.Connection,
        charger_id: str,
        connector_id: int,
        transaction_id: int | None,
        meter_values: list[dict[str, Any]],
        *,
        source: str,
        received_at: str,
    ) -> int:
        added = 0
        connector, tx_key = _wide(connector_id), _tx_key(transaction_id)
        for meter_value in meter_values:
            timestamp = meter_value.get("timestamp") if isinstance(meter_value, dict) else None
            body, digest = meter_value_body_and_digest(meter_value)
            cursor = conn.execute(
                "INSERT INTO meter_values (charger_id, connector_id, transaction_key, timestamp, body, "
                "digest, source, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (charger_id, connector_id, transaction_key, digest) DO NOTHING",
                (
                    charger_id,
                    connector,
                    tx_key,
                    timestamp if isinstance(timestamp, str) else None,
                    body,
                    digest,
                    source,
                    received_at,
                ),
            )
            added += cursor.rowcount
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
        with self._write() as conn:
            return self._insert_meter_values(
                conn,
                charger_id,
                connector_id,
                transaction_id,
                meter_values,
                source=source,
                received_at=received_at,
            )

    def list_meter_values(
        self, *, charger_id: str | None = None, transaction_id: int | None = None, limit: int = 1000
    ) -> list[MeterValueRecord]:
        where: list[str] = []
        params: list[Any] = []
        if charger_id is not None:
            where.append("charger_id = ?")
            params.append(charger_id)
        if transaction_id is not None:
            where.append("transaction_key = ?")
            params.append(_tx_key(transaction_id))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._read(
            "SELECT charger_id, connector_id, transaction_key, timestamp, body, source, received_at "
            f"FROM meter_values{clause} ORDER BY id LIMIT ?",
            (*params, max(limit, 0)),
        )
        return [_meter_value(row) for row in rows]

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
        with self._write() as conn:
            conn.execute(
                "INSERT INTO data_transfers (charger_id, direction, vendor_id, message_id, data, status, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    charger_id,
                    direction,
                    vendor_id,
                    message_id,
                    jsontext.dumps(data),
                    None if status is None else str(status),
                    at,
                ),
            )

    def list_data_transfers(
        self, charger_id: str | None = None, limit: int = 100
    ) -> list[DataTransferRecord]:
        columns = "charger_id, direction, vendor_id, message_id, data, status, at"
        if charger_id is None:
            rows = self._read(
                f"SELECT {columns} FROM data_transfers ORDER BY id DESC LIMIT ?", (max(limit, 0),)
            )
        else:
            rows = self._read(
                f"SELECT {columns} FROM data_transfers WHERE charger_id = ? ORDER BY id DESC LIMIT ?",
                (charger_id, max(limit, 0)),
            )
        return [
            DataTransferRecord(row[0], row[1], row[2], row[3], jsontext.loads(row[4]), row[5], row[6])
            for row in rows
        ]

    # -- message log ------------------------------------------------------------------------------
    def log_message(self, charger_id: str, direction: str, text: str, at: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO message_log (charger_id, direction, text, at) VALUES (?, ?, ?, ?)",
                (charger_id, direction, text, at),
            )

    def log_messages(self, records: list[LogRecord]) -> None:
        if not records:
            return
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO message_log (charger_id, direction, text, at) VALUES (?, ?, ?, ?)",
                [(r.charger_id, r.direction, r.text, r.at) for r in records],
            )

    def message_log(self, charger_id: str, limit: int = 100) -> list[LogRecord]:
        rows = self._read(
            "SELECT charger_id, direction, text, at FROM message_log WHERE charger_id = ? "
            "ORDER BY id DESC LIMIT ?",
            (charger_id, max(limit, 0)),
        )
        return [LogRecord(*row) for row in rows]


def _conforms(store: SqliteStore) -> Store:
    """Static check (mypy) that :class:`SqliteStore` implements the :class:`Store` protocol."""
    return store
