"""Strict JSON for OCPP-J: text in, Python values out, and back.

Why not plain ``json.loads``: it accepts ``NaN``/``Infinity`` (not JSON, RFC 8259), collapses duplicate
keys to the last one, raises ``RecursionError`` on deep nesting and ``ValueError`` on integers over 4,300
digits, and turns decimals into binary floats so ``multipleOf: 0.1`` rejects 8.1 (rules §8.4). Here:

- numbers with a fraction or exponent become :class:`decimal.Decimal` (exact, decision 3);
- integers longer than :data:`MAX_INTEGER_DIGITS` digits, NaN/Infinity and duplicate keys are refused;
- every failure, whatever Python raised, becomes one :class:`JsonTextError`.

Output is compact text; ``Decimal`` values are written exactly as they are. Values made only of strings,
integers, booleans, None, objects and arrays (what a frame without fractions parses into) are written by
``orjson``, several times faster than the standard encoder and to the same text; anything else (floats,
which orjson writes in another form, ``Decimal``, integers past 64 bits, lone surrogates, other types)
takes the standard path. Stored meter-value bodies and their replay digests depend on that text staying
the same across versions, which a Hypothesis test checks against the standard library.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

#: OCPP integers are int32, but a merely out-of-range number (a 21-digit meter value) is the schema
#: layer's to judge, with a CALLERROR echoing the id. Only a number far past any sane value is treated
#: as a size bomb that makes the frame unparseable (design.md decision 4); parsing 64 digits is cheap.
MAX_INTEGER_DIGITS = 64


class JsonTextError(ValueError):
    """The text is not acceptable JSON; ``reason`` says why (safe to log: it never quotes the input)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def _refuse_constant(name: str) -> Any:
    raise JsonTextError(f"{name} is not a JSON value")


def _parse_int(text: str) -> int:
    digits = len(text) - (1 if text[0] == "-" else 0)
    if digits > MAX_INTEGER_DIGITS:
        raise JsonTextError(f"integer of {digits} digits (limit {MAX_INTEGER_DIGITS})")
    return int(text)


def _parse_float(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite():  # pragma: no cover - the JSON grammar cannot produce these
        raise JsonTextError("non-finite number")
    # An exponent like 1e999999999 is finite for Decimal but explodes any arithmetic done on it.
    if abs(value.adjusted()) > 400:
        raise JsonTextError("number exponent out of range")
    return value


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonTextError(f"duplicate key {key[:40]!r}")
            seen.add(key)
    return result


_DECODER = json.JSONDecoder(
    parse_float=_parse_float,
    parse_int=_parse_int,
    parse_constant=_refuse_constant,
    object_pairs_hook=_object_without_duplicates,
    strict=True,
)


def loads(text: str) -> Any:
    """Parse ``text`` strictly; raise :class:`JsonTextError` for anything that is not plain JSON."""
    try:
        return _DECODER.decode(text)
    except JsonTextError:
        raise
    except RecursionError:
        raise JsonTextError("nesting too deep") from None
    except json.JSONDecodeError as exc:
        raise JsonTextError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:  # integer-string conversion limits and the like
        raise JsonTextError(f"invalid number: {type(exc).__name__}") from None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]", re.ASCII)


def has_lone_surrogate(text: str, value: Any) -> bool:
    """True when a string in ``value`` holds a lone UTF-16 surrogate (it cannot be stored as UTF-8).

    The cheap text scan runs first: a valid surrogate pair also matches it, so only then are the
    decoded strings checked one by one.
    """
    if not _SURROGATE_ESCAPE.search(text):
        return False
    return _contains_surrogate(value)


def _contains_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


_FAST = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_STRING = json.encoder.py_encode_basestring


def _decimal_text(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError("non-finite Decimal cannot be written as JSON")
    return str(value).replace("E", "e")


def _exact_parts(value: Any, out: list[str]) -> None:
    """Writes ``value`` into ``out``: the slow path, taken only by payloads holding ``Decimal`` values."""
    if isinstance(value, Decimal):
        out.append(_decimal_text(value))
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be str, not {type(key).__name__}")
            out.append(_STRING(key))
            out.append(":")
            _exact_parts(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _exact_parts(item, out)
        out.append("]")
    else:
        out.append(_FAST.encode(value))


def _plain(value: Any) -> bool:
    """True when ``value`` holds nothing but str, int, bool, None, dict, list and tuple (exact types):
    then orjson writes what the standard encoder writes. A float would come out in another form
    (``1e16`` for ``1e+16``, NaN as null) and orjson would write types json refuses (datetimes)."""
    kind = type(value)
    if kind is dict:
        items = value.values()  # a key that is not a str makes orjson raise: the standard path
    elif kind is list or kind is tuple:
        items = value
    else:
        return kind is str or kind is int or kind is bool or value is None
    for item in items:  # noqa: SIM110 - a plain loop: all() over a generator is slower on this hot path
        if type(item) is not str and not _plain(item):  # most leaves are strings: no call for them
            return False
    return True


def _orjson_text(value: Any, option: int) -> str | None:
    try:
        return orjson.dumps(value, option=option).decode()
    except TypeError:  # an integer past 64 bits, a lone surrogate, a key that is not a str
        return None


def _sorted_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [_sorted_keys(item) for item in value]
    return value


_SORTED = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=True)


def standard_dumps(value: Any) -> str:
    """What :func:`dumps` writes, by the standard library alone (the reference its fast path matches)."""
    try:
        return _FAST.encode(value)
    except TypeError:
        # Only payloads that carry Decimal values take the slower exact path.
        parts: list[str] = []
        _exact_parts(value, parts)
        return "".join(parts)


def standard_dumps_sorted(value: Any) -> str:
    """What :func:`dumps_sorted` writes, by the standard library alone."""
    try:
        return _SORTED.encode(value)
    except TypeError:  # a Decimal somewhere: written digit for digit
        return standard_dumps(_sorted_keys(value))


def _dumps(value: Any, option: int, standard: Callable[[Any], str]) -> str:
    text = _orjson_text(value, option) if _plain(value) else None
    return standard(value) if text is None else text


def dumps(value: Any) -> str:
    """Compact JSON text for ``value``; ``Decimal`` numbers are written digit for digit."""
    return _dumps(value, 0, standard_dumps)


def dumps_sorted(value: Any) -> str:
    """:func:`dumps` with object keys sorted: equal text for equal values (a canonical form)."""
    return _dumps(value, orjson.OPT_SORT_KEYS, standard_dumps_sorted)


def dumps_both(value: Any) -> tuple[str, str]:
    """``(dumps(value), dumps_sorted(value))`` with one type check: a stored meter value and its replay
    key are both written from every MeterValues message."""
    if _plain(value):
        text, ordered = _orjson_text(value, 0), _orjson_text(value, orjson.OPT_SORT_KEYS)
        if text is not None and ordered is not None:
            return text, ordered
    return standard_dumps(value), standard_dumps_sorted(value)
