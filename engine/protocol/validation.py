"""The schema layer: every OCPP payload checked against its JSON schema, failures mapped to 1.6 error codes.

Sans-IO: no trio, no sockets, no clocks. :meth:`SchemaRegistry.load` reads ``schemas/`` once at start-up
(one request schema ``X.json`` and one response schema ``XResponse.json`` per action), checks each schema
against its draft's meta-schema, inlines its local ``$ref`` targets, and creates one validator instance
per file, plus a fast "is it valid" check compiled from the same schema (see the fast-path section of
the code). A payload runs the fast check only; jsonschema's full error walk runs only for a payload that
fails it, to find and map the error.

Numbers (design.md decision 3)
------------------------------
Payloads come from :mod:`engine.protocol.jsontext`: a JSON number with a fraction or exponent is a
:class:`~decimal.Decimal`, one without is an ``int``. Schema files are read the same way, so ``multipleOf:
0.1`` is ``Decimal('0.1')``. The validator classes are extended (``jsonschema.validators.extend``) so that

- ``number`` is an ``int``, a finite ``Decimal`` or a finite ``float``, never a ``bool``;
- ``integer`` follows the draft: draft-04 accepts only ``int`` (``1.0`` is not an integer there), draft-06
  and draft-07 also accept an integral ``Decimal``/``float`` (``1.0``);
- ``multipleOf`` is exact decimal arithmetic, so 8.1 and 21.4 are multiples of 0.1 and 8.15 is not.

Plain ``float`` values are accepted too (payloads the CSMS builds itself may carry them); they are read as
``Decimal(str(f))``, i.e. as the shortest decimal that prints as that float.

Formats
-------
With ``check_formats`` (the default) two formats are enforced by checkers of our own (no extra
dependency); all other formats pass unchecked:

- ``date-time``: RFC 3339 ``YYYY-MM-DDThh:mm:ss[.frac][Z|±hh:mm]``, with real calendar validity. LENIENCY:
  a timestamp without an offset (``2024-05-01T12:00:00``) is accepted and read as UTC, because chargers in
  the field send it (design.md decision 11: incoming timestamps are accepted with any offset). Leap seconds
  (``:60``) are refused: Python's ``datetime`` cannot hold them, and every timestamp is stored as one.
- ``uri``: checked loosely, as a non-empty string starting with a scheme (``ftp:``, ``https:``…). The
  official jsonschema behaviour without optional packages is "unchecked", but the schemas put ``uri`` only
  on locations the CSMS sends (GetDiagnostics, UpdateFirmware), where catching an operator's bare path
  before it goes to a charger is worth it; a full RFC 3986 parse would refuse URLs that real FTP servers
  accept.

Errors (design.md decision 2)
-----------------------------
One table, :data:`KEYWORD_ERROR_CODES`, maps the failing schema keyword to the CALLERROR code. When a
payload has several errors, the most structural one is reported (:data:`KEYWORD_PRIORITY`), ties broken by
JSON path order, so the answer is deterministic. ``RemoteOcppError.details`` is ``{"path": ...,
"keyword": ...}``; for ``required`` and ``additionalProperties`` the path names the missing or unexpected
property itself (``$.meterStart``), not only the object holding it.
"""

from __future__ import annotations

import calendar
import copy
import functools
import os
import pathlib
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Context, Decimal, DecimalException, InvalidOperation
from fractions import Fraction
from typing import Any, Final, Protocol

import jsonschema  # type: ignore[import-untyped]
import jsonschema.validators  # type: ignore[import-untyped]

from engine.protocol import jsontext
from engine.protocol.errors import ErrorCode, RemoteOcppError

__all__ = [
    "KEYWORD_ERROR_CODES",
    "KEYWORD_PRIORITY",
    "SchemaLoadError",
    "SchemaRegistry",
    "default_registry",
]

