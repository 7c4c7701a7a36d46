"""The generated fast check (``validation._CheckWriter``) against jsonschema, the reference.

Three families of payloads, every one checked by both paths, which must agree on validity:

- valid payloads built from each schema in ``schemas/`` (every action, request and response); both paths
  must accept them;
- the same payloads after one to three mutations anywhere in the tree (wrong types, ``Decimal`` for
  ``int``, booleans, a missing required or an extra property, overlong strings, bad enums and date-times,
  empty arrays, subclasses of ``str`` and ``int``…);
- random schemas built from every keyword the generator knows, in forms the real schemas do not use
  (no ``type``, several types, ``additionalProperties`` as a schema, boolean sub-schemas…), with values
  drawn around them.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import itertools
import math
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.protocol import jsontext, validation
from engine.protocol.errors import ErrorCode, RemoteOcppError
from engine.protocol.validation import SchemaRegistry, default_registry, is_date_time

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
DRAFT4 = "http://json-schema.org/draft-04/schema#"
DRAFT6 = "http://json-schema.org/draft-06/schema#"

COMPILED = {
    path.stem: validation._compile(path, check_formats=True) for path in sorted(SCHEMA_DIR.glob("*.json"))
}
NAMES = sorted(COMPILED)
DRAFT4_NAMES = frozenset(
    path.stem for path in SCHEMA_DIR.glob("*.json") if jsontext.loads(path.read_text())["$schema"] == DRAFT4
)
# Hypothesis examples per schema file: a share of the profile's budget, never fewer than 20.
BUDGET = settings().max_examples  # of the profile tests/conftest.py loaded
PER_SCHEMA = max(20, BUDGET // 5)


class Text(str):
    """A ``str`` subclass: not ``type(v) is str``, so the generated code must ask the real predicate."""


class Count(int):
    """An ``int`` subclass (``IntEnum`` members are such values)."""


def schema_of(name: str) -> Any:
    return COMPILED[name].validator.schema  # type: ignore[attr-defined]


def jsonschema_says(name: str, payload: Any) -> bool:
    return bool(COMPILED[name].validator.is_valid(payload))


def public_validate(name: str, payload: Any) -> None:
    registry = default_registry()
    if name.endswith("Response") and name != "Response":
        registry.validate_response(name.removesuffix("Response"), payload)
    else:
        registry.validate_request(name, payload)


# ---------------------------------------------------------------------------------------- valid payloads

URIS = ["ftp://logs.example.com/", "https://h.example/upload?x=1", "sftp:host", "mailto:a@b"]


@st.composite
def date_times(draw: st.DrawFn) -> str:
    """Any valid RFC 3339 date-time in the forms ``is_date_time`` accepts (29 February and the 31st of
    long months included, where the generated code falls back to ``is_date_time``)."""
    day = draw(st.dates(min_value=dt.date(1, 1, 1)))
    clock = draw(st.times())
    text = f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
    text += draw(st.sampled_from("Tt")) + f"{clock.hour:02d}:{clock.minute:02d}:{clock.second:02d}"
    text += draw(st.sampled_from(["", ".5", ".000", ".123456789"]))
    offset = draw(
        st.sampled_from(["Z", "z", ""])
        | st.tuples(st.sampled_from("+-"), st.integers(0, 23), st.integers(0, 59)).map(
            lambda o: f"{o[0]}{o[1]:02d}:{o[2]:02d}"
        )
    )
    return text + offset


def valid_for(schema: Any, draft4: bool) -> st.SearchStrategy[Any]:
    """Values the (inlined, OCPP-keyword-only) ``schema`` accepts."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"]) | st.sampled_from(schema["enum"]).map(Text)
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {name: valid_for(sub, draft4) for name, sub in properties.items() if name in required},
            optional={
                name: valid_for(sub, draft4) for name, sub in properties.items() if name not in required
            },
        )
    if kind == "array":
        low = schema.get("minItems", 0)
        return st.lists(valid_for(schema.get("items", {}), draft4), min_size=low, max_size=low + 3)
    if kind == "string":
        if schema.get("format") == "date-time":
            return date_times()
        if schema.get("format") == "uri":
            return st.sampled_from(URIS)
        return st.text(max_size=schema.get("maxLength", 30)) | st.text(max_size=3).map(Text)
    if kind == "integer":
        whole = st.integers(min_value=-(2**70), max_value=2**70)
        if draft4:
            return whole | whole.map(Count)
        return whole | whole.map(Count) | whole.map(lambda n: Decimal(f"{n}.00")) | whole.map(float)
    if kind == "number":
        if "multipleOf" in schema:
            step = schema["multipleOf"]
            return st.integers(-(10**6), 10**6).map(lambda n: n * step)
        return st.integers() | st.decimals(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    raise AssertionError(f"no valid values known for {schema}")  # the schema set grew a new form


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=PER_SCHEMA)
@given(data=st.data())
def test_valid_payloads_pass_both_paths(name: str, data: st.DataObject) -> None:
    payload = data.draw(valid_for(schema_of(name), name in DRAFT4_NAMES))
    assert jsonschema_says(name, payload), payload  # the strategy is right...
    assert COMPILED[name].is_valid(payload)  # ...and the generated check accepts it too
    public_validate(name, payload)


