"""The schema layer: every OCPP payload checked against its JSON schema, failures mapped to 1.6 error codes.

Sans-IO: no trio, no sockets, no clocks. :meth:`SchemaRegistry.load` reads ``schemas/`` once at start-up
(one request schema ``X.json`` and one response schema ``XResponse.json`` per action), checks each schema
against its draft's meta-schema, inlines its local ``$ref`` targets, and creates one validator instance
per file, plus a fast "is it valid" check: Python source written from the same schema and compiled once
(see the fast-path section of the code). A payload runs the fast check only; jsonschema's full error walk
runs only for a payload that fails it, to find and map the error.

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
import itertools
import linecache
import os
import pathlib
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Context, Decimal, DecimalException, InvalidOperation
from fractions import Fraction
from typing import Any, Final, NoReturn, Protocol

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
# of 10 samples, ~500 µs). The OCPP schemas use a handful of keywords, so at load each schema file is also
# written out as straight-line Python source (compiled once) that only answers "valid or not", with the
# same semantics: same type predicates, same format checks, same exact multipleOf. One function is written
# per object schema, except that an array's object items are checked inside the loop (a call per item
# saved); strings, numbers and arrays are checked inline. A schema using any other keyword, or another
# form of a known one, keeps jsonschema's own is_valid. jsonschema stays the reference: it produces the
# errors once a payload fails, and Hypothesis tests pin that both paths agree on every schema in schemas/
# and on random schemas built from these keywords.
#
# The MeterValues request becomes (abridged; ``print(default_registry()._requests["MeterValues"].source)``
# shows it all):
#
#     def _check_0(x):
#         if not (type(x) is dict or _is_object(x)):
#             return False
#         found0 = 2
#         v1 = x.get('connectorId', _MISSING)
#         if v1 is _MISSING:
#             return False
#         if not (type(v1) is int or _is_int(v1)):
#             return False
#         ...
#         for v4 in v3:                                   # meterValue[]
#             ...
#             if _surely_date_time(v5) is None and not _is_date_time(v5):
#                 return False
#             ...
#             for v7 in v6:                               # meterValue[].sampledValue[]
#                 if not (type(v7) is dict or _is_object(v7)):
#                     return False
#                 found8 = 1
#                 ...
#                 v10 = v7.get('context', _MISSING)
#                 if v10 is not _MISSING:
#                     found8 += 1
#                     if not (type(v10) is str or _is_string(v10)):
#                         return False
#                     if v10 not in _enum_7:
#                         return False
#                 ...
#                 if len(v7) != found8:                   # additionalProperties: false
#                     return False
#             ...
#         if len(x) != found0:
#             return False
#         return True

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

_EXACT_TYPES: Final[Mapping[str, str]] = {
    "object": "dict",
    "array": "list",
    "string": "str",
    "integer": "int",
    "number": "int",
}
"""For a JSON type, a Python type whose exact instances every predicate table accepts as that type. The
generated code tests ``type(v) is T`` first (one cheap comparison for the usual payload) and calls the
real predicate only when that fails, so the answer is always the predicate's: a ``bool`` is not an
``int``, an integral ``Decimal`` is an integer only after draft-04, and so on."""

_DATE_TIME_SURE = re.compile(
    r"(?!0000)[0-9]{4}-"
    r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"  # days 1-28 exist in every month
    r"|(?:0[13-9]|1[0-2])-(?:29|30)"  # 29 and 30 in every month but February
    r"|(?:0[13578]|1[02])-31)"  # 31 in the long months
    r"[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?",
    re.ASCII,
)
"""Date-times that :func:`is_date_time` surely accepts, known from the regex alone. The generated code
tries it first and calls :func:`is_date_time` only for a text it does not match (29 February, and every
invalid text), so the answer is always :func:`is_date_time`'s."""

_surely_date_time: Final = _DATE_TIME_SURE.fullmatch


class _NotCompilable(Exception):
    """The schema uses a keyword (or a keyword form) the generator does not implement."""


class _Missing:
    """What ``dict.get`` returns for an absent property (``None`` is a value a payload may hold)."""

    def __repr__(self) -> str:
        return "_MISSING"


