"""Strict JSON for OCPP-J: text in, Python values out, and back.

Why not plain ``json.loads``: it accepts ``NaN``/``Infinity`` (not JSON, RFC 8259), collapses duplicate
keys to the last one, raises ``RecursionError`` on deep nesting and ``ValueError`` on integers over 4,300
digits, and turns decimals into binary floats so ``multipleOf: 0.1`` rejects 8.1 (rules §8.4). Here:

- numbers with a fraction or exponent become :class:`decimal.Decimal` (exact, decision 3);
- integers longer than :data:`MAX_INTEGER_DIGITS` digits, NaN/Infinity and duplicate keys are refused;
- every failure, whatever Python raised, becomes one :class:`JsonTextError`.

Output is compact text; ``Decimal`` values are written exactly as they are.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

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


def dumps(value: Any) -> str:
    """Compact JSON text for ``value``; ``Decimal`` numbers are written digit for digit."""
    try:
        return _FAST.encode(value)
    except TypeError:
        # Only payloads that carry Decimal values take the slower exact path.
        parts: list[str] = []
        _exact_parts(value, parts)
        return "".join(parts)
