"""The store contract (design.md decisions 6, 7; rules §4, §8.1–8.2, catalogue #76–92), run against both
implementations; SQLite-only tests cover persistence, pragmas, migrations and concurrent connections."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.protocol import jsontext
from engine.store import (
    LATEST_VERSION,
    MAX_TRANSACTION_ID,
    IdTagRecord,
    LogRecord,
    MemoryStore,
    OrphanKind,
    SchemaVersionError,
    SqliteStore,
    StopOutcome,
    Store,
    TransactionFlag,
    TransactionIdsExhausted,
    UnknownChargerError,
)
from engine.store.migrations import MIGRATIONS, apply_migrations, split_statements, user_version

T0 = "2026-01-01T00:00:00.000Z"
T1 = "2026-01-01T00:01:00.000Z"
T2 = "2026-01-01T00:02:00.000Z"
HUGE = 9_223_372_036_854_775_807

StoreFactory = Callable[[], Store]


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory of fresh stores of one kind (closed at teardown)."""
    opened: list[Store] = []

    def factory() -> Store:
        store: Store
        if request.param == "memory":
            store = MemoryStore()
        else:
            store = SqliteStore(tmp_path / f"store{len(opened)}.sqlite")
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: StoreFactory) -> Store:
    return make_store()


def start(  # noqa: PLR0917 - positional key fields read like the OCPP message
    store: Store,
    charger_id: str = "CP1",
    connector_id: int = 1,
    id_tag: str = "TAG1",
    meter_start: int = 1000,
    timestamp: str = T0,
    *,
    reservation_id: int | None = None,
    status: str = "Accepted",
    received_at: str = T0,
) -> tuple[int, bool]:
    record, created = store.start_transaction(
        charger_id,
        connector_id,
        id_tag,
        meter_start,
        timestamp,
        reservation_id=reservation_id,
        start_status=status,
        received_at=received_at,
    )
    return record.transaction_id, created


def stop(
    store: Store,
    transaction_id: int,
    charger_id: str = "CP1",
    *,
    meter_stop: int = 2000,
    timestamp: str = T1,
    reason: str | None = "Local",
    id_tag: str | None = None,
    transaction_data: list[Any] | None = None,
    received_at: str = T1,
) -> StopOutcome:
    return store.stop_transaction(
        charger_id,
        transaction_id,
        meter_stop=meter_stop,
        timestamp=timestamp,
        reason=reason,
        id_tag=id_tag,
        transaction_data=transaction_data,
        received_at=received_at,
    )


def meter_value(timestamp: str = T0, value: Any = "1000", **extra: Any) -> dict[str, Any]:
    return {"timestamp": timestamp, "sampledValue": [{"value": value, **extra}]}


# -- chargers ---------------------------------------------------------------------------------------


def test_charger_lifecycle(store: Store) -> None:
    assert store.get_charger("CP1") is None
    created = store.ensure_charger("CP1", T0)
    assert created.registration_status is None  # never booted
    assert (created.first_seen, created.last_seen, created.last_boot) == (T0, None, None)
    assert created.boot_info == {} and created.configuration == {} and created.flags == frozenset()
    assert store.ensure_charger("CP1", T2).first_seen == T0  # existing one is returned unchanged

    boot = {"chargePointVendor": "V", "chargePointModel": "M", "x": Decimal("1.10")}
    store.record_boot("CP1", boot, "Pending", T1)
    record = store.get_charger("CP1")
    assert record is not None
    assert record.boot_info == boot and jsontext.dumps(record.boot_info) == jsontext.dumps(boot)
    assert (record.registration_status, record.last_boot, record.last_seen) == ("Pending", T1, T1)

    store.set_registration_status("CP1", "Accepted")
    store.set_charger_policy("CP1", boot_policy="Pending", heartbeat_interval=300)
    store.set_charger_flags("CP1", frozenset({"assume_ocpp16"}))
    store.save_configuration("CP1", {"HeartbeatInterval": "300", "AuthorizationKey": None})
    store.touch_charger("CP1", T2)
    record = store.get_charger("CP1")
    assert record is not None
    assert record.registration_status == "Accepted"
    assert (record.boot_policy, record.heartbeat_interval) == ("Pending", 300)
    assert record.flags == frozenset({"assume_ocpp16"})
    assert record.configuration == {"HeartbeatInterval": "300", "AuthorizationKey": None}
    assert (record.last_seen, record.last_boot) == (T2, T1)

    store.set_charger_policy("CP1", boot_policy=None, heartbeat_interval=None)
    record = store.get_charger("CP1")
    assert record is not None and (record.boot_policy, record.heartbeat_interval) == (None, None)


