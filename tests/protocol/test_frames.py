"""Frame classification: every text gets exactly one defined outcome (design.md decision 4, rules §10.3)."""

from __future__ import annotations

import pytest

from engine.protocol import frames
from engine.protocol.errors import ErrorCode


def test_well_formed_call_result_and_error() -> None:
    assert frames.parse_frame('[2,"1","Heartbeat",{}]') == frames.Call("1", "Heartbeat", {})
    assert frames.parse_frame('[3,"1",{"a":1}]') == frames.CallResult("1", {"a": 1})
    assert frames.parse_frame('[4,"1","GenericError","x",{"k":1}]') == frames.CallError(
        "1", "GenericError", "x", {"k": 1}
    )


def test_null_payload_is_an_empty_object() -> None:
    assert frames.parse_frame('[2,"1","Heartbeat",null]') == frames.Call("1", "Heartbeat", {})


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [
        ("hello", "invalid JSON"),
        ("{}", "not a JSON array"),
        ('"x"', "not a JSON array"),
        ("5", "not a JSON array"),
        ("[]", "empty array"),
        ('[2,"1","Heartbeat",{"a":NaN}]', "NaN"),
        ('[2,"1","Heartbeat",{"a":Infinity}]', "Infinity"),
        ('[2,"1","Authorize",{"idTag":"A","idTag":"B"}]', "duplicate key"),
        ("[" * 100_000, "nesting too deep"),
        ('[2,"1","Heartbeat",{"a":' + "9" * 5000 + "}]", "5000 digits"),
        ('[2,null,"Heartbeat",{}]', "NoneType"),
        ('[2,{"a":1},"Heartbeat",{}]', "dict"),
        ("[2]", "without a message id"),
        ('[2,"' + "x" * 256 + '","Heartbeat",{}]', "256 characters"),
    ],
)
def test_unanswerable_frames_are_garbage(text: str, reason_part: str) -> None:
    outcome = frames.parse_frame(text)
    assert isinstance(outcome, frames.Garbage)
    assert reason_part in outcome.reason


@pytest.mark.parametrize(
    ("text", "unique_id", "description_part"),
    [
        ('[2,"1","Heartbeat"]', "1", "4 elements"),
        ('[2,"1","Heartbeat",{},{}]', "1", "4 elements"),
        ('[2,123,"Heartbeat",{}]', "123", "must be a string"),
        ('[2,"","Heartbeat",{}]', "", "empty"),
        ('[2,"' + "x" * 37 + '","Heartbeat",{}]', "x" * 37, "longer than 36"),
        ('[2,"1",7,{}]', "1", "action must be a string"),
        ('[2,"1","Heartbeat",[]]', "1", "JSON object"),
        ('[2,"1","Heartbeat","x"]', "1", "JSON object"),
        ('[2,"1","Heartbeat",5]', "1", "JSON object"),
    ],
)
def test_misshapen_calls_with_readable_ids_get_formation_violation(
    text: str, unique_id: str, description_part: str
) -> None:
    outcome = frames.parse_frame(text)
    assert isinstance(outcome, frames.BadCall)
    assert outcome.unique_id == unique_id
    assert outcome.error.code is ErrorCode.FORMATION_VIOLATION
    assert description_part in outcome.error.description


def test_an_id_of_exactly_36_characters_is_fine() -> None:
    assert isinstance(frames.parse_frame('[2,"' + "x" * 36 + '","Heartbeat",{}]'), frames.Call)


def test_lone_surrogate_is_a_property_constraint_violation() -> None:
    outcome = frames.parse_frame('[2,"1","Authorize",{"idTag":"\\ud800"}]')
    assert isinstance(outcome, frames.BadCall)
    assert outcome.error.code is ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    # a proper surrogate pair is just a character outside the BMP
    assert frames.parse_frame('[2,"1","Authorize",{"idTag":"\\ud83d\\ude00"}]') == frames.Call(
        "1", "Authorize", {"idTag": "\U0001f600"}
    )


def test_lone_surrogate_in_the_id_leaves_nothing_to_answer() -> None:
    assert isinstance(frames.parse_frame('[2,"\\udc00","Heartbeat",{}]'), frames.Garbage)


@pytest.mark.parametrize(
    "text", ['[5,"1",{}]', '[7,"1"]', '["2","1","Heartbeat",{}]', '[2.0,"1","Heartbeat",{}]']
)
def test_unknown_message_types_are_ignored_and_counted(text: str) -> None:
    outcome = frames.parse_frame(text)
    assert isinstance(outcome, frames.IgnoredFrame)
    assert outcome.counts_as_bad


@pytest.mark.parametrize("text", ['[3,"1"]', "[3,1,{}]", '[4,"1","X"]', '[4,"1",5,"",{}]'])
def test_malformed_responses_are_ignored_never_answered(text: str) -> None:
    assert isinstance(frames.parse_frame(text), frames.IgnoredFrame)


def test_callerror_without_details_is_tolerated() -> None:
    assert frames.parse_frame('[4,"1","NotSupported","no"]') == frames.CallError(
        "1", "NotSupported", "no", {}
    )


def test_encoders_write_compact_frames() -> None:
    assert frames.encode_call("a", "Reset", {"type": "Soft"}) == '[2,"a","Reset",{"type":"Soft"}]'
    assert frames.encode_result("a", {}) == '[3,"a",{}]'
    assert frames.encode_error("a", ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION, "d", {}) == (
        '[4,"a","OccurenceConstraintViolation","d",{}]'
    )


def test_a_merely_large_integer_is_left_to_the_schema_layer() -> None:
    # 21 digits is out of int32 range but no bomb: the CALL keeps its id and gets a proper answer
    assert frames.parse_frame('[2,"1","MeterValues",{"connectorId":' + "9" * 21 + "}]") == frames.Call(
        "1", "MeterValues", {"connectorId": int("9" * 21)}
    )
    assert isinstance(
        frames.parse_frame('[2,"1","MeterValues",{"connectorId":' + "9" * 65 + "}]"), frames.Garbage
    )