# ----------------------------------------------------------------------------------------- mutations

ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**64,
    Count(3),
    Decimal("5"),
    Decimal("5.0"),
    Decimal("1E+1"),
    Decimal("-0"),
    Decimal("0.15"),
    Decimal("8.1"),
    Decimal("NaN"),
    Decimal("-Infinity"),
    1.0,
    8.15,
    float("inf"),
    float("nan"),
    "",
    "1",
    "Accepted",
    Text("Accepted"),
    "Sample.Periodic",
    "Wh",
    "2024-05-01T12:00:00Z",
    "2024-02-29T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "2024-05-01T12:00:60Z",
    "ftp://x",
    "é" * 501,
    "😀" * 21,
    [],
    [1],
    [{}],
    {},
    {"value": "1"},
]


def paths_of(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every position in a JSON tree, the root included."""
    found = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths_of(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths_of(item, (*here, index))
    return found


def at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def mutation_of(data: st.DataObject, node: Any, names: list[str]) -> Any:
    """A replacement for ``node``: near misses of its own kind, or a value of another kind."""
    near: st.SearchStrategy[Any]
    if isinstance(node, bool):
        near = st.sampled_from([not node, int(node)])
    elif isinstance(node, int):
        near = st.sampled_from(
            [Decimal(node), Decimal(f"{node}.0"), Decimal(node) + Decimal("0.5"), float(node)]
        )
        near = near | st.sampled_from([True, str(node), Count(node)])
    elif isinstance(node, Decimal) and node.is_finite():
        near = st.sampled_from([node + Decimal("0.01"), int(node)])
    elif isinstance(node, float) and math.isfinite(node):
        near = st.sampled_from([node + 0.01, int(node)])
    elif isinstance(node, str):
        near = st.sampled_from([node + "x", node.lower(), node.upper(), node[:-1], Text(node), node + " "])
        near = near | st.integers(1, 600).map(lambda n: node + "é" * n) | st.text(max_size=4)
    elif isinstance(node, list):
        copies = [copy.deepcopy(node[0])] if node else []
        near = st.sampled_from([[], [*node, *copies], node[:1]]) | st.sampled_from(ODD_VALUES).map(
            lambda odd: [*node, odd]
        )
    elif isinstance(node, dict):
        keys = sorted(node)
        removals = (
            st.sampled_from(keys).map(lambda k: {n: v for n, v in node.items() if n != k})
            if keys
            else st.nothing()
        )
        extra_key = st.sampled_from([*names, "unexpected", "é"]) | st.text(max_size=3)
        additions = st.tuples(extra_key, st.sampled_from(ODD_VALUES)).map(lambda kv: {**node, kv[0]: kv[1]})
        near = removals | additions
    else:
        near = st.nothing()
    # A copy: a later mutation may change the replacement in place, and ODD_VALUES must stay as written.
    return copy.deepcopy(data.draw(near | st.sampled_from(ODD_VALUES)))


def mutated(data: st.DataObject, payload: Any, times: int) -> Any:
    """``payload`` after ``times`` replacements of a node chosen anywhere in the tree."""
    names = sorted({step for path in paths_of(payload) for step in path if isinstance(step, str)})
    for _ in range(times):
        path = data.draw(st.sampled_from(paths_of(payload)))
        replacement = mutation_of(data, at(payload, path), names)
        if not path:
            payload = replacement
        else:
            at(payload, path[:-1])[path[-1]] = replacement
    return payload


def check_agreement(name: str, payload: Any) -> None:
    snapshot = copy.deepcopy(payload)
    reference = jsonschema_says(name, payload)
    assert COMPILED[name].is_valid(payload) is reference, (name, payload)
    assert repr(payload) == repr(snapshot)  # validation never changes the payload (NaN != NaN)
    if reference:
        public_validate(name, payload)
    else:
        with pytest.raises(RemoteOcppError) as caught:
            public_validate(name, payload)
        assert isinstance(caught.value.code, ErrorCode)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=PER_SCHEMA)
@given(data=st.data())
def test_mutated_payloads_agree_with_jsonschema(name: str, data: st.DataObject) -> None:
    payload = data.draw(valid_for(schema_of(name), name in DRAFT4_NAMES))
    check_agreement(name, mutated(data, payload, data.draw(st.integers(1, 3))))


def benchmark_payload() -> Any:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from frame_path import meter_values_frame  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(BENCHMARKS))
    return jsontext.loads(meter_values_frame("id"))[3]


METER_VALUES = benchmark_payload()


def test_the_benchmark_payload_is_valid() -> None:
    check_agreement("MeterValues", copy.deepcopy(METER_VALUES))
    assert len(METER_VALUES["meterValue"][0]["sampledValue"]) == 10


@settings(max_examples=max(300, BUDGET * 3))
@given(data=st.data())
def test_nested_mutations_of_the_benchmark_payload_agree(data: st.DataObject) -> None:
    """The benchmark's MeterValues (10 sampled values), one mutation somewhere under ``sampledValue``."""
    payload = copy.deepcopy(METER_VALUES)
    samples = payload["meterValue"][0]["sampledValue"]
    index = data.draw(st.integers(0, len(samples) - 1))
    samples[index] = mutated(data, samples[index], 1)
    check_agreement("MeterValues", payload)


def test_typical_mistakes_agree() -> None:
    """A few named mutations, so a failure reads as a sentence."""
    cases: list[tuple[str, Any]] = []
    for key, value in [
        ("value", 5),
        ("value", "é" * 1000),
        ("unit", "Joule"),
        ("unit", "wh"),
        ("phase", None),
        ("colour", "red"),
        ("measurand", ["Voltage"]),
    ]:
        payload = copy.deepcopy(METER_VALUES)
        payload["meterValue"][0]["sampledValue"][9][key] = value
        cases.append(("MeterValues", payload))
    without_value = copy.deepcopy(METER_VALUES)
    del without_value["meterValue"][0]["sampledValue"][4]["value"]
    cases.append(("MeterValues", without_value))
    empty = copy.deepcopy(METER_VALUES)
    empty["meterValue"][0]["sampledValue"] = []
    cases.append(("MeterValues", empty))
    for connector in (True, Decimal("1.0"), 1.0, "1"):
        cases.append(("MeterValues", {**METER_VALUES, "connectorId": connector}))
    cases.append(("Authorize", {"idTag": "é" * 20}))
    cases.append(("Authorize", {"idTag": "é" * 21}))
    cases.append(
        ("GetLog", {"log": {"remoteLocation": "x"}, "logType": "SecurityLog", "requestId": Decimal("1.0")})
    )
    for name, payload in cases:
        check_agreement(name, payload)


# ------------------------------------------------------------------------------------- random schemas

KEYS = ["a", "b", "c"]
TYPE_NAMES = ["object", "array", "string", "integer", "number", "boolean", "null"]
types = st.sampled_from(TYPE_NAMES) | st.lists(
    st.sampled_from(TYPE_NAMES), min_size=1, max_size=3, unique=True
)
small_enums = st.lists(st.sampled_from(["x", "y", "é", "", "1"]), min_size=1, max_size=3, unique=True)
scalar_keywords = {
    "type": types,
    "enum": small_enums,
    "maxLength": st.integers(0, 3),
    "minLength": st.integers(0, 3),
    "format": st.sampled_from(["date-time", "uri", "email"]),
    "multipleOf": st.sampled_from([Decimal("0.1"), Decimal("0.25"), 2]),
}


def random_schemas(draft4: bool) -> st.SearchStrategy[Any]:
    booleans = st.nothing() if draft4 else st.booleans()
    leaves = booleans | st.fixed_dictionaries({}, optional=scalar_keywords)

    def nodes(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.fixed_dictionaries(
            {},
            optional={
                **scalar_keywords,
                "properties": st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
                "required": st.lists(st.sampled_from([*KEYS, "d"]), min_size=1, max_size=3, unique=True),
                "additionalProperties": st.booleans() | inner,
                "items": inner,
                "minItems": st.integers(0, 2),
                "maxItems": st.integers(0, 3),
            },
        )

    return st.recursive(leaves, nodes, max_leaves=8)


scalar_pool = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        1,
        2,
        -4,
        Count(2),
        Decimal("2.0"),
        Decimal("0.2"),
        Decimal("0.3"),
        Decimal("0.25"),
        Decimal("NaN"),
        2.5,
        4.0,
        float("inf"),
        "",
        "x",
        "y",
        "é",
        "1",
        Text("x"),
        "xyz",
        "😀😀😀😀",
        "2024-05-01T12:00:00Z",
        "2024-02-30T12:00:00Z",
        "ftp://h/",
        "no scheme",
    ]
)
instances = st.recursive(
    scalar_pool,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from([*KEYS, "d", "e"]), inner, max_size=4)
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("check_formats", [True, False])
@pytest.mark.parametrize("draft", [DRAFT4, DRAFT6])
@settings(max_examples=max(120, BUDGET))
@given(data=st.data())
def test_generator_agrees_on_random_schemas(draft: str, check_formats: bool, data: st.DataObject) -> None:
    schema = data.draw(random_schemas(draft == DRAFT4))
    base = jsonschema.validators.validator_for({"$schema": draft})
    try:
        base.check_schema(schema)
    except jsonschema.SchemaError:
        assume(False)
    reference = validation._extended(base)(
        schema, format_checker=validation._FORMAT_CHECKER if check_formats else None
    )
    fast = validation._fast_check(schema, validation._type_table(base), check_formats)
    for value in data.draw(st.lists(instances, min_size=1, max_size=8)):
        assert fast(value) is reference.is_valid(value), (schema, value)