def test_charger_ids_are_case_sensitive(store: Store) -> None:
    store.ensure_charger("CP1", T0)
    assert store.get_charger("cp1") is None
    store.ensure_charger("cp1", T1)
    assert [record.charger_id for record in store.list_chargers()] == ["CP1", "cp1"]


def test_boot_and_touch_create_missing_chargers(store: Store) -> None:
    store.record_boot("B", {"chargePointVendor": "V"}, "Accepted", T0)
    store.touch_charger("T", T1)
    boot, touched = store.get_charger("B"), store.get_charger("T")
    assert boot is not None and boot.first_seen == T0 and boot.registration_status == "Accepted"
    assert touched is not None and touched.first_seen == T1 and touched.last_seen == T1
    assert touched.registration_status is None


def test_touch_many_chargers_at_once(store: Store) -> None:
    store.record_boot("B", {"chargePointVendor": "V"}, "Accepted", T0)
    store.touch_chargers({"B": T2, "NEW": T1})
    known, new = store.get_charger("B"), store.get_charger("NEW")
    assert known is not None and (known.first_seen, known.last_seen, known.last_boot) == (T0, T2, T0)
    assert new is not None and (new.first_seen, new.last_seen, new.registration_status) == (T1, T1, None)
    store.touch_chargers({})


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.set_registration_status("nope", "Accepted"),
        lambda s: s.set_charger_policy("nope", boot_policy="Accepted", heartbeat_interval=None),
        lambda s: s.set_charger_flags("nope", frozenset()),
        lambda s: s.save_configuration("nope", {}),
    ],
)
def test_changing_an_unknown_charger_raises(store: Store, change: Callable[[Store], None]) -> None:
    with pytest.raises(UnknownChargerError):
        change(store)
    assert store.get_charger("nope") is None


def test_delete_charger_keeps_billing_data(store: Store) -> None:
    store.ensure_charger("CP1", T0)
    store.record_status("CP1", 1, "Available", "NoError", timestamp=T0, received_at=T0)
    tx, _ = start(store)
    store.add_meter_values("CP1", 1, tx, [meter_value()], source="MeterValues", received_at=T0)
    assert store.delete_charger("CP1") is True
    assert store.delete_charger("CP1") is False
    assert store.get_charger("CP1") is None
    assert store.get_connectors("CP1") == []
    assert store.get_transaction(tx) is not None
    assert len(store.list_meter_values(charger_id="CP1")) == 1
    assert len(store.status_history("CP1", 1)) == 1


def test_returned_values_are_copies(store: Store) -> None:
    store.record_boot("CP1", {"a": {"b": 1}}, "Accepted", T0)
    record = store.get_charger("CP1")
    assert record is not None
    record.boot_info["a"]["b"] = 2
    again = store.get_charger("CP1")
    assert again is not None and again.boot_info == {"a": {"b": 1}}


# -- connectors -------------------------------------------------------------------------------------


def test_status_current_and_history(store: Store) -> None:
    store.ensure_charger("CP1", T0)
    assert store.record_status("CP1", 10, "Available", "NoError", timestamp=T0, received_at=T0)
    assert store.record_status(
        "CP1",
        2,
        "Faulted",
        "OtherError",
        info="hot",
        vendor_id="V",
        vendor_error_code="E42",
        timestamp=T0,
        received_at=T0,
    )
    assert store.record_status("CP1", 2, "Available", "NoError", timestamp=T1, received_at=T1)
    connectors = store.get_connectors("CP1")
    assert [c.connector_id for c in connectors] == [2, 10]
    assert (connectors[0].status, connectors[0].status_timestamp, connectors[0].updated_at) == (
        "Available",
        T1,
        T1,
    )
    history = store.status_history("CP1", 2)
    assert [h.status for h in history] == ["Available", "Faulted"]  # newest first
    assert (history[1].info, history[1].vendor_id, history[1].vendor_error_code) == ("hot", "V", "E42")
    assert store.status_history("CP1", 2, limit=1) == history[:1]
    assert store.get_connectors("other") == []


def test_older_status_lands_in_history_but_does_not_regress_current(store: Store) -> None:
    # Text comparison would call "…T01:00:00+02:00" (= 23:00Z the day before) later than "…T00:30:00Z".
    assert store.record_status(
        "CP1", 1, "Charging", "NoError", timestamp="2026-01-01T00:30:00Z", received_at=T2
    )
    assert not store.record_status(
        "CP1", 1, "Preparing", "NoError", timestamp="2026-01-01T01:00:00+02:00", received_at=T2
    )
    assert [c.status for c in store.get_connectors("CP1")] == ["Charging"]
    assert [h.status for h in store.status_history("CP1", 1)] == ["Preparing", "Charging"]
    # Equal instant, other spelling: not older, so it updates.
    assert store.record_status(
        "CP1", 1, "Finishing", "NoError", timestamp="2026-01-01T01:30:00+01:00", received_at=T2
    )
    assert [c.status for c in store.get_connectors("CP1")] == ["Finishing"]


