"""Schema versions of the SQLite store: forward-only SQL scripts, version in ``PRAGMA user_version``.

``MIGRATIONS[i]`` takes a database from version ``i`` to ``i + 1``. Never edit a script that has shipped;
append a new one. Each script runs in one ``BEGIN IMMEDIATE`` transaction together with the version bump,
so a failure leaves the previous version intact, and two processes opening the same new file cannot both
run it.

Columns without a declared type (SQLite "BLOB" affinity) hold integers that come from the wire: they are
stored as INTEGER when they fit in int64 and as exact decimal TEXT otherwise (an INTEGER column would turn
such text into a lossy REAL). Transactions, meter values, history and logs have no foreign key to
``chargers``: deleting a charger must never delete billing or audit data.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from engine.store.base import SchemaVersionError

V1 = """
CREATE TABLE chargers (
    charger_id TEXT PRIMARY KEY NOT NULL,          -- BINARY collation: exact, case-sensitive
    registration_status TEXT,
    boot_info TEXT NOT NULL DEFAULT '{}',
    boot_policy TEXT,
    heartbeat_interval INTEGER,
    flags TEXT NOT NULL DEFAULT '[]',
    first_seen TEXT NOT NULL,
    last_seen TEXT,
    last_boot TEXT,
    configuration TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE connectors (
    charger_id TEXT NOT NULL REFERENCES chargers (charger_id) ON DELETE CASCADE,
    connector_id NOT NULL,
    status TEXT NOT NULL,
    error_code TEXT NOT NULL,
    info TEXT,
    vendor_id TEXT,
    vendor_error_code TEXT,
    status_timestamp TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (charger_id, connector_id)
);

CREATE TABLE status_history (
    id INTEGER PRIMARY KEY,
    charger_id TEXT NOT NULL,
    connector_id NOT NULL,
    status TEXT NOT NULL,
    error_code TEXT NOT NULL,
    info TEXT,
    vendor_id TEXT,
    vendor_error_code TEXT,
    status_timestamp TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX status_history_by_connector ON status_history (charger_id, connector_id, id);

CREATE TABLE id_tags (
    tag_key TEXT PRIMARY KEY NOT NULL,             -- ASCII-lower-cased id tag (base.id_tag_key)
    id_tag TEXT NOT NULL,                          -- the spelling given
    status TEXT NOT NULL,
    expiry_date TEXT,
    parent_id_tag TEXT
);

CREATE TABLE transactions (
    transaction_id INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused, survives restarts
    charger_id TEXT NOT NULL,
    connector_id NOT NULL,
    id_tag TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    meter_start NOT NULL,
    start_timestamp TEXT NOT NULL,
    reservation_id,
    start_status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    meter_stop,
    stop_timestamp TEXT,
    stop_reason TEXT,
    stop_id_tag TEXT,
    stopped_at TEXT,
    superseded INTEGER NOT NULL DEFAULT 0,
    flags TEXT NOT NULL DEFAULT '[]'
);
-- R8.4: a retried StartTransaction finds its transaction through this key, and can never insert twice.
CREATE UNIQUE INDEX transactions_start_key
    ON transactions (charger_id, connector_id, id_tag, meter_start, start_timestamp);
CREATE INDEX transactions_open_on_connector
    ON transactions (charger_id, connector_id) WHERE stopped_at IS NULL;
CREATE INDEX transactions_active_by_tag
    ON transactions (tag_key) WHERE stopped_at IS NULL AND superseded = 0;
CREATE INDEX transactions_by_charger ON transactions (charger_id, transaction_id);

CREATE TABLE orphan_stops (
    id INTEGER PRIMARY KEY,
    charger_id TEXT NOT NULL,
    transaction_id NOT NULL,
    kind TEXT NOT NULL,
    meter_stop NOT NULL,
    stop_timestamp TEXT NOT NULL,
    reason TEXT,
    id_tag TEXT,
    transaction_data TEXT,                         -- jsontext of the list as sent, or NULL
    received_at TEXT NOT NULL
);
CREATE UNIQUE INDEX orphan_stops_key ON orphan_stops (charger_id, transaction_id, meter_stop, stop_timestamp);

CREATE TABLE meter_values (
    id INTEGER PRIMARY KEY,
    charger_id TEXT NOT NULL,
    connector_id NOT NULL,
    transaction_key TEXT NOT NULL,                 -- '' = none, else the id as decimal text (any size)
    timestamp TEXT,
    body TEXT NOT NULL,                            -- the MeterValue object as sent (jsontext.dumps)
    digest TEXT NOT NULL,                          -- SHA-256 of its canonical JSON (replay key)
    source TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE UNIQUE INDEX meter_values_key ON meter_values (charger_id, connector_id, transaction_key, digest);
CREATE INDEX meter_values_by_transaction ON meter_values (transaction_key, id);

CREATE TABLE data_transfers (
    id INTEGER PRIMARY KEY,
    charger_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    vendor_id TEXT NOT NULL,
    message_id TEXT,
    data TEXT NOT NULL,                            -- jsontext of the value
    status TEXT,
    at TEXT NOT NULL
);
CREATE INDEX data_transfers_by_charger ON data_transfers (charger_id, id);

CREATE TABLE message_log (
    id INTEGER PRIMARY KEY,
    charger_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    text TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX message_log_by_charger ON message_log (charger_id, id);
"""

#: ``MIGRATIONS[i]`` upgrades version ``i`` to ``i + 1``. Append only.
MIGRATIONS: tuple[str, ...] = (V1,)

#: The version a database has after :func:`apply_migrations`.
LATEST_VERSION = len(MIGRATIONS)


def split_statements(script: str) -> list[str]:
    """The statements of ``script``, split where SQLite itself sees a complete statement (so a trigger's
    ``BEGIN … END`` body stays whole). Comment-only remainders are dropped."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    rest = "\n".join(
        line for line in pending.splitlines() if line.strip() and not line.strip().startswith("--")
    )
    if rest:
        raise ValueError("migration script ends with an incomplete statement")
    return statements


def user_version(connection: sqlite3.Connection) -> int:
    row = connection.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def apply_migrations(connection: sqlite3.Connection, scripts: Sequence[str] = MIGRATIONS) -> int:
    """Bring the database up to ``len(scripts)`` and return that version.

    ``connection`` must be in autocommit mode (``isolation_level=None``). Each pending script runs with
    its version bump in one ``BEGIN IMMEDIATE`` transaction; the version is read again inside it, so a
    script another process has just applied is not run twice. Raises :class:`SchemaVersionError` for a
    database newer than ``scripts``."""
    target = len(scripts)
    current = user_version(connection)
    if current > target:
        raise SchemaVersionError(f"database schema version {current} is newer than this code ({target})")
    while current < target:
        connection.execute("BEGIN IMMEDIATE")
        try:
            current = user_version(connection)
            if current < target:
                for statement in split_statements(scripts[current]):
                    connection.execute(statement)
                current += 1
                connection.execute(f"PRAGMA user_version = {current:d}")
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
    return current