EDGE_FORMS: list[tuple[dict[str, Any], list[Any]]] = [
    # A required property whose schema accepts anything: only its presence is checked.
    ({"properties": {"a": {}}, "required": ["a"]}, [{}, {"a": None}, {"b": 1}, [], None]),
    ({"properties": {"a": {"type": ["null", "string"]}}, "required": ["a"]}, [{}, {"a": None}, {"a": 1}]),
    ({"maxLength": 2}, [5, "abc", "ab", [1, 2, 3], None]),
    ({"type": ["string", "null"], "maxLength": 2}, [None, "abc", "ab", 1]),
    ({"minLength": 1, "maxLength": 2}, ["", "é", "😀😀", "😀😀😀", Text("abc")]),
    (
        {"items": {"type": "string"}, "minItems": 1, "maxItems": 2},
        [[], ["a"], ["a", "b", "c"], [1], "ab", {}],
    ),
    (
        {
            "items": {
                "type": "object",
                "properties": {"a": {"type": "integer"}},
                "additionalProperties": False,
            }
        },
        [[{"a": 1}], [{"a": 1, "b": 2}], [{}], [1], [{"a": True}], [{"a": Count(1)}]],
    ),
    (
        {"properties": {"s": {"type": "string"}}, "additionalProperties": {"type": "integer"}},
        [{"s": "x", "n": 1}, {"s": "x", "n": "1"}, {"s": 1}, {"n": True}, {}],
    ),
    ({"additionalProperties": False, "required": ["a"]}, [{}, {"a": 1}, []]),
    (
        {"additionalProperties": False, "properties": {"a": {}}, "required": ["a", "b"]},
        [{"a": 1}, {"a": 1, "b": 2}, {"b": 2}],
    ),
    (
        {"type": "object", "additionalProperties": False, "properties": {"a": {}, "b": {"type": "string"}}},
        [
            {},
            {"a": 1},
            {"a": 1, "b": "2"},
            {"c": 1},
            {"a": 1, "c": 1},
            {"b": 2},
            {"a": None, "b": "x", "c": 0},
        ],
    ),
    ({"multipleOf": Decimal("0.1")}, ["x", Decimal("0.3"), Decimal("0.35"), True, float("nan"), 0.3, 2**70]),
    ({"type": "integer", "multipleOf": 2}, [Decimal("4.0"), Decimal("3.0"), 4, True, Count(4), 4.0]),
    ({"enum": ["a", "b"]}, ["a", Text("a"), "c", 1, None, ["a"], {"a": 1}]),
    ({"type": "string", "enum": ["a", "b"]}, ["a", Text("b"), "c", 1, ["a"]]),
    ({"type": "boolean"}, [True, False, 1, 0, None]),
    ({"type": "null"}, [None, 0, "", False]),
    ({"type": "number"}, [1, True, Decimal("1.5"), Decimal("NaN"), 1.5, float("inf"), "1", Count(1)]),
    ({"format": "date-time"}, [5, "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2024-05-31T23:59:59"]),
    ({"type": "string", "format": "uri"}, ["ftp://h", "h", ""]),
    (
        {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
        [[[1], []], [[1, "2"]], [1]],
    ),
]


@pytest.mark.parametrize("draft", [DRAFT4, DRAFT6])
@pytest.mark.parametrize(("schema", "values"), EDGE_FORMS)
def test_edge_forms_agree(draft: str, schema: dict[str, Any], values: list[Any]) -> None:
    base = jsonschema.validators.validator_for({"$schema": draft})
    base.check_schema(schema)
    reference = validation._extended(base)(schema, format_checker=validation._FORMAT_CHECKER)
    fast = validation._fast_check(schema, validation._type_table(base), True)
    for value in values:
        assert fast(value) is reference.is_valid(value), value


def test_draft06_boolean_sub_schemas_agree() -> None:
    schema = {"properties": {"a": True, "b": False}, "items": False, "additionalProperties": False}
    reference = validation._extended(jsonschema.Draft6Validator)(schema)
    fast = validation._fast_check(schema, validation._LATER_TYPES, True)
    for value in [{}, {"a": 1}, {"b": 1}, {"c": 1}, [], [1], "x"]:
        assert fast(value) is reference.is_valid(value), value
    assert validation._fast_check(False, validation._LATER_TYPES, True)({}) is False
    assert validation._fast_check(True, validation._LATER_TYPES, True)([]) is True


# ------------------------------------------------------------------------------ what the generator refuses


@pytest.mark.parametrize(
    "schema",
    [
        {"minimum": 1},
        {"pattern": "^a"},
        {"anyOf": [{"type": "string"}]},
        {"patternProperties": {"^x": {}}},
        {"dependencies": {"a": ["b"]}},
        {"const": 1},
        {"$ref": "#/definitions/x"},
        {"type": "integer", "enum": [1, 2]},
        {"type": "thing"},
        {"type": []},
        {"items": [{"type": "string"}]},
        {"maxLength": Decimal("2")},
        {"maxLength": True},
        {"minItems": -1},
        {"properties": {"a": {"minimum": 1}}},
        {"items": {"properties": {"a": {"not": {}}}}},
        {"additionalProperties": {"pattern": "x"}},
        {"required": [1]},
        {"multipleOf": "1"},
        "not a schema",
    ],
)
def test_unknown_constructs_are_refused_not_guessed(schema: Any) -> None:
    with pytest.raises(validation._NotCompilable):
        validation._fast_check(schema, validation._DRAFT04_TYPES, True)


def write(folder: Path, name: str, schema: dict[str, Any]) -> None:
    (folder / f"{name}.json").write_text(jsontext.dumps({"$schema": DRAFT4, **schema}))


@pytest.mark.parametrize("schema", [{}, {"properties": {"n": {"type": "integer"}}}, {"minProperties": 0}])
def test_root_without_type_still_refuses_non_objects(tmp_path: Path, schema: dict[str, Any]) -> None:
    write(tmp_path, "Thing", schema)
    write(tmp_path, "ThingResponse", schema)
    registry = SchemaRegistry.load(tmp_path)
    registry.validate_request("Thing", {})
    payload: Any
    for payload in ([], "x", 1, None):
        with pytest.raises(RemoteOcppError) as caught:
            registry.validate_request("Thing", payload)
        assert caught.value.code is ErrorCode.FORMATION_VIOLATION
        with pytest.raises(RemoteOcppError):
            registry.validate_response("Thing", payload)


def test_a_schema_beyond_the_generator_uses_jsonschema(tmp_path: Path) -> None:
    write(tmp_path, "Thing", {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}})
    compiled = validation._compile(tmp_path / "Thing.json", check_formats=True)
    assert compiled.source is None
    assert compiled.is_valid({"n": 1})
    assert not compiled.is_valid({"n": 0})
    assert not compiled.is_valid([])