def test_status_for_unknown_charger_creates_it(store: Store) -> None:
    assert store.record_status("CPX", 0, "Available", "NoError", timestamp=T0, received_at=T1)
    charger = store.get_charger("CPX")
    assert charger is not None and charger.first_seen == T1 and charger.registration_status is None


# -- id tags ----------------------------------------------------------------------------------------


def test_id_tags_are_case_insensitive(store: Store) -> None:
    store.put_id_tag(IdTagRecord("AbCd01", "Accepted", expiry_date="2027-01-01T00:00:00Z", parent_id_tag="P"))
    assert store.get_id_tag("abcd01") == IdTagRecord("AbCd01", "Accepted", "2027-01-01T00:00:00Z", "P")
    assert store.get_id_tag("ABCD01") is not None
    assert store.get_id_tag("ABCD02") is None
    store.put_id_tag(IdTagRecord("ABCD01", "Blocked"))  # replaces, new spelling kept
    assert store.list_id_tags() == [IdTagRecord("ABCD01", "Blocked")]
    store.put_id_tag(IdTagRecord("zz", "Expired"))
    store.put_id_tag(IdTagRecord("A0", "Invalid"))
    assert [tag.id_tag for tag in store.list_id_tags()] == ["A0", "ABCD01", "zz"]
    assert store.delete_id_tag("abcd01") is True
    assert store.delete_id_tag("abcd01") is False
    assert store.get_id_tag("ABCD01") is None


# -- transactions -----------------------------------------------------------------------------------


def test_start_is_idempotent(store: Store) -> None:
    tx, created = start(store, status="Blocked")
    assert created and 1 <= tx <= MAX_TRANSACTION_ID
    record, created_again = store.start_transaction(
        "CP1", 1, "TAG1", 1000, T0, reservation_id=None, start_status="Accepted", received_at=T2
    )
    assert (record.transaction_id, created_again) == (tx, False)
    assert record.start_status == "Blocked"  # the retry gets the same idTagInfo status (R8.4)
    assert record.started_at == T0
    assert len(store.list_transactions()) == 1
    # Any field of the key different: a new transaction.
    variants = [
        start(store, charger_id="CP2"),
        start(store, connector_id=2),
        start(store, id_tag="TAG2"),
        start(store, meter_start=1001),
        start(store, timestamp=T1),
    ]
    ids = [tx, *(variant[0] for variant in variants)]
    assert all(created for _, created in variants)
    assert len(set(ids)) == 6 and ids == sorted(ids) and min(ids) >= 1


def test_transaction_record_fields(store: Store) -> None:
    record, _ = store.start_transaction(
        "CP1", 2, "Tag", 7, T0, reservation_id=42, start_status="Accepted", received_at=T1
    )
    assert (record.charger_id, record.connector_id, record.id_tag, record.meter_start) == ("CP1", 2, "Tag", 7)
    assert (record.start_timestamp, record.reservation_id, record.start_status) == (T0, 42, "Accepted")
    assert (record.meter_stop, record.stop_timestamp, record.stop_reason, record.stop_id_tag) == (None,) * 4
    assert (record.stopped_at, record.flags, record.started_at, record.active) == (
        None,
        frozenset(),
        T1,
        True,
    )
    assert store.get_transaction(record.transaction_id) == record


def test_ids_are_unique_across_chargers(store: Store) -> None:
    ids = [start(store, charger_id=f"CP{n}", connector_id=1)[0] for n in range(20)]
    assert len(set(ids)) == 20 and all(1 <= i <= MAX_TRANSACTION_ID for i in ids)


def test_initial_flags_and_added_flags(store: Store) -> None:
    record, _ = store.start_transaction(
        "CP1", 1, "T", 0, T0, reservation_id=9, start_status="Accepted", received_at=T0,
        flags=frozenset({"reservation_unknown"}),
    )  # fmt: skip
    assert record.flags == {"reservation_unknown"}
    assert store.add_transaction_flags(record.transaction_id, frozenset({"connector_out_of_range"}))
    assert not store.add_transaction_flags(999, frozenset({"x"}))
    assert not store.add_transaction_flags(-1, frozenset({"x"}))
    again = store.get_transaction(record.transaction_id)
    assert again is not None and again.flags == {"reservation_unknown", "connector_out_of_range"}


