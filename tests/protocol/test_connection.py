"""The RPC state machine of one connection (design.md decision 5), with a permissive schema stand-in."""

from __future__ import annotations

import itertools

import pytest
from fakes import PermissiveSchemas

from engine.protocol.connection import OcppConnection, RecentReplies
from engine.protocol.errors import CallInProgressError, ErrorCode, LocalOcppError
from engine.protocol.events import (
    CallReceived,
    CallRejected,
    CallTimedOut,
    CloseRequested,
    Discarded,
    DuplicateCall,
    ErrorReceived,
    ResponseInvalid,
    ResultReceived,
    Unparseable,
)


def make(**kwargs: object) -> OcppConnection:
    counter = itertools.count(1)
    return OcppConnection(PermissiveSchemas(), id_factory=lambda: f"cs-{next(counter)}", **kwargs)  # type: ignore[arg-type]


def test_call_is_received_then_answered_once() -> None:
    conn = make()
    assert conn.receive_text('[2,"1","Heartbeat",{}]', 0) == [CallReceived("1", "Heartbeat", {})]
    assert conn.in_progress == 1
    assert conn.reply_result("1", {"currentTime": "t"}) == '[3,"1",{"currentTime":"t"}]'
    assert conn.in_progress == 0
    with pytest.raises(LocalOcppError):
        conn.reply_result("1", {})


def test_unknown_action_and_wrong_case_are_not_implemented() -> None:
    conn = make()
    for action in ("FooBar", "bootnotification"):
        [event] = conn.receive_text(f'[2,"1","{action}",{{}}]', 0)
        assert isinstance(event, CallRejected)
        assert event.error.code is ErrorCode.NOT_IMPLEMENTED
        assert event.reply.startswith('[4,"1","NotImplemented",')


@pytest.mark.parametrize(
    "action", ["Reset", "RemoteStartTransaction", "SetChargingProfile", "CertificateSigned"]
)
def test_csms_actions_sent_by_a_charger_are_not_supported(action: str) -> None:
    [event] = make().receive_text(f'[2,"1","{action}",{{}}]', 0)
    assert isinstance(event, CallRejected)
    assert event.error.code is ErrorCode.NOT_SUPPORTED


def test_data_transfer_goes_both_ways() -> None:
    conn = make()
    assert conn.receive_text('[2,"1","DataTransfer",{"vendorId":"v"}]', 0) == [
        CallReceived("1", "DataTransfer", {"vendorId": "v"})
    ]
    assert conn.start_call("DataTransfer", {"vendorId": "v"}, 0, 30).action == "DataTransfer"


def test_schema_failure_is_rejected_with_the_validator_code() -> None:
    [event] = make().receive_text('[2,"1","Heartbeat",{"invalid":1}]', 0)
    assert isinstance(event, CallRejected)
    assert event.reply == '[4,"1","PropertyConstraintViolation","bad",{"path":"$.invalid"}]'


def test_duplicate_in_progress_is_dropped_and_answered_duplicate_gets_the_cached_reply() -> None:
    conn = make()
    frame = '[2,"7","Authorize",{"idTag":"A"}]'
    assert isinstance(conn.receive_text(frame, 0)[0], CallReceived)
    assert conn.receive_text(frame, 0) == [DuplicateCall("7", None)]
    reply = conn.reply_result("7", {"idTagInfo": {"status": "Accepted"}})
    assert conn.receive_text(frame, 0) == [DuplicateCall("7", reply)]


def test_same_id_with_other_content_is_new_work() -> None:
    # chargers that count their message ids restart the counter on reboot
    conn = make()
    conn.receive_text('[2,"1","Authorize",{"idTag":"A"}]', 0)
    conn.reply_result("1", {"idTagInfo": {"status": "Accepted"}})
    assert conn.receive_text('[2,"1","Authorize",{"idTag":"B"}]', 0) == [
        CallReceived("1", "Authorize", {"idTag": "B"})
    ]


def test_recent_replies_survive_a_new_connection_for_the_same_identity() -> None:
    recent = RecentReplies()
    first = make(recent=recent)
    first.receive_text('[2,"s1","StartTransaction",{"x":1}]', 0)
    reply = first.reply_result("s1", {"transactionId": 5})
    second = make(recent=recent)
    assert second.receive_text('[2,"s1","StartTransaction",{"x":1}]', 0) == [DuplicateCall("s1", reply)]


def test_recent_replies_are_bounded() -> None:
    recent = RecentReplies(capacity=2)
    for uid in "abc":
        recent.put(uid, 1, uid)
    assert recent.get("a", 1) is None
    assert recent.get("c", 1) == "c"


def test_errors_are_not_cached_so_a_retry_runs_again() -> None:
    conn = make()
    frame = '[2,"9","MeterValues",{}]'
    conn.receive_text(frame, 0)
    assert conn.reply_error("9", ErrorCode.INTERNAL_ERROR) == (
        '[4,"9","InternalError","' + ErrorCode.INTERNAL_ERROR.description + '",{}]'
    )
    assert isinstance(conn.receive_text(frame, 0)[0], CallReceived)