def test_every_real_schema_is_generated() -> None:
    assert sorted(name for name, compiled in COMPILED.items() if compiled.source is None) == []


def test_the_generated_source_is_straight_line() -> None:
    source = COMPILED["MeterValues"].source
    assert source is not None
    compile(source, "<check>", "exec")  # what the registry runs is plain Python
    assert source.count("def ") == 1  # the array items are checked inside the loops
    assert "found" in source and ".keys()" not in source
    assert "_surely_date_time(" in source and "_is_date_time(" in source


@pytest.mark.parametrize("table", [validation._DRAFT04_TYPES, validation._LATER_TYPES])
def test_exact_types_are_accepted_by_the_predicates(table: Any) -> None:
    """The premise of ``type(v) is T or predicate(v)``: an exact T always passes the predicate."""
    samples = {"dict": {}, "list": [], "str": "", "int": 0}
    for name, python_type in validation._EXACT_TYPES.items():
        instance = samples[python_type]
        assert type(instance).__name__ == python_type
        assert table[name](instance)
        assert table[name](-(2**80) if python_type == "int" else instance)


# ---------------------------------------------------------------------------------------------- date-time


def test_the_sure_date_time_regex_never_accepts_what_is_date_time_refuses() -> None:
    """Every calendar day of a leap and a common year, plus impossible ones, for each month."""
    for year, month, day in itertools.product((1, 1900, 2000, 2023, 2024), range(14), range(33)):
        for clock, offset in [("00:00:00", "Z"), ("23:59:59", "+23:59"), ("12:00:00", "")]:
            text = f"{year:04d}-{month:02d}-{day:02d}T{clock}{offset}"
            sure = validation._DATE_TIME_SURE.fullmatch(text) is not None
            assert not sure or is_date_time(text), text
            real = 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]
            assert is_date_time(text) is real, text
            if real and not (month == 2 and day == 29):
                assert sure, text  # the regex covers everything but 29 February


@given(text=st.from_regex(validation._DATE_TIME, fullmatch=True) | date_times() | st.text(max_size=30))
def test_date_time_check_is_is_date_time(text: str) -> None:
    sure = validation._DATE_TIME_SURE.fullmatch(text) is not None
    assert not sure or is_date_time(text)
    check = validation._fast_check({"type": "string", "format": "date-time"}, validation._LATER_TYPES, True)
    assert check(text) is is_date_time(text)