def test_start_on_busy_connector_supersedes_the_open_one(store: Store) -> None:
    old, _ = start(store, id_tag="A")
    other_connector, _ = start(store, connector_id=2, id_tag="B")
    new, created = start(store, id_tag="C", timestamp=T1)
    assert created
    old_record = store.get_transaction(old)
    assert old_record is not None and old_record.flags == {TransactionFlag.SUPERSEDED}
    assert not old_record.active and old_record.stopped_at is None
    assert store.active_transaction_on("CP1", 1) == store.get_transaction(new)
    other = store.get_transaction(other_connector)
    assert other is not None and other.active
    assert store.active_transaction_for_tag("A") is None
    # The lost Stop may still arrive: it stops the superseded one normally.
    assert stop(store, old) is StopOutcome.STOPPED
    stopped = store.get_transaction(old)
    assert (
        stopped is not None and stopped.stop_reason == "Local" and TransactionFlag.SUPERSEDED in stopped.flags
    )


def test_replayed_start_does_not_supersede_itself(store: Store) -> None:
    tx, _ = start(store)
    assert start(store) == (tx, False)
    record = store.get_transaction(tx)
    assert record is not None and record.active and record.flags == frozenset()


def test_stop_outcomes(store: Store) -> None:
    tx, _ = start(store)
    assert stop(store, tx, reason=None, id_tag="TAG1", meter_stop=1500, received_at=T2) is StopOutcome.STOPPED
    record = store.get_transaction(tx)
    assert record is not None
    assert (record.meter_stop, record.stop_timestamp, record.stop_reason) == (1500, T1, "Local")
    assert (record.stop_id_tag, record.stopped_at, record.flags, record.active) == (
        "TAG1",
        T2,
        frozenset(),
        False,
    )
    # Replay: nothing changes, even when the replay carries other values.
    assert (
        stop(store, tx, meter_stop=9999, reason="Remote", received_at="2026-01-02T00:00:00Z")
        is StopOutcome.REPLAY
    )
    assert store.get_transaction(tx) == record
    assert store.list_orphan_stops() == []


@pytest.mark.parametrize(
    ("transaction_id", "kind"),
    [(-1, OrphanKind.INVALID_ID), (0, OrphanKind.INVALID_ID), (HUGE, OrphanKind.INVALID_ID),
     (2**70, OrphanKind.INVALID_ID), (4711, OrphanKind.UNKNOWN)],
)  # fmt: skip
def test_stop_of_unknown_ids_is_kept_as_orphan(store: Store, transaction_id: int, kind: OrphanKind) -> None:
    data = [meter_value(T1, "2000")]
    outcome = stop(store, transaction_id, reason=None, id_tag="T", transaction_data=data, meter_stop=2**65)
    assert outcome is StopOutcome.ORPHAN
    [orphan] = store.list_orphan_stops()
    assert (orphan.charger_id, orphan.transaction_id, orphan.kind) == ("CP1", transaction_id, kind)
    assert (orphan.meter_stop, orphan.stop_timestamp, orphan.reason, orphan.id_tag) == (2**65, T1, None, "T")
    assert (orphan.transaction_data, orphan.received_at) == (data, T1)
    # The same stop again is still answered as an orphan but not stored twice.
    assert stop(store, transaction_id, reason=None, id_tag="T", meter_stop=2**65) is StopOutcome.ORPHAN
    assert len(store.list_orphan_stops()) == 1
    assert store.list_transactions() == []


def test_stop_from_another_charger_is_an_orphan(store: Store) -> None:
    tx, _ = start(store, charger_id="CP1")
    assert stop(store, tx, charger_id="CP2") is StopOutcome.ORPHAN
    record = store.get_transaction(tx)
    assert record is not None and record.active
    assert [o.kind for o in store.list_orphan_stops("CP2")] == [OrphanKind.OTHER_CHARGER]
    assert store.list_orphan_stops("CP1") == []
    assert stop(store, tx, charger_id="CP1") is StopOutcome.STOPPED


def test_stop_flags_suspect_data(store: Store) -> None:
    tx, _ = start(store, meter_start=5000, timestamp="2026-01-01T10:00:00Z")
    # 11:30+02:00 is 09:30Z, before the start (text comparison would say after).
    assert stop(store, tx, meter_stop=4000, timestamp="2026-01-01T11:30:00+02:00") is StopOutcome.STOPPED
    record = store.get_transaction(tx)
    assert record is not None
    assert record.flags == {TransactionFlag.METER_DECREASED, TransactionFlag.STOP_BEFORE_START}