def test_invalid_answer_from_our_handler_leaves_the_call_open_for_an_error_reply() -> None:
    conn = make()
    conn.receive_text('[2,"1","Heartbeat",{}]', 0)
    with pytest.raises(LocalOcppError):
        conn.reply_result("1", {"invalid": True})
    assert conn.in_progress == 1
    conn.reply_error("1", ErrorCode.INTERNAL_ERROR)
    assert conn.in_progress == 0


def test_one_outstanding_call_and_its_result() -> None:
    conn = make()
    out = conn.start_call("Reset", {"type": "Soft"}, now=10.0, timeout=30.0)
    assert out.text == '[2,"cs-1","Reset",{"type":"Soft"}]'
    assert out.deadline == 40.0
    with pytest.raises(CallInProgressError):
        conn.start_call("ClearCache", {}, now=11.0, timeout=30.0)
    assert conn.receive_text('[3,"cs-1",{"status":"Accepted"}]', 12.0) == [
        ResultReceived("cs-1", "Reset", {"status": "Accepted"})
    ]
    assert conn.outstanding is None
    assert conn.start_call("ClearCache", {}, now=13.0, timeout=30.0).unique_id == "cs-2"


def test_crossing_calls_are_processed_while_ours_is_outstanding() -> None:
    conn = make()
    conn.start_call("Reset", {"type": "Soft"}, 0, 30)
    assert conn.receive_text('[2,"x","Heartbeat",{}]', 1) == [CallReceived("x", "Heartbeat", {})]
    assert isinstance(conn.receive_text('[3,"cs-1",{"status":"Accepted"}]', 2)[0], ResultReceived)


def test_callerror_answer_and_unknown_error_codes_are_kept_as_sent() -> None:
    conn = make()
    conn.start_call("Reset", {"type": "Soft"}, 0, 30)
    assert conn.receive_text('[4,"cs-1","FormatViolation","2.0.1 spelling",{}]', 1) == [
        ErrorReceived("cs-1", "Reset", "FormatViolation", "2.0.1 spelling", {})
    ]


def test_invalid_result_payload_fails_the_call_without_reply() -> None:
    conn = make()
    conn.start_call("Reset", {"type": "Soft"}, 0, 30)
    [event] = conn.receive_text('[3,"cs-1",{"invalid":"OK"}]', 1)
    assert isinstance(event, ResponseInvalid)
    assert conn.outstanding is None
    conn.start_call("Reset", {"type": "Soft"}, 0, 30)
    [event] = conn.receive_text('[3,"cs-2",[]]', 1)
    assert isinstance(event, ResponseInvalid)
    assert event.error.code is ErrorCode.FORMATION_VIOLATION


def test_unknown_and_late_responses_are_discarded() -> None:
    conn = make()
    assert conn.receive_text('[3,"never-sent",{}]', 0) == [
        Discarded("answer to a message id we are not waiting for", "never-sent")
    ]
    conn.start_call("Reset", {"type": "Soft"}, 0, 30)
    assert conn.expire(29.999) == []
    assert conn.expire(30.0) == [CallTimedOut("cs-1", "Reset")]
    assert conn.outstanding is None
    [late] = conn.receive_text('[3,"cs-1",{"status":"Accepted"}]', 31)
    assert isinstance(late, Discarded)
    assert "late" in late.reason


def test_abandoned_call_frees_the_slot() -> None:
    conn = make()
    out = conn.start_call("Reset", {"type": "Soft"}, 0, 30)
    conn.abandon_call("other")
    assert conn.outstanding == out
    conn.abandon_call(out.unique_id)
    assert conn.outstanding is None


def test_outbound_misuse_is_a_local_error() -> None:
    conn = make()
    with pytest.raises(LocalOcppError):
        conn.start_call("Heartbeat", {}, 0, 30)
    with pytest.raises(LocalOcppError):
        conn.start_call("Reset", {"invalid": 1}, 0, 30)
    assert conn.outstanding is None


def test_bad_frames_in_a_row_ask_for_close_1008_and_good_frames_reset_the_count() -> None:
    conn = make(bad_frame_limit=3)
    assert conn.receive_text("x", 0) == [Unparseable("invalid JSON at line 1 column 1: Expecting value")]
    conn.receive_text('[9,"1"]', 0)
    conn.receive_text('[2,"1","Heartbeat",{}]', 0)  # a good frame resets
    conn.receive_text("x", 0)
    conn.receive_text("x", 0)
    events = conn.receive_text("x", 0)
    assert isinstance(events[-1], CloseRequested)
    assert events[-1].code == 1008


def test_late_responses_do_not_count_as_bad_frames() -> None:
    conn = make(bad_frame_limit=2)
    for _ in range(5):
        assert not any(isinstance(e, CloseRequested) for e in conn.receive_text('[3,"zz",{}]', 0))
