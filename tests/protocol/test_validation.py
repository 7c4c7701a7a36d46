"""The schema layer: keyword → error code table, numbers, formats, load errors, and the fast path's
agreement with jsonschema (design.md decisions 2 and 3, rules §1.5 and §8.4)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.protocol import jsontext, validation
from engine.protocol.errors import ErrorCode, RemoteOcppError
from engine.protocol.validation import (
    KEYWORD_ERROR_CODES,
    SchemaLoadError,
    SchemaRegistry,
    default_registry,
)

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
DRAFT4 = "http://json-schema.org/draft-04/schema#"
DRAFT6 = "http://json-schema.org/draft-06/schema#"

TS = "2024-05-01T12:00:00Z"


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return default_registry()


def refused(validate: Callable[[str, dict[str, Any]], None], action: str, payload: Any) -> RemoteOcppError:
    with pytest.raises(RemoteOcppError) as caught:
        validate(action, payload)
    return caught.value


def request_error(registry: SchemaRegistry, action: str, payload: Any) -> RemoteOcppError:
    return refused(registry.validate_request, action, payload)


def sampled(**overrides: Any) -> dict[str, Any]:
    value = {
        "value": "1234.5",
        "context": "Sample.Periodic",
        "format": "Raw",
        "measurand": "Energy.Active.Import.Register",
        "phase": "L1-N",
        "location": "Outlet",
        "unit": "Wh",
    }
    value.update(overrides)
    return value


def meter_values(*samples: dict[str, Any]) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "transactionId": 7,
        "meterValue": [{"timestamp": TS, "sampledValue": list(samples) or [sampled()]}],
    }


def start_transaction(**overrides: Any) -> dict[str, Any]:
    payload = {"connectorId": 1, "idTag": "ABC123", "meterStart": 0, "timestamp": TS}
    payload.update(overrides)
    return payload


def charging_profile(limit: Any) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            },
        },
    }


def get_log(request_id: Any) -> dict[str, Any]:
    return {
        "log": {"remoteLocation": "ftp://logs.example.com/"},
        "logType": "SecurityLog",
        "requestId": request_id,
    }


def write_schema(folder: Path, name: str, schema: dict[str, Any], draft: str = DRAFT4) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps({"$schema": draft, **schema}))


def tiny_registry(tmp_path: Path, request: dict[str, Any], draft: str = DRAFT4, **kw: bool) -> SchemaRegistry:
    write_schema(tmp_path, "Thing", {"type": "object", **request}, draft)
    write_schema(tmp_path, "ThingResponse", {"type": "object"}, draft)
    return SchemaRegistry.load(tmp_path, **kw)


# ---------------------------------------------------------------------------------------- the real set


def test_the_real_set_has_every_action(registry: SchemaRegistry) -> None:
    from engine.protocol.actions import ACTIONS

    assert registry.actions == frozenset(ACTIONS)
    assert all(registry.has_action(action) for action in ACTIONS)
    assert not registry.has_action("bootnotification")


def test_valid_payloads_pass(registry: SchemaRegistry) -> None:
    registry.validate_request("Heartbeat", {})
    registry.validate_response("Heartbeat", {"currentTime": TS})
    registry.validate_request("MeterValues", meter_values(*[sampled() for _ in range(10)]))
    registry.validate_request("StartTransaction", start_transaction())
    registry.validate_request("GetLog", get_log(1))


# --------------------------------------------------------------------- keyword → code, one row per test


def test_keyword_table_rows() -> None:
    assert KEYWORD_ERROR_CODES["type"] is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert KEYWORD_ERROR_CODES["maxLength"] is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert KEYWORD_ERROR_CODES["required"] is ErrorCode.PROTOCOL_ERROR
    assert KEYWORD_ERROR_CODES["minItems"] is ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION
    assert KEYWORD_ERROR_CODES["maxItems"] is ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION
    for keyword in ("enum", "format", "minimum", "maximum", "multipleOf", "pattern", "minLength"):
        assert KEYWORD_ERROR_CODES[keyword] is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert KEYWORD_ERROR_CODES["additionalProperties"] is ErrorCode.FORMATION_VIOLATION


def test_required_missing_is_protocol_error(registry: SchemaRegistry) -> None:
    payload = start_transaction()
    del payload["meterStart"]
    error = request_error(registry, "StartTransaction", payload)
    assert error.code is ErrorCode.PROTOCOL_ERROR
    assert error.details == {"path": "$.meterStart", "keyword": "required"}
    assert "incomplete" in error.description


def test_wrong_type_is_type_constraint_violation(registry: SchemaRegistry) -> None:
    error = request_error(registry, "StartTransaction", start_transaction(connectorId="1"))
    assert error.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert error.details == {"path": "$.connectorId", "keyword": "type"}


@pytest.mark.parametrize("value", [True, None, 1.5, Decimal("1.5"), [1], {"a": 1}])
def test_integer_field_refuses_non_integers(registry: SchemaRegistry, value: Any) -> None:
    error = request_error(registry, "StartTransaction", start_transaction(meterStart=value))
    assert error.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION


def test_string_over_max_length_is_type_constraint_violation(registry: SchemaRegistry) -> None:
    registry.validate_request("Authorize", {"idTag": "X" * 20})
    error = request_error(registry, "Authorize", {"idTag": "X" * 21})
    assert error.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert error.details == {"path": "$.idTag", "keyword": "maxLength"}


def test_enum_value_is_property_constraint_violation(registry: SchemaRegistry) -> None:
    payload = {"connectorId": 1, "errorCode": "NoError", "status": "Occupied"}
    error = request_error(registry, "StatusNotification", payload)
    assert error.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert error.details == {"path": "$.status", "keyword": "enum"}


def test_extra_property_top_level_is_formation_violation(registry: SchemaRegistry) -> None:
    error = request_error(registry, "Heartbeat", {"foo": 1})
    assert error.code is ErrorCode.FORMATION_VIOLATION
    assert error.details == {"path": "$.foo", "keyword": "additionalProperties"}


def test_extra_property_nested_is_formation_violation(registry: SchemaRegistry) -> None:
    error = request_error(registry, "MeterValues", meter_values(sampled(), sampled(colour="red")))
    assert error.code is ErrorCode.FORMATION_VIOLATION
    assert error.details == {
        "path": "$.meterValue[0].sampledValue[1].colour",
        "keyword": "additionalProperties",
    }


def test_empty_array_is_occurence_constraint_violation(registry: SchemaRegistry) -> None:
    error = request_error(registry, "MeterValues", {"connectorId": 1, "meterValue": []})
    assert error.code is ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION
    assert error.details == {"path": "$.meterValue", "keyword": "minItems"}
    assert error.code.value == "OccurenceConstraintViolation"  # the 1.6 spelling


def test_nested_failure_names_its_path(registry: SchemaRegistry) -> None:
    error = request_error(registry, "MeterValues", meter_values(sampled(), sampled(unit="Joule")))
    assert error.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert error.details == {"path": "$.meterValue[0].sampledValue[1].unit", "keyword": "enum"}


def test_payload_not_an_object_is_formation_violation(registry: SchemaRegistry) -> None:
    payload: Any
    for payload in ([], "x", 1, None):
        assert request_error(registry, "Heartbeat", payload).code is ErrorCode.FORMATION_VIOLATION


def test_unknown_action_is_not_implemented(registry: SchemaRegistry) -> None:
    assert request_error(registry, "Teleport", {}).code is ErrorCode.NOT_IMPLEMENTED
    assert request_error(registry, "heartbeat", {}).code is ErrorCode.NOT_IMPLEMENTED
    error = refused(registry.validate_response, "Teleport", {})
    assert error.code is ErrorCode.NOT_IMPLEMENTED


def test_response_validation(registry: SchemaRegistry) -> None:
    registry.validate_response("Authorize", {"idTagInfo": {"status": "Accepted"}})
    error = refused(registry.validate_response, "Authorize", {"idTagInfo": {"status": "Maybe"}})
    assert error.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert error.details["path"] == "$.idTagInfo.status"


# ------------------------------------------------------------------------------------------- date-time

GOOD_TIMESTAMPS = [
    "2024-05-01T12:00:00Z",
    "2024-05-01T12:00:00.1Z",
    "2024-05-01T12:00:00.123456789Z",
    "2024-05-01T12:00:00+02:00",
    "2024-05-01T12:00:00.5-05:30",
    "2024-05-01T12:00:00",  # no offset: accepted, read as UTC (leniency)
    "2024-05-01T12:00:00.250",
    "2024-02-29T23:59:59Z",
    "2024-05-01t12:00:00z",
]
BAD_TIMESTAMPS = [
    "yesterday",
    "",
    "2024-13-45T99:00",
    "2024-05-01",
    "2024-05-01T12:00Z",
    "2023-02-29T00:00:00Z",
    "2024-02-30T00:00:00Z",
    "2024-04-31T00:00:00Z",
    "2024-00-10T00:00:00Z",
    "2024-05-01T24:00:00Z",
    "2024-05-01T12:60:00Z",
    "2024-05-01T12:00:60Z",
    "2024-05-01T12:00:00+24:00",
    "2024-05-01T12:00:00+02:60",
    "2024-05-01T12:00:00+0200",
    "2024-05-01T12:00:00.Z",
    "2024-05-01T12:00:00Z\n",
    " 2024-05-01T12:00:00Z",
    "0000-01-01T00:00:00Z",
    "２０２４-05-01T12:00:00Z",
]


@pytest.mark.parametrize("timestamp", GOOD_TIMESTAMPS)
def test_good_timestamps_pass(registry: SchemaRegistry, timestamp: str) -> None:
    registry.validate_request("StartTransaction", start_transaction(timestamp=timestamp))


@pytest.mark.parametrize("timestamp", BAD_TIMESTAMPS)
def test_bad_timestamps_are_property_constraint_violations(registry: SchemaRegistry, timestamp: str) -> None:
    error = request_error(registry, "StartTransaction", start_transaction(timestamp=timestamp))
    assert error.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert error.details == {"path": "$.timestamp", "keyword": "format"}


def test_formats_unchecked_when_asked(tmp_path: Path) -> None:
    schema = {"properties": {"at": {"type": "string", "format": "date-time"}}}
    tiny_registry(tmp_path, schema, check_formats=False).validate_request("Thing", {"at": "yesterday"})


def test_uri_is_checked_loosely(registry: SchemaRegistry) -> None:
    for location in ("ftp://user:pw@host/dir/", "https://x.example/upload", "sftp:host"):
        registry.validate_request("GetDiagnostics", {"location": location})
    for location in ("", "/var/log", "host/dir", "://x", "1ftp://x"):
        error = request_error(registry, "GetDiagnostics", {"location": location})
        assert error.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
        assert error.details == {"path": "$.location", "keyword": "format"}


# ----------------------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("limit", ["8.1", "21.4", "32", "0.1", "6.0", "1e1", "12.30"])
def test_multiple_of_is_exact_decimal(registry: SchemaRegistry, limit: str) -> None:
    payload = jsontext.loads(jsontext.dumps(charging_profile(0)).replace('"limit":0', f'"limit":{limit}'))
    assert payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] != 0
    registry.validate_request("SetChargingProfile", payload)


@pytest.mark.parametrize("limit", [Decimal("8.15"), Decimal("0.01"), Decimal("1e-30"), 8.15])
def test_multiple_of_refuses_finer_values(registry: SchemaRegistry, limit: Any) -> None:
    error = request_error(registry, "SetChargingProfile", charging_profile(limit))
    assert error.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    path = "$.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit"
    assert error.details == {"path": path, "keyword": "multipleOf"}


def test_plain_floats_are_read_as_their_decimal(registry: SchemaRegistry) -> None:
    registry.validate_request("SetChargingProfile", charging_profile(8.1))
    registry.validate_request("SetChargingProfile", charging_profile(21.4))
    for bad in (float("nan"), float("inf"), True):
        error = request_error(registry, "SetChargingProfile", charging_profile(bad))
        assert error.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION


def test_huge_values_do_not_break_multiple_of(registry: SchemaRegistry) -> None:
    registry.validate_request("SetChargingProfile", charging_profile(Decimal("1e300")))
    registry.validate_request("SetChargingProfile", charging_profile(10**200))
    error = request_error(registry, "SetChargingProfile", charging_profile(Decimal("1" + "0" * 300 + ".05")))
    assert error.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION


def test_draft04_integer_refuses_decimal_one(registry: SchemaRegistry) -> None:
    error = request_error(registry, "StartTransaction", start_transaction(connectorId=Decimal("1.0")))
    assert error.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION
    assert error.details == {"path": "$.connectorId", "keyword": "type"}


def test_draft06_integer_accepts_integral_decimal(registry: SchemaRegistry) -> None:
    registry.validate_request("GetLog", get_log(Decimal("1.0")))
    registry.validate_request("GetLog", get_log(2.0))
    for bad in (Decimal("1.5"), True, "1"):
        assert request_error(registry, "GetLog", get_log(bad)).code is ErrorCode.TYPE_CONSTRAINT_VIOLATION


@pytest.mark.parametrize(("draft", "accepts_decimal_one"), [(DRAFT4, False), (DRAFT6, True)])
def test_integer_follows_the_draft(tmp_path: Path, draft: str, accepts_decimal_one: bool) -> None:
    registry = tiny_registry(tmp_path, {"properties": {"n": {"type": "integer"}}}, draft)
    registry.validate_request("Thing", {"n": 1})
    if accepts_decimal_one:
        registry.validate_request("Thing", {"n": Decimal("1.0")})
    else:
        assert (
            request_error(registry, "Thing", {"n": Decimal("1.0")}).code
            is ErrorCode.TYPE_CONSTRAINT_VIOLATION
        )
    assert request_error(registry, "Thing", {"n": False}).code is ErrorCode.TYPE_CONSTRAINT_VIOLATION


def test_number_accepts_int_decimal_float_never_bool(tmp_path: Path) -> None:
    registry = tiny_registry(tmp_path, {"properties": {"x": {"type": "number"}}})
    for good in (1, -3, Decimal("2.5"), 0.25):
        registry.validate_request("Thing", {"x": good})
    for bad in (True, "1", None, Decimal("NaN"), Decimal("Infinity")):
        assert request_error(registry, "Thing", {"x": bad}).code is ErrorCode.TYPE_CONSTRAINT_VIOLATION


# ------------------------------------------------------------------------------- choice among errors


def test_the_most_structural_error_is_reported(registry: SchemaRegistry) -> None:
    payload: dict[str, Any] = {"connectorId": "1", "meterValue": [], "extra": 1}
    error = request_error(registry, "MeterValues", payload)
    assert error.details == {"path": "$.extra", "keyword": "additionalProperties"}
    del payload["extra"]
    payload["meterValue"] = [{"timestamp": "yesterday", "sampledValue": [sampled(unit="J")]}]
    payload.pop("connectorId")
    assert request_error(registry, "MeterValues", payload).details == {
        "path": "$.connectorId",
        "keyword": "required",
    }
    payload["connectorId"] = "1"
    assert request_error(registry, "MeterValues", payload).details == {
        "path": "$.connectorId",
        "keyword": "type",
    }
    payload["connectorId"] = 1
    payload["meterValue"][0]["sampledValue"][0]["value"] = 5
    error = request_error(registry, "MeterValues", payload)
    assert error.details == {"path": "$.meterValue[0].sampledValue[0].value", "keyword": "type"}


def test_priority_order_between_keywords(tmp_path: Path) -> None:
    schema = {
        "properties": {
            "a": {"type": "string", "maxLength": 2},
            "b": {"type": "array", "minItems": 1},
            "c": {"type": "string", "enum": ["x"]},
            "d": {"type": "integer"},
            "z": {},
        },
        "required": ["z"],
        "additionalProperties": False,
    }
    registry = tiny_registry(tmp_path, schema)
    payload: dict[str, Any] = {"a": "long", "b": [], "c": "y", "d": "1", "e": 0}
    repairs: list[tuple[str, str, Any]] = [
        ("additionalProperties", "e", None),
        ("required", "z", 1),
        ("type", "d", 1),
        ("maxLength", "a", "ok"),
        ("minItems", "b", [1]),
        ("enum", "c", "x"),
    ]
    for keyword, name, repaired in repairs:
        error = request_error(registry, "Thing", payload)
        assert error.details["keyword"] == keyword
        if repaired is None:
            del payload[name]
        else:
            payload[name] = repaired
    registry.validate_request("Thing", payload)


def test_ties_are_broken_by_path_order(registry: SchemaRegistry) -> None:
    payload = meter_values(*[sampled(unit="J") for _ in range(12)])
    payload["meterValue"][0]["sampledValue"][2]["phase"] = "L9"
    error = request_error(registry, "MeterValues", payload)
    assert error.details == {"path": "$.meterValue[0].sampledValue[0].unit", "keyword": "enum"}
    for index in range(11):  # index 10 sorts after 9 (numeric), not after 1
        payload["meterValue"][0]["sampledValue"][index]["unit"] = "Wh"
    payload["meterValue"][0]["sampledValue"][2]["phase"] = "L1"
    error = request_error(registry, "MeterValues", payload)
    assert error.details["path"] == "$.meterValue[0].sampledValue[11].unit"
    two_missing = {"meterValue": [{"sampledValue": [{"value": "1"}]}]}
    error = request_error(registry, "MeterValues", two_missing)
    assert error.details == {"path": "$.connectorId", "keyword": "required"}


def test_descriptions_never_echo_more_than_40_characters(registry: SchemaRegistry) -> None:
    secret = "S" * 39 + "<tail-that-must-not-appear>"
    cases = [
        ("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": secret}),
        ("StartTransaction", start_transaction(timestamp=secret)),
        ("StartTransaction", start_transaction(idTag=secret)),
        ("Heartbeat", {secret: 1}),
        ("StartTransaction", start_transaction(connectorId=secret)),
        ("StartTransaction", start_transaction(connectorId=[secret] * 1000)),
    ]
    for action, payload in cases:
        error = request_error(registry, action, payload)
        assert "tail" not in error.description, error.description
        assert "tail" not in json.dumps(error.details)
        assert len(error.description) < 200


def test_deeply_nested_bad_value_is_still_a_remote_error(registry: SchemaRegistry) -> None:
    text = '{"idTag":' + "[" * 900 + "]" * 900 + "}"
    error = request_error(registry, "Authorize", jsontext.loads(text))
    assert error.code is ErrorCode.TYPE_CONSTRAINT_VIOLATION


def test_path_quotes_odd_property_names(registry: SchemaRegistry) -> None:
    error = request_error(registry, "Heartbeat", {"a b'c": 1})
    assert error.details["path"] == "$['a b\\'c']"


# ------------------------------------------------------------------------------------------- loading


def test_load_compiles_each_file_once_and_validation_reuses_it(tmp_path: Path) -> None:
    registry = tiny_registry(tmp_path, {"properties": {"n": {"type": "integer"}}})
    assert registry.actions == frozenset({"Thing"})
    (tmp_path / "Thing.json").write_text("not json")  # later edits are not seen: compiled at load
    registry.validate_request("Thing", {"n": 1})


def test_default_folder_can_be_overridden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_schema(tmp_path, "Ping", {"type": "object"})
    write_schema(tmp_path, "PingResponse", {"type": "object"})
    monkeypatch.setenv(validation.SCHEMAS_ENV, str(tmp_path))
    assert SchemaRegistry.load().actions == frozenset({"Ping"})


def test_default_registry_is_loaded_once() -> None:
    assert default_registry() is default_registry()


@pytest.mark.parametrize(
    ("text", "message_part"),
    [
        ("{not json", "cannot read"),
        ('{"$schema": "@4", "type": "object", "a": NaN}', "cannot read"),
        ("[]", "JSON object"),
        ('{"type": "object"}', "no $schema"),
        ('{"$schema": "https://json-schema.org/draft/2020-12/schema"}', "unsupported $schema"),
        ('{"$schema": "http://example.com/my-draft"}', "unsupported $schema"),
        ('{"$schema": "@4", "type": "thing"}', "invalid schema"),
        ('{"$schema": "@4", "required": "x"}', "invalid schema"),
        ('{"$schema": "@4", "multipleOf": 0}', "invalid schema"),
        ('{"$schema": "@6", "properties": {"a": {"$ref": "other.json#/x"}}}', "not local"),
        ('{"$schema": "@6", "properties": {"a": {"$ref": "#/definitions/nope"}}}', "points nowhere"),
        (
            '{"$schema": "@6", "definitions": {"a": {"$ref": "#/definitions/a"}}, "$ref": "#/definitions/a"}',
            "cyclic",
        ),
    ],
)
def test_bad_schema_files_fail_at_load_naming_the_file(tmp_path: Path, text: str, message_part: str) -> None:
    (tmp_path / "Broken.json").write_text(text.replace("@4", DRAFT4).replace("@6", DRAFT6))
    write_schema(tmp_path, "BrokenResponse", {"type": "object"})
    with pytest.raises(SchemaLoadError) as caught:
        SchemaRegistry.load(tmp_path)
    assert "Broken.json" in str(caught.value)
    assert message_part in str(caught.value)


def test_unpaired_schema_fails_at_load(tmp_path: Path) -> None:
    write_schema(tmp_path, "Lonely", {"type": "object"})
    with pytest.raises(SchemaLoadError, match=r"LonelyResponse\.json"):
        SchemaRegistry.load(tmp_path)


def test_empty_or_missing_folder_fails_at_load(tmp_path: Path) -> None:
    with pytest.raises(SchemaLoadError, match=r"no \*\.json"):
        SchemaRegistry.load(tmp_path)
    with pytest.raises(SchemaLoadError, match="no such schema folder"):
        SchemaRegistry.load(tmp_path / "absent")


def test_local_refs_are_inlined(tmp_path: Path) -> None:
    schema = {
        "definitions": {
            "Kind": {"type": "string", "enum": ["A", "B"]},
            "Pair": {"$ref": "#/definitions/Kind"},
        },
        "properties": {
            "kind": {"$ref": "#/definitions/Pair"},
            "list": {"type": "array", "items": {"$ref": "#/definitions/Kind"}},
        },
        "additionalProperties": False,
    }
    registry = tiny_registry(tmp_path, schema, DRAFT6)
    registry.validate_request("Thing", {"kind": "A", "list": ["B"]})
    error = request_error(registry, "Thing", {"kind": "A", "list": ["A", "C"]})
    assert error.details == {"path": "$.list[1]", "keyword": "enum"}


def test_keywords_beyond_the_fast_path_still_validate(tmp_path: Path) -> None:
    schema = {
        "properties": {
            "n": {"type": "integer", "minimum": 1, "maximum": 5},
            "s": {"type": "string", "pattern": "^[A-Z]+$"},
            "o": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
        "patternProperties": {"^x-": {"type": "boolean"}},
        "additionalProperties": False,
    }
    registry = tiny_registry(tmp_path, schema)
    registry.validate_request("Thing", {"n": 3, "s": "ABC", "o": 1, "x-flag": True})
    cases = {
        "minimum": {"n": 0},
        "maximum": {"n": 6},
        "pattern": {"s": "abc"},
        "anyOf": {"o": None},
        "additionalProperties": {"y": 1},
    }
    for keyword, payload in cases.items():
        error = request_error(registry, "Thing", payload)
        assert error.details["keyword"] == keyword
        expected = KEYWORD_ERROR_CODES.get(keyword, ErrorCode.FORMATION_VIOLATION)
        assert error.code is expected
    assert request_error(registry, "Thing", {"x-flag": 1}).code is ErrorCode.TYPE_CONSTRAINT_VIOLATION


# ---------------------------------------------------------------------------------------- properties

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**30), max_value=10**30)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)
FUZZ_ACTIONS = [
    "StartTransaction",
    "MeterValues",
    "StatusNotification",
    "SetChargingProfile",
    "GetLog",
    "Heartbeat",
]


@given(
    action=st.sampled_from(FUZZ_ACTIONS),
    payload=st.dictionaries(st.text(max_size=15), json_values, max_size=6),
)
def test_arbitrary_payloads_get_a_defined_answer(action: str, payload: dict[str, Any]) -> None:
    registry = default_registry()
    try:
        registry.validate_request(action, payload)
    except RemoteOcppError as error:
        assert isinstance(error.code, ErrorCode)
        assert {"path", "keyword"} >= error.details.keys() >= {"path"}


def mostly(usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``usual`` most of the time, ``odd`` otherwise (``one_of`` alone would favour neither)."""
    return st.sampled_from((usual, usual, usual, usual, usual, usual, odd)).flatmap(lambda chosen: chosen)


