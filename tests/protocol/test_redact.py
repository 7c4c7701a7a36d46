"""AuthorizationKey values never reach the message log (design.md decision 13)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.protocol.redact import REDACTED, redact_frame


def test_change_configuration_request_is_redacted() -> None:
    text = '[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"0011223344556677"}]'
    assert json.loads(redact_frame(text))[3] == {"key": "AuthorizationKey", "value": REDACTED}
    assert "0011223344556677" not in redact_frame(text)


def test_get_configuration_answer_is_redacted_and_other_keys_kept() -> None:
    answer = {
        "configurationKey": [
            {"key": "AuthorizationKey", "readonly": False, "value": "s3cret-s3cret-s3cret"},
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        ]
    }
    redacted = json.loads(redact_frame(json.dumps([3, "x", answer])))[2]["configurationKey"]
    assert redacted[0]["value"] == REDACTED
    assert redacted[1]["value"] == "300"


def test_frames_without_secrets_are_untouched_byte_for_byte() -> None:
    text = '[2, "1", "Heartbeat", {}]'
    assert redact_frame(text) is text


def test_unparseable_frame_mentioning_a_secret_is_not_kept() -> None:
    text = '[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"abc"'
    assert "abc" not in redact_frame(text)


@pytest.mark.parametrize(
    "payload",
    [
        {"key": ["AuthorizationKey"]},
        {"key": {"AuthorizationKey": 1}, "value": "x"},
        {"key": None, "AuthorizationKey": [1, {"key": ["AuthorizationKey"], "value": 2}]},
    ],
)
def test_any_shape_mentioning_the_key_is_handled(payload: dict[str, object]) -> None:
    # peer input: "key" can be any JSON value; redaction must never raise
    json.loads(redact_frame(json.dumps([2, "1", "GetConfiguration", payload])))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.sampled_from(["AuthorizationKey", "key", "value"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["key", "value", "x"]), inner)
    ),
    max_leaves=15,
)


@given(json_values)
def test_redaction_never_raises_and_never_leaks(value: object) -> None:
    text = json.dumps([2, "1", "ChangeConfiguration", value, "AuthorizationKey"])
    redacted = redact_frame(text)
    assert isinstance(redacted, str)
    if isinstance(value, dict) and value.get("key") == "AuthorizationKey" and "value" in value:
        assert json.loads(redacted)[3]["value"] == REDACTED


@given(st.text(max_size=80))
def test_any_text_mentioning_the_key_gives_text(prefix: str) -> None:
    assert isinstance(redact_frame(prefix + "AuthorizationKey"), str)