_MISSING: Final = _Missing()


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def _fail_if(condition: str) -> list[str]:
    return [f"if {condition}:", "    return False"]


class _CheckWriter:
    """Writes the Python source of the fast check of one schema, then compiles it.

    Every ``_…_lines`` method returns statements that ``return False`` when the value held in the
    variable ``var`` breaks the schema, and fall through otherwise. The values the source uses (enum sets,
    type predicates, divisors) are not written as literals: they are named entries of the namespace the
    source runs in. Anything outside :data:`_COMPILABLE`, or a keyword in a form not handled here, raises
    :class:`_NotCompilable`, so the caller uses jsonschema instead: never a partial check.
    """

    def __init__(self, types: Mapping[str, _TypePredicate], check_formats: bool) -> None:
        self._types = types
        self._check_formats = check_formats
        self._functions: list[str] = []
        self._namespace: dict[str, Any] = {"_MISSING": _MISSING}
        self._counter = itertools.count()

    def compile(self, schema: Any, *, require_object: bool, filename: str) -> tuple[_Check, str]:
        """The check of ``schema`` and its source. ``require_object`` refuses a non-dict value even if
        the schema would accept it (a payload must be an object)."""
        root = self._function(schema, require_object=require_object)
        source = "\n\n".join([f"# {filename}, written by validation._CheckWriter", *self._functions]) + "\n"
        exec(compile(source, filename, "exec"), self._namespace)  # our source, from a checked schema
        # Tracebacks and profilers can then show the generated lines.
        linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
        check: _Check = self._namespace[root]
        return check, source

    # -- names

    def _fresh(self, prefix: str) -> str:
        """A variable name not used elsewhere in the source: ``v3``, ``found4``."""
        return f"{prefix}{next(self._counter)}"

    def _constant(self, value: object, prefix: str) -> str:
        """A new namespace entry for ``value``: ``_enum_7``, ``_divisor_3``."""
        name = f"_{prefix}_{len(self._namespace)}"
        self._namespace[name] = value
        return name

    def _helper(self, function: Callable[..., Any], name: str) -> str:
        """The namespace entry for a function of this module the source calls (``_is_int``)."""
        if self._namespace.setdefault(name, function) is not function:
            raise _NotCompilable  # one name for two functions: our bug, refused rather than miscompiled
        return name

    # -- functions and schema nodes

    def _function(self, schema: Any, *, require_object: bool = False) -> str:
        """Writes ``def _check_N(x)`` answering whether ``x`` passes ``schema``; returns its name."""
        index = len(self._functions)
        name = f"_check_{index}"
        self._functions.append("")  # holds the slot while nested objects' functions are written
        body = self._node_lines(schema, "x", inline_object=True)
        if require_object and _single_type(schema) != "object":
            body = _fail_if("not isinstance(x, dict)") + body
        self._functions[index] = "\n".join([f"def {name}(x):", *_indent(body), "    return True"])
        return name

    def _node_lines(self, schema: Any, var: str, *, inline_object: bool) -> list[str]:
        """The checks of one schema node; an object schema is a call unless ``inline_object``."""
        if schema is True:
            return []
        if schema is False:
            return ["return False"]
        if not isinstance(schema, dict) or not schema.keys() <= _COMPILABLE:
            raise _NotCompilable
        if not inline_object and schema.keys() & _OBJECT_KEYWORDS:
            return _fail_if(f"not {self._function(schema)}({var})")
        only = _single_type(schema)
        lines = self._type_lines(schema, var)
        lines += self._enum_lines(schema, var, is_string=only == "string")
        lines += _guard(only == "string", "str", var, self._string_lines(schema, var))
        lines += self._number_lines(schema, var)
        lines += _guard(only == "array", "list", var, self._array_lines(schema, var))
        lines += _guard(only == "object", "dict", var, self._object_lines(schema, var))
        return lines

    def _type_lines(self, schema: dict[str, Any], var: str) -> list[str]:
        if "type" not in schema:
            return []
        declared = schema["type"]
        names = [declared] if isinstance(declared, str) else declared
        if not (isinstance(names, list) and names and all(n in self._types for n in names)):
            raise _NotCompilable
        tests = []
        for name in names:
            predicate = self._types[name]
            call = f"{self._helper(predicate, predicate.__name__)}({var})"
            exact = _EXACT_TYPES.get(name)
            tests.append(f"type({var}) is {exact} or {call}" if exact else call)
        return _fail_if(f"not ({' or '.join(tests)})")

    def _enum_lines(self, schema: dict[str, Any], var: str, *, is_string: bool) -> list[str]:
        if "enum" not in schema:
            return []
        values = schema["enum"]
        # jsonschema compares a string member with ``==`` only; other members need its full equality rules.
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise _NotCompilable
        allowed = self._constant(frozenset(values), "enum")
        if is_string:  # ``type`` has made it a str, so hashable, and equal to a member only if it is one
            return _fail_if(f"{var} not in {allowed}")
        return _fail_if(f"not isinstance({var}, str) or {var} not in {allowed}")

    def _string_lines(self, schema: dict[str, Any], var: str) -> list[str]:
        lines = []
        if "maxLength" in schema:  # len() counts code points, as jsonschema does
            lines += _fail_if(f"len({var}) > {_count(schema['maxLength'])}")
        if "minLength" in schema:
            lines += _fail_if(f"len({var}) < {_count(schema['minLength'])}")
        fmt = schema.get("format")
        if self._check_formats and fmt == "date-time":
            sure = self._helper(_surely_date_time, "_surely_date_time")
            full = self._helper(is_date_time, "_is_date_time")
            lines += _fail_if(f"{sure}({var}) is None and not {full}({var})")
        elif self._check_formats and fmt == "uri":
            lines += _fail_if(f"not {self._helper(is_uri, '_is_uri')}({var})")
        # Any other format passes unchecked, as with the jsonschema format checker.
        return lines

    def _number_lines(self, schema: dict[str, Any], var: str) -> list[str]:
        if "multipleOf" not in schema:
            return []
        divisor = schema["multipleOf"]
        if not _is_number(divisor):
            raise _NotCompilable
        exact = self._constant(_as_decimal(divisor), "divisor")
        is_number = self._helper(_is_number, "_is_number")
        as_decimal = self._helper(_as_decimal, "_as_decimal")
        is_multiple = self._helper(_is_multiple, "_is_multiple")
        return _fail_if(f"{is_number}({var}) and not {is_multiple}({as_decimal}({var}), {exact})")

    def _array_lines(self, schema: dict[str, Any], var: str) -> list[str]:
        lines: list[str] = []
        if not schema.keys() & _ARRAY_KEYWORDS:
            return lines
        if "minItems" in schema:
            lines += _fail_if(f"len({var}) < {_count(schema['minItems'])}")
        if "maxItems" in schema:
            lines += _fail_if(f"len({var}) > {_count(schema['maxItems'])}")
        items = schema.get("items", True)
        if not isinstance(items, dict | bool):
            raise _NotCompilable  # the tuple form of items
        item = self._fresh("v")
        item_lines = self._node_lines(items, item, inline_object=True)
        if item_lines:
            lines += [f"for {item} in {var}:", *_indent(item_lines)]
        return lines

    def _object_lines(self, schema: dict[str, Any], var: str) -> list[str]:
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        extra = schema.get("additionalProperties", True)
        if not (isinstance(properties, dict) and isinstance(required, list)):
            raise _NotCompilable
        if not all(isinstance(name, str) for name in required):
            raise _NotCompilable
        lines: list[str] = []
        # With additionalProperties false every key must be a known property. Each known property is
        # looked up anyway, so the code counts those present: the object has no other key when the count
        # is its length (cheaper than a subset test of its keys).
        closed = extra is False
        known_required = sum(name in required for name in properties)
        found = self._fresh("found") if closed and known_required < len(properties) else None
        if found is not None:
            lines.append(f"{found} = {known_required}")
        for name, sub in properties.items():
            value = self._fresh("v")
            sub_lines = self._node_lines(sub, value, inline_object=False)
            if name in required:
                lines += [f"{value} = {var}.get({name!r}, _MISSING)", *_fail_if(f"{value} is _MISSING")]
                lines += sub_lines
            elif sub_lines or found is not None:
                if found is not None:
                    sub_lines = [f"{found} += 1", *sub_lines]
                lines += [f"{value} = {var}.get({name!r}, _MISSING)", f"if {value} is not _MISSING:"]
                lines += _indent(sub_lines)
        for name in dict.fromkeys(required):
            if name not in properties:
                lines += _fail_if(f"{name!r} not in {var}")
        if closed:
            lines += _fail_if(f"len({var}) != {found if found is not None else len(properties)}")
        elif extra is not True:  # a schema for the other properties
            key, value = self._fresh("k"), self._fresh("v")
            extra_lines = self._node_lines(extra, value, inline_object=False)
            if extra_lines:
                known = self._constant(frozenset(properties), "keys")
                lines += [f"for {key}, {value} in {var}.items():", f"    if {key} not in {known}:"]
                lines += _indent(_indent(extra_lines))
        return lines