#: Environment variable that points the default registry at another schema folder.
SCHEMAS_ENV: Final = "OCPP_TRIO_SCHEMAS"

#: How many characters of a bad value (or an unexpected property name) a description may quote.
MAX_ECHO: Final = 40

KEYWORD_ERROR_CODES: Final[Mapping[str, ErrorCode]] = {
    "type": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "maxLength": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "required": ErrorCode.PROTOCOL_ERROR,
    "minItems": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "maxItems": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "enum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "format": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "minimum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "maximum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "exclusiveMinimum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "exclusiveMaximum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "multipleOf": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "pattern": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "minLength": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "additionalProperties": ErrorCode.FORMATION_VIOLATION,
}
"""Schema keyword → CALLERROR code (design.md decision 2; rules §1.5). Any keyword not listed →
``FormationViolation`` ("not conform the PDU structure").

Why these codes, following OCPP-J 1.6 Table 7:

- ``type`` is the textbook ``TypeConstraintViolation`` (``"somestring": 12``). A string over its
  ``maxLength`` is one too: the length is part of the data type (CiString20, CiString500…), as
  mobilityhouse/ocpp maps it.
- ``required``: a missing mandatory field is "Payload for Action is incomplete" → ``ProtocolError``. The
  alternative reading (cardinality 1..1 → OccurenceConstraintViolation) is disputed; we picked this one.
- ``minItems``/``maxItems`` are cardinalities (``meterValue: []``) → ``OccurenceConstraintViolation``.
- ``enum``, ``format``, ranges (``minimum``/``maximum``, and draft-06's ``exclusiveMinimum``/
  ``exclusiveMaximum``, which are the same constraint spelt differently), ``multipleOf``, ``pattern`` and
  ``minLength`` reject a well-typed value → ``PropertyConstraintViolation``.
- ``additionalProperties`` is a property the PDU does not have → ``FormationViolation``.
"""

KEYWORD_PRIORITY: Final[Mapping[str, int]] = {
    "additionalProperties": 0,
    "required": 1,
    "type": 2,
    "maxLength": 3,
    "minItems": 4,
    "maxItems": 4,
}
"""Of several errors in one payload the one with the lowest rank is reported (the most structural
problem first: a wrong shape explains later complaints better than they explain it). Keywords not listed
rank after all of these."""

_OTHER_RANK: Final = 5
_DEFAULT_CODE: Final = ErrorCode.FORMATION_VIOLATION

_SUPPORTED_DRAFTS: Final = ("Draft4Validator", "Draft6Validator", "Draft7Validator")
"""Drafts whose keywords this module knows: in all three a ``$ref`` replaces its object, so local
references can be inlined at load time, and ``required``/``additionalProperties`` mean the same."""

_RESPONSE_SUFFIX: Final = "Response"


class SchemaLoadError(Exception):
    """A schema file cannot be used; raised at start-up, the message names the file."""


# --------------------------------------------------------------------------------------------------- typing


class _SchemaError(Protocol):
    """The part of ``jsonschema.exceptions.ValidationError`` this module reads."""

    validator: str | None
    validator_value: Any
    instance: Any
    absolute_path: Iterable[str | int]


class _Validator(Protocol):
    """The part of a ``jsonschema`` validator instance this module uses."""

    def is_valid(self, instance: object) -> bool: ...

    def iter_errors(self, instance: object) -> Iterator[_SchemaError]: ...


# --------------------------------------------------------------------------------------------------- numbers
# One predicate per JSON type, used both by the extended jsonschema type checkers and by the fast path, so
# the two can never disagree on what a type means.


def _is_object(instance: object) -> bool:
    return isinstance(instance, dict)


def _is_array(instance: object) -> bool:
    return isinstance(instance, list)


def _is_string(instance: object) -> bool:
    return isinstance(instance, str)


def _is_boolean(instance: object) -> bool:
    return isinstance(instance, bool)