def near(schema: Any) -> st.SearchStrategy[Any]:
    """Values that mostly follow ``schema`` (an inlined schema), now and then anything at all."""
    return mostly(following(schema), json_values)


TIMESTAMPS = mostly(st.sampled_from(GOOD_TIMESTAMPS), st.sampled_from(BAD_TIMESTAMPS))


def with_extra_key(value: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return mostly(st.just(value), json_scalars.map(lambda extra: {**value, "unexpected": extra}))


def with_a_key_missing(value: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``value``, or now and then ``value`` without one of its keys (a required one, often)."""
    if not value:
        return st.just(value)
    dropped = st.sampled_from(sorted(value)).map(lambda key: {k: v for k, v in value.items() if k != key})
    return mostly(st.just(value), dropped)


class Text(str):
    """A ``str`` that is not exactly ``str``: the fast check must ask the real predicate."""


class Count(int):
    """An ``int`` that is not exactly ``int`` (as an ``IntEnum`` member)."""


ODD_NUMBERS = st.sampled_from(
    [True, False, Decimal("5.0"), Decimal("1E+1"), Decimal("NaN"), Count(3), 2.0, float("inf"), "1"]
)


def following(schema: Any) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        odd = st.text(max_size=3) | st.sampled_from(schema["enum"]).map(lambda v: Text(v.lower()))
        return mostly(st.sampled_from(schema["enum"]) | st.sampled_from(schema["enum"]).map(Text), odd)
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return (
            st.fixed_dictionaries(
                {name: near(sub) for name, sub in properties.items() if name in required},
                optional={name: near(sub) for name, sub in properties.items() if name not in required},
            )
            .flatmap(with_extra_key)
            .flatmap(with_a_key_missing)
        )
    if kind == "array":
        low = schema.get("minItems", 0)
        items = near(schema.get("items", {}))
        return mostly(st.lists(items, min_size=low, max_size=low + 3), st.lists(items, max_size=1))
    if kind == "string":
        if schema.get("format") == "date-time":
            return TIMESTAMPS
        if schema.get("format") == "uri":
            return mostly(st.sampled_from(["ftp://host/x", "https://h/"]), st.sampled_from(["no-scheme", ""]))
        if "maxLength" in schema:
            high = schema["maxLength"]
            return st.integers(max(0, high - 1), high + 1).map(lambda n: "é" * n) | st.text(max_size=5)
        return st.text(max_size=10)
    if kind in ("integer", "number"):
        return mostly(
            st.integers(min_value=-(2**40), max_value=2**40),
            st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-1000, max_value=1000)
            | st.floats(allow_nan=True, allow_infinity=True)
            | ODD_NUMBERS,
        )
    if kind == "boolean":
        return mostly(st.booleans(), st.integers(0, 1))
    return json_values


def validator_of(compiled: Any) -> Any:
    """The jsonschema validator instance behind a compiled schema (jsonschema is untyped)."""
    return compiled.validator


COMPILED = {
    path.stem: validation._compile(path, check_formats=True) for path in sorted(SCHEMA_DIR.glob("*.json"))
}


@given(data=st.data(), name=st.sampled_from(sorted(COMPILED)))
def test_fast_path_agrees_with_jsonschema(data: st.DataObject, name: str) -> None:
    compiled = COMPILED[name]
    schema = validator_of(compiled).schema
    payload = data.draw(following(schema))
    snapshot = copy.deepcopy(payload)
    fast = compiled.is_valid(payload)
    assert fast == compiled.validator.is_valid(payload)
    assert payload == snapshot  # validation never changes the payload
    if not fast:
        error = validation._to_remote_error(compiled.validator.iter_errors(payload), "request", name)
        assert isinstance(error.code, ErrorCode)


def test_every_real_schema_takes_the_fast_path() -> None:
    slow = sorted(name for name, compiled in COMPILED.items() if compiled.source is None)
    assert slow == []


PERIOD_SCHEMA = validator_of(COMPILED["SetChargingProfile"]).schema["properties"]["csChargingProfiles"][
    "properties"
]["chargingSchedule"]["properties"]["chargingSchedulePeriod"]["items"]
FAST_PERIOD = validation._fast_check(PERIOD_SCHEMA, validation._DRAFT04_TYPES, True)


@given(
    limit=st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**6), max_value=10**6)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.floats()
    | st.integers()
)
def test_fast_multiple_of_agrees_with_jsonschema(limit: Any) -> None:
    reference = validator_of(COMPILED["SetChargingProfile"]).evolve(schema=PERIOD_SCHEMA)
    payload = {"startPeriod": 0, "limit": limit}
    assert FAST_PERIOD(payload) == reference.is_valid(payload)
