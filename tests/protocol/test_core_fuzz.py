"""Hypothesis properties of the sans-IO core: any input yields a defined reaction, never a crash, and
every CALL whose id can be recovered gets exactly one reply (design-models principle 7)."""

from __future__ import annotations

import json
from typing import Any

from fakes import PermissiveSchemas
from hypothesis import given
from hypothesis import strategies as st

from engine.protocol.actions import ACTIONS
from engine.protocol.connection import OcppConnection
from engine.protocol.errors import ErrorCode, LocalOcppError
from engine.protocol.events import (
    CallReceived,
    CallRejected,
    CallTimedOut,
    CloseRequested,
    Discarded,
    DuplicateCall,
    ErrorReceived,
    Event,
    ResponseInvalid,
    ResultReceived,
    Unparseable,
)
from engine.protocol.validation import default_registry

DEFINED = (
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

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**60), 10**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
message_types = st.sampled_from([2, 3, 4, 5, "2", 2.0, None, True])
ids = st.text(max_size=40) | st.integers() | st.none()
actions = st.sampled_from(sorted(ACTIONS)) | st.text(max_size=12)
frame_arrays = st.lists(json_values, max_size=6) | st.tuples(message_types, ids, actions, json_values).map(
    list
)
schema_sets = st.sampled_from([PermissiveSchemas(), default_registry()])


def answer(conn: OcppConnection, event: Event) -> list[str]:
    """What the shell would write for this event, with a handler that answers ``{}``."""
    if isinstance(event, CallReceived):
        try:
            return [conn.reply_result(event.unique_id, {})]
        except LocalOcppError:
            return [conn.reply_error(event.unique_id, ErrorCode.INTERNAL_ERROR)]
    if isinstance(event, CallRejected):
        return [event.reply]
    if isinstance(event, DuplicateCall) and event.reply is not None:
        return [event.reply]
    return []


def feed(conn: OcppConnection, text: str) -> tuple[list[Event], list[str]]:
    events = conn.receive_text(text, 0.0)
    assert all(isinstance(e, DEFINED) for e in events)
    replies = [reply for event in events for reply in answer(conn, event)]
    for reply in replies:
        frame = json.loads(reply)  # every reply is plain JSON and encodable as UTF-8
        reply.encode("utf-8")
        assert frame[0] in (3, 4)
    return events, replies


@given(schema_sets, st.text(max_size=200))
def test_any_text_yields_defined_events(schemas: Any, text: str) -> None:
    feed(OcppConnection(schemas), text)


@given(schema_sets, frame_arrays)
def test_any_json_array_yields_defined_events(schemas: Any, frame: list[Any]) -> None:
    feed(OcppConnection(schemas), json.dumps(frame))


@given(
    schema_sets,
    st.text(min_size=1, max_size=36),
    actions,
    json_values,
)
def test_every_call_with_a_recoverable_id_gets_exactly_one_reply(
    schemas: Any, unique_id: str, action: str, payload: Any
) -> None:
    try:
        unique_id.encode("utf-8")
    except UnicodeEncodeError:
        return  # a lone surrogate in the id itself leaves no id to answer (tested in test_frames)
    conn = OcppConnection(schemas)
    text = json.dumps([2, unique_id, action, payload])
    _, replies = feed(conn, text)
    assert len(replies) == 1
    assert json.loads(replies[0])[1] == unique_id
    # the same frame again is answered again (cached) or re-run, never silently lost
    _, again = feed(conn, text)
    assert len(again) == 1


@given(schema_sets, st.lists(st.text(max_size=60) | frame_arrays.map(json.dumps), max_size=15))
def test_streams_of_input_never_break_the_connection(schemas: Any, texts: list[str]) -> None:
    conn = OcppConnection(schemas, bad_frame_limit=5)
    for text in texts:
        feed(conn, text)
    # whatever happened, a well-formed Heartbeat is still served
    _, replies = feed(conn, '[2,"final-heartbeat","Heartbeat",{}]')
    assert len(replies) == 1