def _is_null(instance: object) -> bool:
    return instance is None


def _is_number(instance: object) -> bool:
    """``number``: an ``int`` (never a ``bool``), or a finite ``Decimal`` or ``float``."""
    if isinstance(instance, int):
        return not isinstance(instance, bool)
    if isinstance(instance, Decimal):
        return instance.is_finite()
    if isinstance(instance, float):
        return instance - instance == 0.0  # false for inf and nan
    return False


def _is_int(instance: object) -> bool:
    """``integer`` of draft-04: an ``int`` only (``1.0`` is a number there, not an integer)."""
    return isinstance(instance, int) and not isinstance(instance, bool)


def _is_integral(instance: object) -> bool:
    """``integer`` of draft-06 and later: any number with a zero fraction (``1.0`` is an integer)."""
    if isinstance(instance, int):
        return not isinstance(instance, bool)
    if isinstance(instance, Decimal):
        return instance.is_finite() and instance == instance.to_integral_value()
    if isinstance(instance, float):
        return instance.is_integer()
    return False


_TypePredicate = Callable[[object], bool]

_COMMON_TYPES: Final[Mapping[str, _TypePredicate]] = {
    "object": _is_object,
    "array": _is_array,
    "string": _is_string,
    "boolean": _is_boolean,
    "null": _is_null,
    "number": _is_number,
}
_DRAFT04_TYPES: Final[Mapping[str, _TypePredicate]] = {**_COMMON_TYPES, "integer": _is_int}
_LATER_TYPES: Final[Mapping[str, _TypePredicate]] = {**_COMMON_TYPES, "integer": _is_integral}


def _as_decimal(value: int | Decimal | float) -> Decimal:
    if isinstance(value, float):
        return Decimal(str(value))
    return Decimal(value)


# Exact remainder: traps make an inexpressible quotient raise instead of returning NaN.
_EXACT = Context(prec=60, Emax=999_999, Emin=-999_999, traps=[InvalidOperation])


def _is_multiple(value: Decimal, divisor: Decimal) -> bool:
    try:
        return _EXACT.remainder(value, divisor).is_zero()
    except DecimalException:
        # The integer quotient has more digits than the context holds (a huge value over a tiny
        # divisor): Fraction arithmetic is exact at any size, and this path is rare.
        return (Fraction(value) / Fraction(divisor)).denominator == 1


def _multiple_of(validator: Any, divisor: Any, instance: Any, _schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "number"):
        return
    if not _is_multiple(_as_decimal(instance), _as_decimal(divisor)):
        yield jsonschema.ValidationError(f"not a multiple of {divisor}")


# ------------------------------------------------------------------------------- keywords with new errors
# ``required`` and ``additionalProperties`` are rewritten so that each error's path ends with the missing or
# unexpected property: the report then points at ``$.meterStart`` rather than at the object that lacks it.
# ``type`` and ``enum`` are rewritten because jsonschema puts ``repr(instance)`` in their messages, which
# costs time on a big value and raises RecursionError on a deeply nested one (jsontext allows nesting
# close to the interpreter's limit). Validity is the same as jsonschema's in all four.


def _type(validator: Any, types: Any, instance: Any, _schema: Any) -> Iterator[Any]:
    names = [types] if isinstance(types, str) else types
    if not any(validator.is_type(instance, name) for name in names):
        yield jsonschema.ValidationError("wrong type")


_original_enum = jsonschema.validators.Draft4Validator.VALIDATORS["enum"]


def _enum(validator: Any, allowed: Any, instance: Any, schema: Any) -> Iterator[Any]:
    # jsonschema's equality makes a string equal only to an equal string, so ``in`` is the same test
    # whenever one side is a string; other cases (never in the OCPP schemas) keep jsonschema's rules.
    if isinstance(instance, str) or all(isinstance(member, str) for member in allowed):
        if not (isinstance(instance, str) and instance in allowed):
            yield jsonschema.ValidationError("not an allowed value")
    else:
        yield from _original_enum(validator, allowed, instance, schema)