def _guard(typed: bool, python_type: str, var: str, lines: list[str]) -> list[str]:
    """``lines`` check one JSON type only (``maxLength`` says nothing of a number): run them only for
    such a value, unless ``type`` has already refused every other value."""
    if typed or not lines:
        return lines
    return [f"if isinstance({var}, {python_type}):", *_indent(lines)]


def _single_type(schema: Any) -> str | None:
    """The one JSON type ``schema`` declares, if it declares exactly one."""
    declared = schema.get("type") if isinstance(schema, dict) else None
    if isinstance(declared, list) and len(declared) == 1:
        declared = declared[0]
    return declared if isinstance(declared, str) else None


def _count(value: object) -> int:
    """A length bound of the schema (``maxLength``, ``minItems``…), as written in the source."""
    if type(value) is not int or value < 0:
        raise _NotCompilable
    return value


def _fast_check(
    schema: Any, types: Mapping[str, _TypePredicate], check_formats: bool, *, require_object: bool = False
) -> _Check:
    """The generated check answering whether ``schema`` (local ``$ref`` inlined) accepts a value.

    Raises :class:`_NotCompilable` for a schema beyond the generator."""
    writer = _CheckWriter(types, check_formats)
    return writer.compile(schema, require_object=require_object, filename="<fast check>")[0]


