"""SqliteStore.group: many calls, one commit; each write still all-or-nothing on its own. And the fast
canonical JSON of the meter-value replay key."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.protocol import jsontext
from engine.protocol.jsontext import _sorted_keys
from engine.store import IdTagRecord, SqliteStore
from engine.store.base import canonical_json, meter_value_body_and_digest, meter_value_digest

T0 = "2026-01-01T00:00:00.000Z"


def committed_tags(path: Path) -> set[str]:
    """What another connection sees: only committed rows."""
    with sqlite3.connect(path) as other:
        return {row[0] for row in other.execute("SELECT id_tag FROM id_tags")}


def test_writes_in_a_group_are_durable_only_when_it_exits(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite"
    with SqliteStore(path) as store:
        with store.group():
            store.put_id_tag(IdTagRecord("A", "Accepted"))
            store.put_id_tag(IdTagRecord("B", "Blocked"))
            # visible inside the group, not yet to anybody else
            assert store.get_id_tag("A") is not None
            assert committed_tags(path) == set()
        assert committed_tags(path) == {"A", "B"}


def test_a_failing_write_undoes_only_itself(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite"
    with SqliteStore(path) as store:
        store.raise_transaction_id_floor(10)
        with store.group():
            store.put_id_tag(IdTagRecord("A", "Accepted"))
            with pytest.raises(ValueError, match="next transaction id"):
                store.raise_transaction_id_floor(0)
            record, created = store.start_transaction(
                "CP1", 1, "A", 0, T0, reservation_id=None, start_status="Accepted", received_at=T0
            )
            assert created and record.transaction_id == 10
            # a write whose second statement breaks a constraint
            with pytest.raises(sqlite3.IntegrityError), store._write() as conn:
                conn.execute("INSERT INTO id_tags (tag_key, id_tag, status) VALUES ('x', 'X', 'Accepted')")
                conn.execute("INSERT INTO id_tags (tag_key, id_tag, status) VALUES ('x', 'X', 'Accepted')")
        assert committed_tags(path) == {"A"}
        assert store.get_transaction(10) is not None


def test_an_exception_out_of_the_group_rolls_everything_back(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite"
    with SqliteStore(path) as store:
        with pytest.raises(RuntimeError), store.group():
            store.put_id_tag(IdTagRecord("A", "Accepted"))
            raise RuntimeError("the disk went away")
        assert committed_tags(path) == set()
        assert store.get_id_tag("A") is None
        store.put_id_tag(IdTagRecord("B", "Accepted"))  # the store is usable afterwards
        assert committed_tags(path) == {"B"}


def test_nested_groups_join_the_outer_one(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite"
    with SqliteStore(path) as store:
        with store.group():
            with store.group():
                store.put_id_tag(IdTagRecord("A", "Accepted"))
            assert committed_tags(path) == set()
        assert committed_tags(path) == {"A"}


# ------------------------------------------------------------------------ the replay key's canonical text

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@given(_json_values)
def test_canonical_json_fast_path_writes_what_the_exact_path_writes(value: object) -> None:
    # orjson and the C encoder with sort_keys are the fast paths; the Python path sorts, then writes
    # Decimals exactly.
    assert canonical_json(value) == jsontext.standard_dumps(_sorted_keys(value))


@given(_json_values)
def test_a_meter_value_body_and_digest_written_together_are_those_written_apart(value: object) -> None:
    assert meter_value_body_and_digest(value) == (jsontext.dumps(value), meter_value_digest(value))