def test_stop_transaction_data_becomes_meter_values(store: Store) -> None:
    tx, _ = start(store, connector_id=3)
    already_sent = meter_value(T0, "1200")
    store.add_meter_values("CP1", 3, tx, [already_sent], source="MeterValues", received_at=T0)
    data = [meter_value(T0, "1000", context="Transaction.Begin"), already_sent, meter_value(T1, "2000")]
    assert stop(store, tx, transaction_data=data) is StopOutcome.STOPPED
    values = store.list_meter_values(transaction_id=tx)
    assert [(v.connector_id, v.source) for v in values] == [
        (3, "MeterValues"),
        (3, "StopTransaction"),
        (3, "StopTransaction"),
    ]
    assert [v.sampled_values[0]["value"] for v in values] == ["1200", "1000", "2000"]


def test_transaction_queries(store: Store) -> None:
    a, _ = start(store, charger_id="CP1", connector_id=1, id_tag="Alpha")
    b, _ = start(store, charger_id="CP2", connector_id=1, id_tag="beta")
    c, _ = start(store, charger_id="CP1", connector_id=2, id_tag="gamma")
    stop(store, c)
    assert [t.transaction_id for t in store.list_transactions()] == [c, b, a]
    assert [t.transaction_id for t in store.list_transactions(limit=2)] == [c, b]
    assert [t.transaction_id for t in store.list_transactions(charger_id="CP1")] == [c, a]
    assert [t.transaction_id for t in store.list_transactions(active=True)] == [b, a]
    assert [t.transaction_id for t in store.list_transactions(active=False)] == [c]
    assert [t.transaction_id for t in store.list_transactions(charger_id="CP2", active=False)] == []
    found = store.active_transaction_for_tag("ALPHA")
    assert found is not None and found.transaction_id == a
    assert store.active_transaction_for_tag("GAMMA") is None  # stopped
    on = store.active_transaction_on("CP2", 1)
    assert on is not None and on.transaction_id == b
    assert store.active_transaction_on("CP1", 2) is None
    assert store.get_transaction(999) is None
    assert store.get_transaction(-1) is None
    assert store.get_transaction(HUGE) is None


def test_transaction_ids_run_out_cleanly(store: Store) -> None:
    store.raise_transaction_id_floor(MAX_TRANSACTION_ID)
    last, _ = start(store)
    assert last == MAX_TRANSACTION_ID
    with pytest.raises(TransactionIdsExhausted):
        start(store, connector_id=2)
    # Nothing of the failed start remains: the last one is neither superseded nor duplicated.
    assert [t.transaction_id for t in store.list_transactions()] == [MAX_TRANSACTION_ID]
    assert start(store) == (last, False)  # a retry of the last one still works
    store.raise_transaction_id_floor(5)  # never lowers
    with pytest.raises(TransactionIdsExhausted):
        start(store, connector_id=1, id_tag="other")
    record = store.get_transaction(last)
    assert record is not None and record.active
    with pytest.raises(ValueError, match="next transaction id"):
        store.raise_transaction_id_floor(0)


def test_id_floor(store: Store) -> None:
    first, _ = start(store)
    store.raise_transaction_id_floor(1000)
    second, _ = start(store, connector_id=2)
    assert (first, second) == (1, 1000)


def test_huge_wire_integers_in_transactions(store: Store) -> None:
    record, _ = store.start_transaction(
        "CP1", 2**64, "T", 2**70, T0, reservation_id=-(2**66), start_status="Accepted", received_at=T0
    )
    assert (record.connector_id, record.meter_start, record.reservation_id) == (2**64, 2**70, -(2**66))
    assert (
        start(store, connector_id=2**64, id_tag="T", meter_start=2**70, reservation_id=-(2**66))[1] is False
    )
    assert stop(store, record.transaction_id, meter_stop=2**71) is StopOutcome.STOPPED
    stopped = store.get_transaction(record.transaction_id)
    assert stopped is not None and stopped.meter_stop == 2**71 and not stopped.flags


# -- meter values -----------------------------------------------------------------------------------


def test_meter_values_keep_decimals_exactly(store: Store) -> None:
    sent = jsontext.loads(
        '{"timestamp":"2026-01-01T00:00:00Z","sampledValue":[{"value":"21.40","measurand":"Temperature",'
        '"unit":"Celcius","x":21.40,"y":1E+2}]}'
    )
    assert sent["sampledValue"][0]["x"] == Decimal("21.40")
    assert store.add_meter_values("CP1", 1, None, [sent], source="MeterValues", received_at=T1) == 1
    [record] = store.list_meter_values()
    assert record.sampled_values == sent["sampledValue"]
    assert str(record.sampled_values[0]["x"]) == "21.40"
    assert record.text == jsontext.dumps(sent)
    assert '"x":21.40' in record.text and '"y":1e+2' in record.text
    assert (record.charger_id, record.connector_id, record.transaction_id) == ("CP1", 1, None)
    assert (record.timestamp, record.source, record.received_at) == (
        "2026-01-01T00:00:00Z",
        "MeterValues",
        T1,
    )