def _object_only(check: _Check) -> _Check:
    return lambda payload: isinstance(payload, dict) and check(payload)


@dataclass(frozen=True, slots=True)
class _Compiled:
    """One schema file, ready: ``is_valid`` answers fast, ``validator`` explains failures.

    ``is_valid`` refuses anything but a dict. ``source`` is the generated Python source behind it, or
    ``None`` when the schema is beyond the generator and ``is_valid`` is jsonschema's."""

    validator: _Validator
    is_valid: _Check
    source: str | None


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
    writer = _CheckWriter(_type_table(base), check_formats)
    try:
        fast, source = writer.compile(inlined, require_object=True, filename=f"<fast check {path.name}>")
    except _NotCompilable:
        return _Compiled(validator, _object_only(validator.is_valid), None)
    return _Compiled(validator, fast, source)


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
        # The hot path: action → fast check, one dict lookup and one call per valid payload.
        self._request_checks = {action: compiled.is_valid for action, compiled in self._requests.items()}
        self._response_checks = {action: compiled.is_valid for action, compiled in self._responses.items()}

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
        check = self._request_checks.get(action)
        if check is None or not check(payload):  # the check refuses anything but a dict
            self._refuse(self._requests, action, payload, "request")

    def validate_response(self, action: str, payload: dict[str, Any]) -> None:
        """Check a CALLRESULT payload; raise :class:`RemoteOcppError` with the code it deserves."""
        check = self._response_checks.get(action)
        if check is None or not check(payload):
            self._refuse(self._responses, action, payload, "response")

    @staticmethod
    def _refuse(table: dict[str, _Compiled], action: str, payload: object, direction: str) -> NoReturn:
        """The slow path, for a payload the fast check refused: find its error and raise it."""
        compiled = table.get(action)
        if compiled is None:
            raise RemoteOcppError(ErrorCode.NOT_IMPLEMENTED, f"unknown action {_show(action)}")
        if not isinstance(payload, dict):
            raise RemoteOcppError(
                ErrorCode.FORMATION_VIOLATION,
                f"{action} {direction} payload must be a JSON object, not {_show(payload)}",
                {"path": "$"},
            )
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
