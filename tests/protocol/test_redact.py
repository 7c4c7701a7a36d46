"""AuthorizationKey values never reach the message log (design.md decision 13)."""

from __future__ import annotations

import json

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