def test_meter_value_replays_are_skipped(store: Store) -> None:
    def add(charger: str, connector: int, tx: int | None, values: list[dict[str, Any]]) -> int:
        return store.add_meter_values(charger, connector, tx, values, source="MeterValues", received_at=T1)

    first = [meter_value(T0, "1"), meter_value(T1, "2")]
    assert add("CP1", 1, 5, first) == 2
    assert add("CP1", 1, 5, first) == 0
    # Same content with keys in another order is the same MeterValue.
    assert add("CP1", 1, 5, [{"sampledValue": [{"value": "1"}], "timestamp": T0}]) == 0
    # A different value, connector, transaction or charger is new.
    assert add("CP1", 1, 5, [meter_value(T0, "3")]) == 1
    assert add("CP1", 2, 5, first[:1]) == 1
    assert add("CP1", 1, None, first[:1]) == 1
    assert add("CP1", 1, None, first[:1]) == 0
    assert add("CP2", 1, 5, first[:1]) == 1
    # Decimal text counts: 21.40 and 21.4 are kept apart (exact as sent).
    assert add("CP1", 1, 5, [meter_value(T2, Decimal("21.40"))]) == 1
    assert add("CP1", 1, 5, [meter_value(T2, Decimal("21.4"))]) == 1
    assert add("CP1", 1, 5, [meter_value(T2, Decimal("21.40"))]) == 0
    assert len(store.list_meter_values()) == 8
    assert len(store.list_meter_values(charger_id="CP1", transaction_id=5)) == 6
    assert len(store.list_meter_values(charger_id="CP1", transaction_id=5, limit=2)) == 2
    assert len(store.list_meter_values(limit=3)) == 3


@pytest.mark.parametrize("transaction_id", [HUGE, HUGE + 1, 2**70, -(2**70), -1, 0, 123456])
def test_huge_or_unknown_transaction_ids_in_meter_values(store: Store, transaction_id: int) -> None:
    values = [meter_value()]
    assert store.add_meter_values("CP1", 0, transaction_id, values, source="MeterValues", received_at=T0) == 1
    assert store.add_meter_values("CP1", 0, transaction_id, values, source="MeterValues", received_at=T0) == 0
    [record] = store.list_meter_values(transaction_id=transaction_id)
    assert record.transaction_id == transaction_id and record.connector_id == 0
    assert store.list_meter_values(transaction_id=transaction_id + 1) == []


# -- data transfer and message log ------------------------------------------------------------------


def test_data_transfers(store: Store) -> None:
    store.add_data_transfer("CP1", "in", "com.vendor", "msg", "payload text", status="Accepted", at=T0)
    store.add_data_transfer("CP1", "out", "com.vendor", None, {"n": Decimal("0.10")}, status=None, at=T1)
    store.add_data_transfer("CP2", "in", "other", None, None, status="UnknownVendorId", at=T2)
    transfers = store.list_data_transfers("CP1")
    assert [(t.direction, t.vendor_id, t.message_id, t.status, t.at) for t in transfers] == [
        ("out", "com.vendor", None, None, T1),
        ("in", "com.vendor", "msg", "Accepted", T0),
    ]
    assert transfers[0].data == {"n": Decimal("0.10")} and str(transfers[0].data["n"]) == "0.10"
    assert transfers[1].data == "payload text"
    assert [t.charger_id for t in store.list_data_transfers()] == ["CP2", "CP1", "CP1"]
    assert len(store.list_data_transfers(limit=1)) == 1


def test_message_log(store: Store) -> None:
    for n in range(5):
        store.log_message("CP1", "in" if n % 2 == 0 else "out", f'[2,"{n}","Heartbeat",{{}}]', f"t{n}")
    store.log_message("CP2", "in", "x", "t9")
    log = store.message_log("CP1")
    assert [entry.at for entry in log] == ["t4", "t3", "t2", "t1", "t0"]
    assert (log[0].charger_id, log[0].direction, log[0].text) == ("CP1", "in", '[2,"4","Heartbeat",{}]')
    assert [entry.at for entry in store.message_log("CP1", limit=2)] == ["t4", "t3"]
    assert store.message_log("nobody") == []


def test_message_log_batch_keeps_order(store: Store) -> None:
    store.log_messages([LogRecord("CP1", "in", f"frame {n}", f"t{n}") for n in range(3)])
    store.log_messages([])
    assert [entry.text for entry in store.message_log("CP1")] == ["frame 2", "frame 1", "frame 0"]


