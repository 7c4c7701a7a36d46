"""jsontext's orjson path writes exactly what the standard library writes, or steps aside.

Stored meter-value bodies and their replay digests (SHA-256 of the sorted-key text) were written by the
standard encoder; a different byte anywhere would make a replayed MeterValues look new after an upgrade.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from engine.protocol import jsontext

# Everything a parsed frame can hold, plus what only Python callers pass: floats, huge integers, tuples,
# lone surrogates (text() draws them), keys that are not strings.
_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**62, max_value=2**66)
    | st.integers(min_value=-(2**66), max_value=-(2**62))
    | st.text()
    | st.floats()
    | st.decimals(allow_nan=False, allow_infinity=False)
)
_values = st.recursive(
    _leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=6), children, max_size=4)
        | st.dictionaries(st.integers(), children, max_size=2)
    ),
    max_leaves=25,
)


def _outcome(write: Any, value: Any) -> tuple[str, str]:
    try:
        return "text", write(value)
    except (TypeError, ValueError) as exc:
        return "refused", type(exc).__name__


@given(_values)
@example({"b": 1, "a": '\u2028\x00\x7f"\\é😀'})
@example([2**64 - 1, 2**64, -(2**63), -(2**63) - 1])
@example({"x": float("nan")})
@example({"x": 1e16, "y": 1e-5})
def test_dumps_writes_what_the_standard_encoder_writes(value: Any) -> None:
    assert _outcome(jsontext.dumps, value) == _outcome(jsontext.standard_dumps, value)


@given(_values)
@example({"é": 1, "z": 2, "Z": 3, "😀": 4, "\uffff": 5, "": 6})
def test_dumps_sorted_writes_what_the_standard_encoder_writes(value: Any) -> None:
    assert _outcome(jsontext.dumps_sorted, value) == _outcome(jsontext.standard_dumps_sorted, value)
    assert _outcome(jsontext.dumps_both, value) == _outcome(
        lambda v: (jsontext.standard_dumps(v), jsontext.standard_dumps_sorted(v)), value
    )


@given(_values.filter(lambda v: not isinstance(v, float)))
def test_the_standard_sorted_text_is_the_standard_librarys(value: Any) -> None:
    # Our reference is the json module itself wherever it can write the value (not Decimal).
    standard = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=True)
    try:
        expected = standard.encode(value)
    except (TypeError, ValueError):
        return
    assert jsontext.dumps_sorted(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        1.5,
        {"a": [1, 2.0]},
        Decimal("8.1"),
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        {"k": dt.date(2026, 1, 1)},
    ],
)
def test_what_is_not_plain_takes_the_standard_path(value: Any) -> None:
    assert not jsontext._plain(value)


def test_what_orjson_refuses_takes_the_standard_path() -> None:
    assert jsontext.dumps([2**64, -(2**63) - 1]) == "[18446744073709551616,-9223372036854775809]"
    assert jsontext.dumps({"k": "\ud800"}) == '{"k":"\ud800"}'
    assert jsontext.dumps({1: True}) == '{"1":true}'


def test_a_parsed_meter_value_is_plain() -> None:
    text = (
        '{"timestamp":"2026-01-01T00:00:00.000Z","sampledValue":[{"value":"12.5","measurand":'
        '"Energy.Active.Import.Register","unit":"Wh"},{"value":"7","context":"Sample.Periodic"}]}'
    )
    value = jsontext.loads(text)
    assert jsontext._plain(value)
    assert jsontext.dumps(value) == text