def _required(validator: Any, required: Any, instance: Any, _schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for name in required:
        if name not in instance:
            yield jsonschema.ValidationError("required property missing", path=(name,))


_original_additional_properties = jsonschema.validators.Draft4Validator.VALIDATORS["additionalProperties"]


def _additional_properties(validator: Any, allowed: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if allowed is not False or not validator.is_type(instance, "object"):
        yield from _original_additional_properties(validator, allowed, instance, schema)
        return
    properties = schema.get("properties", {})
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    for name in instance:
        if name in properties:
            continue
        if isinstance(name, str) and any(p.search(name) for p in patterns):
            continue
        yield jsonschema.ValidationError("additional property not allowed", path=(name,))


# ---------------------------------------------------------------------------------------------- formats

_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-]([0-9]{2}):([0-9]{2}))?",
    re.ASCII,
)
_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:", re.ASCII)


def is_date_time(text: str) -> bool:
    """True for an RFC 3339 date-time that names a real instant (see the module docstring: the offset
    may be missing and then means UTC; a leap second ``:60`` is refused)."""
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    offset_hour, offset_minute = match.group(7), match.group(8)
    if not (year >= 1 and 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        return False
    if hour > 23 or minute > 59 or second > 59:
        return False
    return offset_hour is None or (int(offset_hour) <= 23 and int(offset_minute) <= 59)


def is_uri(text: str) -> bool:
    """The loose ``uri`` check: a scheme followed by ``:`` (``ftp://host/x``, ``mailto:a@b``)."""
    return _URI_SCHEME.match(text) is not None


_FORMAT_FUNCTIONS: Final[Mapping[str, Callable[[str], bool]]] = {"date-time": is_date_time, "uri": is_uri}


def _format_checker() -> Any:
    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("date-time")  # type: ignore[untyped-decorator]
    def _date_time(instance: object) -> bool:
        return not isinstance(instance, str) or is_date_time(instance)

    @checker.checks("uri")  # type: ignore[untyped-decorator]
    def _uri(instance: object) -> bool:
        return not isinstance(instance, str) or is_uri(instance)

    return checker


_FORMAT_CHECKER: Final[Any] = _format_checker()


# ------------------------------------------------------------------------------------- validator classes


def _type_table(base: Any) -> Mapping[str, _TypePredicate]:
    return _DRAFT04_TYPES if base.__name__ == "Draft4Validator" else _LATER_TYPES


@functools.cache
def _extended(base: Any) -> Any:
    """The OCPP flavour of one draft's validator class (created once per draft)."""
    type_checker = base.TYPE_CHECKER.redefine_many(
        {name: _checker_form(predicate) for name, predicate in _type_table(base).items()}
    )
    return jsonschema.validators.extend(
        base,
        validators={
            "type": _type,
            "enum": _enum,
            "multipleOf": _multiple_of,
            "required": _required,
            "additionalProperties": _additional_properties,
        },
        type_checker=type_checker,
    )


def _checker_form(predicate: _TypePredicate) -> Callable[[object, object], bool]:
    """jsonschema's type checkers are called as ``check(checker, instance)``."""
    return lambda _checker, instance: predicate(instance)


def _inline_refs(schema: Any, root: Any, where: str, active: tuple[str, ...] = ()) -> Any:
    """A copy of ``schema`` with every local ``$ref`` replaced by its target, so no reference is resolved
    while validating. Draft-04/06/07 ignore a ``$ref``'s sibling keywords, so the replacement is exact. A
    cyclic reference cannot be inlined and is refused (no OCPP schema has one); so is any non-local one
    (this layer does no I/O)."""
    if isinstance(schema, list):
        return [_inline_refs(item, root, where, active) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith("#"):
            raise SchemaLoadError(f"{where}: $ref {ref!r} is not local to the file")
        if ref in active:
            raise SchemaLoadError(f"{where}: $ref {ref!r} is cyclic")
        return _inline_refs(_pointer(root, ref, where), root, where, (*active, ref))
    return {key: _inline_refs(value, root, where, active) for key, value in schema.items()}


def _pointer(root: Any, ref: str, where: str) -> Any:
    fragment = urllib.parse.unquote(ref[1:])
    node = root
    if fragment:
        if not fragment.startswith("/"):
            raise SchemaLoadError(f"{where}: $ref {ref!r} is not a JSON pointer")
        for raw in fragment[1:].split("/"):
            part = raw.replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(part)] if isinstance(node, list) else node[part]
            except (KeyError, IndexError, ValueError, TypeError):
                raise SchemaLoadError(f"{where}: $ref {ref!r} points nowhere") from None
    return copy.deepcopy(node)


# ------------------------------------------------------------------------------------------- fast path
# jsonschema builds a new validator object for every sub-schema it descends into (~90 for a MeterValues
# of 10 samples, ~500 µs). The OCPP schemas use a handful of keywords, so at load each schema is also
# compiled into nested closures that only answer "valid or not" with the same semantics (same type
# predicates, same format checks, same exact multipleOf). A schema using any other keyword keeps
# jsonschema's own is_valid. jsonschema stays the reference: it produces the errors once a payload fails,
# and a Hypothesis test pins that both paths agree on every schema in schemas/.

_Check = Callable[[Any], bool]

_ANNOTATIONS: Final = frozenset(
    {"$schema", "id", "$id", "title", "description", "definitions", "default", "examples", "$comment"}
)
_OBJECT_KEYWORDS: Final = frozenset({"properties", "additionalProperties", "required"})
_ARRAY_KEYWORDS: Final = frozenset({"items", "minItems", "maxItems"})
_STRING_KEYWORDS: Final = frozenset({"maxLength", "minLength", "format"})
_NUMBER_KEYWORDS: Final = frozenset({"multipleOf"})
_COMPILABLE: Final = (
    _ANNOTATIONS | _OBJECT_KEYWORDS | _ARRAY_KEYWORDS | _STRING_KEYWORDS | _NUMBER_KEYWORDS | {"type", "enum"}
)


class _NotCompilable(Exception):
    """The schema uses a keyword (or a keyword form) the fast path does not implement."""


def _always(_instance: object) -> bool:
    return True


def _never(_instance: object) -> bool:
    return False


def _fast_check(schema: Any, types: Mapping[str, _TypePredicate], check_formats: bool) -> _Check:
    """Nested closures answering whether ``schema`` accepts an instance (inlined ``$ref`` only)."""
    if schema is True:
        return _always
    if schema is False:
        return _never
    if not isinstance(schema, dict) or not schema.keys() <= _COMPILABLE:
        raise _NotCompilable
    declared = schema.get("type")
    names = [declared] if isinstance(declared, str) else declared
    if names is not None and not (isinstance(names, list) and all(n in types for n in names)):
        raise _NotCompilable
    only = names[0] if names is not None and len(names) == 1 else None
    enum = _string_enum(schema)
    checks: list[_Check] = []
    if names is not None and only not in ("object", "array", "string"):
        predicates = tuple(types[n] for n in names)
        checks.append(predicates[0] if len(predicates) == 1 else lambda x: any(p(x) for p in predicates))
    if only == "object" or schema.keys() & _OBJECT_KEYWORDS:
        checks.append(_object_check(schema, types, check_formats, strict=only == "object"))
    if only == "array" or schema.keys() & _ARRAY_KEYWORDS:
        checks.append(_array_check(schema, types, check_formats, strict=only == "array"))
    if only == "string" or schema.keys() & _STRING_KEYWORDS:
        checks.append(
            _string_check(schema, enum if only == "string" else None, check_formats, only == "string")
        )
        if only == "string":
            enum = None
    if "multipleOf" in schema:
        checks.append(_multiple_check(schema["multipleOf"]))
    if enum is not None:
        allowed = enum
        checks.append(lambda x: isinstance(x, str) and x in allowed)
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    all_checks = tuple(checks)

    def check(instance: object) -> bool:
        for each in all_checks:  # noqa: SIM110 - no generator object on the hot path
            if not each(instance):
                return False
        return True

    return check


def _string_enum(schema: dict[str, Any]) -> frozenset[str] | None:
    if "enum" not in schema:
        return None
    values = schema["enum"]
    # jsonschema compares a string member with ``==`` only; other members need its full equality rules.
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _NotCompilable
    return frozenset(values)


def _object_check(
    schema: dict[str, Any], types: Mapping[str, _TypePredicate], check_formats: bool, strict: bool
) -> _Check:
    properties = {
        name: _fast_check(sub, types, check_formats) for name, sub in schema.get("properties", {}).items()
    }
    required = tuple(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    extra_check: _Check | None = None if extra is False else _fast_check(extra, types, check_formats)
    if extra_check is _always:
        extra_check = None
        extra = True

    def check(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return not strict
        for name in required:
            if name not in instance:
                return False
        for key, value in instance.items():
            sub = properties.get(key)
            if sub is not None:
                if not sub(value):
                    return False
            elif extra is False or (extra_check is not None and not extra_check(value)):
                return False
        return True

    return check


def _array_check(
    schema: dict[str, Any], types: Mapping[str, _TypePredicate], check_formats: bool, strict: bool
) -> _Check:
    items = schema.get("items", True)
    if not isinstance(items, dict | bool):
        raise _NotCompilable  # the tuple form of items
    item_check: _Check | None = _fast_check(items, types, check_formats)
    if item_check is _always:
        item_check = None
    low: int = schema.get("minItems", 0)
    high: int | None = schema.get("maxItems")

    def check(instance: Any) -> bool:
        if not isinstance(instance, list):
            return not strict
        if len(instance) < low or (high is not None and len(instance) > high):
            return False
        if item_check is not None:
            for item in instance:
                if not item_check(item):
                    return False
        return True

    return check


def _string_check(
    schema: dict[str, Any], enum: frozenset[str] | None, check_formats: bool, strict: bool
) -> _Check:
    low: int = schema.get("minLength", 0)
    high: int | None = schema.get("maxLength")
    fmt = _FORMAT_FUNCTIONS.get(schema.get("format", "")) if check_formats else None

    def check(instance: Any) -> bool:
        if not isinstance(instance, str):
            return not strict
        if enum is not None and instance not in enum:
            return False
        if (high is not None and len(instance) > high) or len(instance) < low:
            return False
        return fmt is None or fmt(instance)

    return check


def _multiple_check(divisor: Any) -> _Check:
    exact = _as_decimal(divisor)
    return lambda x: not _is_number(x) or _is_multiple(_as_decimal(x), exact)


@dataclass(frozen=True, slots=True)
class _Compiled:
    """One schema file, ready: ``is_valid`` answers fast, ``validator`` explains failures."""

    validator: _Validator
    is_valid: _Check


def _compile(path: pathlib.Path, *, check_formats: bool) -> _Compiled:
    where = str(path)
    try:
        document = jsontext.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, jsontext.JsonTextError) as exc:
        raise SchemaLoadError(f"{where}: cannot read schema: {exc}") from exc
    if not isinstance(document, dict):
        raise SchemaLoadError(f"{where}: a schema must be a JSON object")
    if not isinstance(document.get("$schema"), str):
        raise SchemaLoadError(f"{where}: no $schema, so the draft is unknown")
    base = jsonschema.validators.validator_for(document, default=None)
    if base is None or base.__name__ not in _SUPPORTED_DRAFTS:
        raise SchemaLoadError(f"{where}: unsupported $schema {str(document['$schema'])[:80]!r}")
    try:
        base.check_schema(document)
    except jsonschema.SchemaError as exc:
        raise SchemaLoadError(f"{where}: invalid schema: {exc.message}") from exc
    inlined = _inline_refs(document, document, where)
    # Without $schema every sub-validator keeps our extended class (jsonschema's evolve() would otherwise
    # look the draft up again and return the stock one).
    del inlined["$schema"]
    validator: _Validator = _extended(base)(
        inlined, format_checker=_FORMAT_CHECKER if check_formats else None
    )
    try:
        fast = _fast_check(inlined, _type_table(base), check_formats)
    except _NotCompilable:
        fast = validator.is_valid
    return _Compiled(validator, fast)


# ------------------------------------------------------------------------------------------------ errors


def _path_text(path: Iterable[str | int]) -> str:
    parts = ["$"]
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            name = str(part)
            if len(name) > MAX_ECHO:
                name = name[:MAX_ECHO] + "…"
            if name.isidentifier() and name.isascii():
                parts.append(f".{name}")
            else:
                parts.append("['" + name.replace("\\", "\\\\").replace("'", "\\'") + "']")
    return "".join(parts)


def _path_key(path: Iterable[str | int]) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in path)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, Decimal | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _show(value: object) -> str:
    """A short, safe rendering of a bad value: at most :data:`MAX_ECHO` characters of it."""
    if isinstance(value, str):
        shown = value[:MAX_ECHO]
        return repr(shown) + ("…" if len(value) > MAX_ECHO else "")
    if value is None or isinstance(value, bool | int | Decimal | float):
        text = "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        return text[:MAX_ECHO] + ("…" if len(text) > MAX_ECHO else "")
    return f"an {_json_type(value)}" if _json_type(value) in ("array", "object") else _json_type(value)


def _describe(keyword: str, error: _SchemaError, where: str) -> str:
    value, instance = error.validator_value, error.instance
    if keyword == "required":
        return f"payload incomplete: {where} is required"
    if keyword == "additionalProperties":
        return f"{where}: property not allowed"
    if keyword == "type":
        expected = value if isinstance(value, str) else " or ".join(str(v) for v in value)
        return f"{where}: expected {expected}, got {_json_type(instance)}"
    if keyword in ("maxLength", "minLength") and isinstance(instance, str):
        bound = "at most" if keyword == "maxLength" else "at least"
        return f"{where}: {len(instance)} characters, {bound} {value} allowed"
    if keyword in ("minItems", "maxItems") and isinstance(instance, list):
        bound = "at least" if keyword == "minItems" else "at most"
        return f"{where}: {len(instance)} items, {bound} {value} required"
    if keyword == "enum":
        return f"{where}: {_show(instance)} is not an allowed value"
    if keyword == "format":
        return f"{where}: {_show(instance)} is not a valid {str(value)[:MAX_ECHO]}"
    return f"{where}: {_show(instance)} violates {keyword[:MAX_ECHO]}"


def _to_remote_error(errors: Iterable[_SchemaError], direction: str, action: str) -> RemoteOcppError:
    def rank(error: _SchemaError) -> tuple[int, tuple[tuple[int, int, str], ...]]:
        return KEYWORD_PRIORITY.get(error.validator or "", _OTHER_RANK), _path_key(error.absolute_path)

    chosen = min(errors, key=rank, default=None)
    if chosen is None:  # pragma: no cover - is_valid() said invalid, so iter_errors() yields something
        return RemoteOcppError(_DEFAULT_CODE, f"{action} {direction} is invalid")
    keyword = chosen.validator or ""
    where = _path_text(chosen.absolute_path)
    return RemoteOcppError(
        KEYWORD_ERROR_CODES.get(keyword, _DEFAULT_CODE),
        _describe(keyword, chosen, where),
        {"path": where, "keyword": keyword},
    )


# ---------------------------------------------------------------------------------------------- registry


def _default_directory() -> pathlib.Path:
    override = os.environ.get(SCHEMAS_ENV)
    if override:
        return pathlib.Path(override)
    return pathlib.Path(__file__).resolve().parents[2] / "schemas"


class SchemaRegistry:
    """The compiled request and response schema of every action found in one folder."""

    def __init__(self, requests: Mapping[str, _Compiled], responses: Mapping[str, _Compiled]):
        self._requests = dict(requests)
        self._responses = dict(responses)
        self._actions = frozenset(self._requests)

    @classmethod
    def load(cls, directory: pathlib.Path | None = None, *, check_formats: bool = True) -> SchemaRegistry:
        """Load and compile every ``*.json`` in ``directory`` once (default: the repo's ``schemas/``
        folder, or the folder named by the ``OCPP_TRIO_SCHEMAS`` environment variable).

        Raises :class:`SchemaLoadError`, naming the file, for an unreadable or invalid schema and for an
        action that has a request schema without a response schema or the reverse."""
        folder = directory if directory is not None else _default_directory()
        if not folder.is_dir():
            raise SchemaLoadError(f"{folder}: no such schema folder")
        requests: dict[str, _Compiled] = {}
        responses: dict[str, _Compiled] = {}
        for path in sorted(folder.glob("*.json")):
            compiled = _compile(path, check_formats=check_formats)
            name = path.stem
            if name.endswith(_RESPONSE_SUFFIX) and len(name) > len(_RESPONSE_SUFFIX):
                responses[name.removesuffix(_RESPONSE_SUFFIX)] = compiled
            else:
                requests[name] = compiled
        for action in sorted(requests.keys() ^ responses.keys()):
            missing = f"{action}Response.json" if action in requests else f"{action}.json"
            raise SchemaLoadError(f"{folder / missing}: missing (the other schema of {action} exists)")
        if not requests:
            raise SchemaLoadError(f"{folder}: no *.json schema files")
        return cls(requests, responses)

    @property
    def actions(self) -> frozenset[str]:
        """The actions that have a request (and so also a response) schema."""
        return self._actions

    def has_action(self, action: str) -> bool:
        return action in self._requests

    def validate_request(self, action: str, payload: dict[str, Any]) -> None:
        """Check a CALL payload; raise :class:`RemoteOcppError` with the code to answer with."""
        self._validate(self._requests, action, payload, "request")

    def validate_response(self, action: str, payload: dict[str, Any]) -> None:
        """Check a CALLRESULT payload; raise :class:`RemoteOcppError` with the code it deserves."""
        self._validate(self._responses, action, payload, "response")

    @staticmethod
    def _validate(table: dict[str, _Compiled], action: str, payload: object, direction: str) -> None:
        compiled = table.get(action)
        if compiled is None:
            raise RemoteOcppError(ErrorCode.NOT_IMPLEMENTED, f"unknown action {_show(action)}")
        if not isinstance(payload, dict):
            raise RemoteOcppError(
                ErrorCode.FORMATION_VIOLATION,
                f"{action} {direction} payload must be a JSON object, not {_show(payload)}",
                {"path": "$"},
            )
        if compiled.is_valid(payload):
            return
        try:
            error = _to_remote_error(compiled.validator.iter_errors(payload), direction, action)
        except RecursionError:
            # Safety net: a keyword we did not rewrite put repr() of a deeply nested value in a message.
            error = RemoteOcppError(
                ErrorCode.FORMATION_VIOLATION,
                f"{action} {direction} payload nested too deeply",
                {"path": "$"},
            )
        raise error


@functools.cache
def default_registry() -> SchemaRegistry:
    """The process-wide registry of the repo's ``schemas/`` folder, loaded on first use."""
    return SchemaRegistry.load()