def test_schema_version(store: Store) -> None:
    assert store.schema_version == LATEST_VERSION == len(MIGRATIONS)


def test_memory_store_is_a_context_manager() -> None:
    with MemoryStore() as store:
        assert start(store) == (1, True)


# -- concurrency ------------------------------------------------------------------------------------


def _hammer(
    starter: Callable[[int], Callable[..., tuple[int, bool]]],
) -> list[tuple[tuple[Any, ...], int, bool]]:
    """8 threads × 50 starts: 40 distinct keys per thread plus 10 keys every thread sends."""
    results: list[tuple[tuple[Any, ...], int, bool]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work(thread: int) -> None:
        do_start = starter(thread)
        try:
            barrier.wait()
            for n in range(50):
                if n % 5 == 0:
                    key: tuple[Any, ...] = ("SHARED", 1 + n % 3, f"shared{n}", n, T0)
                else:
                    key = (f"CP{thread}", 1 + n % 4, f"tag{thread}-{n}", n, T0)
                tx, created = do_start(*key)
                with lock:
                    results.append((key, tx, created))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def _check_hammer(results: list[tuple[tuple[Any, ...], int, bool]], store: Store) -> None:
    by_key: dict[tuple[Any, ...], set[int]] = {}
    created: dict[tuple[Any, ...], int] = {}
    for key, tx, was_created in results:
        by_key.setdefault(key, set()).add(tx)
        created[key] = created.get(key, 0) + was_created
    assert len(results) == 400 and len(by_key) == 8 * 40 + 10
    assert all(len(ids) == 1 for ids in by_key.values())  # one id per key, whoever asked
    assert all(count == 1 for count in created.values())  # created exactly once
    ids = [next(iter(ids)) for ids in by_key.values()]
    assert len(set(ids)) == len(ids) and min(ids) >= 1
    assert len(store.list_transactions(limit=10_000)) == len(ids)


def test_threaded_starts(make_store: StoreFactory) -> None:
    store = make_store()

    def starter(_: int) -> Callable[..., tuple[int, bool]]:
        return lambda *key: start(store, *key)

    _check_hammer(_hammer(starter), store)


def test_threaded_starts_over_separate_connections(tmp_path: Path) -> None:
    """Idempotency holds in SQL, not only under one Python lock: four connections to one file."""
    path = tmp_path / "shared.sqlite"
    stores = [SqliteStore(path, synchronous="NORMAL") for _ in range(4)]
    try:

        def starter(thread: int) -> Callable[..., tuple[int, bool]]:
            return lambda *key: start(stores[thread % 4], *key)

        _check_hammer(_hammer(starter), stores[0])
    finally:
        for s in stores:
            s.close()


# -- SQLite specifics: persistence, pragmas, migrations ---------------------------------------------


def test_sqlite_data_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "persist.sqlite"
    with SqliteStore(path) as store:
        store.record_boot("CP1", {"chargePointVendor": "V"}, "Accepted", T0)
        store.put_id_tag(IdTagRecord("Tag", "Accepted"))
        store.record_status("CP1", 1, "Charging", "NoError", timestamp=T1, received_at=T1)
        tx, _ = start(store)
        start(store, connector_id=2)
        store.add_meter_values(
            "CP1", 1, tx, [meter_value(T1, Decimal("1.50"))], source="MeterValues", received_at=T1
        )
        stop(store, -1, reason=None)
        store.log_message("CP1", "in", "frame", T1)
        store.add_data_transfer("CP1", "in", "v", None, "d", status="Accepted", at=T1)
    with SqliteStore(path) as store:
        charger = store.get_charger("CP1")
        assert charger is not None and charger.registration_status == "Accepted"
        assert store.get_id_tag("TAG") == IdTagRecord("Tag", "Accepted")
        assert [c.status for c in store.get_connectors("CP1")] == ["Charging"]
        assert start(store) == (tx, False)  # the retry after a restart gets the same id
        third, created = start(store, connector_id=3)
        assert created and third == tx + 2  # ids continue, never reused
        assert str(store.list_meter_values(transaction_id=tx)[0].sampled_values[0]["value"]) == "1.50"
        assert [o.transaction_id for o in store.list_orphan_stops()] == [-1]
        assert [e.text for e in store.message_log("CP1")] == ["frame"]
        assert len(store.list_data_transfers()) == 1


def test_sqlite_pragmas_and_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with SqliteStore() as store:
        assert store.journal_mode == "wal"
        conn = store._conn
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert (tmp_path / "ocpp-trio.sqlite").exists()
    with SqliteStore(tmp_path / "n.sqlite", synchronous="normal") as store:
        assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    with pytest.raises(ValueError, match="synchronous"):
        SqliteStore(tmp_path / "x.sqlite", synchronous="OFF")


def test_sqlite_in_memory() -> None:
    with SqliteStore(":memory:") as store:
        assert start(store) == (1, True)
        assert store.schema_version == LATEST_VERSION
    store.close()  # closing twice is fine


def test_migrations_run_once(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite"
    path.touch()  # an empty file is an empty database
    with SqliteStore(path) as store:
        assert store.schema_version == LATEST_VERSION
    # V1 uses plain CREATE TABLE: running it twice would fail, so this reopen proves it was skipped.
    with SqliteStore(path) as store:
        assert store.schema_version == LATEST_VERSION
    conn = sqlite3.connect(path)
    try:
        assert user_version(conn) == LATEST_VERSION
    finally:
        conn.close()


def test_apply_migrations_is_forward_only_and_atomic(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "a.sqlite", isolation_level=None)
    try:
        scripts = ["CREATE TABLE a (x);", "CREATE TABLE b (x);\nINSERT INTO b VALUES (1);"]
        assert apply_migrations(conn, scripts[:1]) == 1
        assert apply_migrations(conn, scripts) == 2  # only the new script runs
        assert apply_migrations(conn, scripts) == 2
        broken = [*scripts, "CREATE TABLE c (x);\nCREATE TABLE a (x);"]
        with pytest.raises(sqlite3.OperationalError):
            apply_migrations(conn, broken)
        assert user_version(conn) == 2
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'c'").fetchone()[0] == 0
        assert not conn.in_transaction
        with pytest.raises(SchemaVersionError):
            apply_migrations(conn, scripts[:1])
    finally:
        conn.close()


def test_newer_database_is_refused_and_closed(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaVersionError, match="newer"):
        SqliteStore(path)  # and no ResourceWarning: the connection was closed


def test_split_statements_keeps_trigger_bodies() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (x);
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN
        INSERT INTO t VALUES (1);
        INSERT INTO t VALUES (2);
    END;
    """
    statements = split_statements(script)
    assert (
        len(statements) == 2 and statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")
    )
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TABLE t (x)")
    assert all(sqlite3.complete_statement(s) for s in split_statements(MIGRATIONS[0]))


# -- model comparison -------------------------------------------------------------------------------

_chargers = st.sampled_from(["CP1", "CP2"])
_timestamps = st.sampled_from(
    ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00+02:00", "2026-01-01T00:30:00.000Z", "2026-01-01T00:30:00Z"]
)
_meters = st.one_of(st.integers(0, 3), st.just(2**70))
_ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("start"),
            _chargers,
            st.integers(0, 2),
            st.sampled_from(["tag", "TAG", "other"]),
            _meters,
            _timestamps,
        ),
        st.tuples(
            st.just("stop"),
            _chargers,
            st.one_of(st.integers(-1, 6), st.just(MAX_TRANSACTION_ID + 1), st.just(HUGE)),
            _meters,
            _timestamps,
            st.sampled_from([None, "Local", "Remote"]),
            st.sampled_from(
                [None, [], [{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": "1"}]}]]
            ),
        ),
        st.tuples(
            st.just("meter"),
            _chargers,
            st.integers(0, 2),
            st.one_of(st.none(), st.integers(-1, 6), st.just(HUGE)),
            st.sampled_from(["1", Decimal("2.50"), Decimal("2.5")]),
        ),
    ),
    max_size=25,
)


def _run(store: Store, ops: list[tuple[Any, ...]]) -> list[Any]:
    results: list[Any] = []
    for op in ops:
        if op[0] == "start":
            _, charger, connector, tag, meter, ts = op
            results.append(start(store, charger, connector, tag, meter, ts))
        elif op[0] == "stop":
            _, charger, tx, meter, ts, reason, data = op
            results.append(
                stop(store, tx, charger, meter_stop=meter, timestamp=ts, reason=reason, transaction_data=data)
            )
        else:
            _, charger, connector, tx, value = op
            values = [meter_value(T0, value)]
            results.append(
                store.add_meter_values(charger, connector, tx, values, source="MeterValues", received_at=T1)
            )
    results.append(store.list_transactions(limit=1000))
    results.append(store.list_orphan_stops())
    results.append([(m, m.text) for m in store.list_meter_values()])
    results.append([store.active_transaction_for_tag(tag) for tag in ("tag", "other")])
    results.append([store.active_transaction_on(c, n) for c in ("CP1", "CP2") for n in range(3)])
    return results


@given(_ops)
def test_memory_and_sqlite_agree(ops: list[tuple[Any, ...]]) -> None:
    memory = MemoryStore()
    with SqliteStore(":memory:") as sqlite_store:
        assert _run(memory, ops) == _run(sqlite_store, ops)
