"""The sans-IO RFC 6455 server frame codec: every decoding rule with its close code, the fast path, the
draining after a failure, the server frame encoders; Hypothesis for arbitrary input and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.protocol.wsframes import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    BinaryMessage,
    CloseReceived,
    Event,
    FrameDecoder,
    Ping,
    Pong,
    ProtocolFailure,
    TextMessage,
    close_payload,
    encode_client_frame,
    encode_close,
    encode_frame,
    encode_ping,
    encode_pong,
    encode_text,
    is_valid_close_code,
    unmask,
)

MASK = b"\x37\xfa\x21\x3d"


def frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0) -> bytes:
    return encode_client_frame(opcode, payload, fin=fin, mask=MASK, rsv=rsv)


def decode(data: bytes, max_message_size: int = 1 << 20) -> list[Event]:
    return FrameDecoder(max_message_size).receive(data)


def decode_split(data: bytes, cuts: list[int], max_message_size: int = 1 << 20) -> list[Event]:
    decoder = FrameDecoder(max_message_size)
    events: list[Event] = []
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        events.extend(decoder.receive(data[start:cut]))
        start = cut
    return events


def failure(events: list[Event]) -> tuple[int, str]:
    assert events, "no event"
    last = events[-1]
    assert isinstance(last, ProtocolFailure), events
    return last.code, last.reason


# ----------------------------------------------------------------------------------------- well-formed


def test_unmask_is_the_bytewise_xor() -> None:
    for size in range(20):
        payload = bytes(range(100, 100 + size))
        expected = bytes(byte ^ MASK[i % 4] for i, byte in enumerate(payload))
        assert unmask(payload, MASK) == expected
        assert unmask(expected, MASK) == payload


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 125, 126, 127, 1000, 65535, 65536, 70000])
def test_a_masked_text_frame_of_any_length_form_is_one_message(size: int) -> None:
    text = ("é" * size)[: size // 2] + "a" * (size - 2 * (size // 2))
    assert decode(frame(OP_TEXT, text.encode())) == [TextMessage(text)]


def test_a_frame_split_at_every_point_gives_the_same_message() -> None:
    data = frame(OP_TEXT, b'[2,"a","Heartbeat",{}]')
    for cut in range(1, len(data)):
        assert decode_split(data, [cut]) == [TextMessage('[2,"a","Heartbeat",{}]')]
    byte_by_byte = decode_split(data, list(range(1, len(data))))
    assert byte_by_byte == [TextMessage('[2,"a","Heartbeat",{}]')]


def test_several_frames_in_one_chunk_come_out_in_order() -> None:
    data = frame(OP_TEXT, b"one") + frame(OP_PING, b"p") + frame(OP_BINARY, b"\x00\x01") + frame(OP_TEXT, b"")
    assert decode(data) == [TextMessage("one"), Ping(b"p"), BinaryMessage(b"\x00\x01"), TextMessage("")]


def test_fragments_are_reassembled_with_control_frames_between_them() -> None:
    text = "Grüße, 世界"
    raw = text.encode()
    # Cut inside multi-byte sequences on purpose: fragments need not end on a character boundary.
    data = (
        frame(OP_TEXT, raw[:3], fin=False)
        + frame(OP_PING, b"between")
        + frame(OP_CONTINUATION, raw[3:9], fin=False)
        + frame(OP_PONG, b"")
        + frame(OP_CONTINUATION, raw[9:], fin=True)
    )
    assert decode(data) == [Ping(b"between"), Pong(b""), TextMessage(text)]


def test_binary_fragments_are_reassembled() -> None:
    data = frame(OP_BINARY, b"ab", fin=False) + frame(OP_CONTINUATION, b"", fin=False)
    data += frame(OP_CONTINUATION, b"cd")
    assert decode(data) == [BinaryMessage(b"abcd")]


def test_ping_and_pong_keep_their_payloads() -> None:
    assert decode(frame(OP_PING, b"x" * 125) + frame(OP_PONG, b"\x00")) == [Ping(b"x" * 125), Pong(b"\x00")]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"", CloseReceived(1005, "")),
        (b"\x03\xe8", CloseReceived(1000, "")),
        (b"\x03\xe9bye \xc3\xa9", CloseReceived(1001, "bye é")),
        ((1012).to_bytes(2, "big"), CloseReceived(1012, "")),
        ((1014).to_bytes(2, "big"), CloseReceived(1014, "")),
        ((3000).to_bytes(2, "big"), CloseReceived(3000, "")),
        ((4999).to_bytes(2, "big"), CloseReceived(4999, "")),
    ],
)
def test_close_frames(payload: bytes, expected: CloseReceived) -> None:
    assert decode(frame(OP_CLOSE, payload)) == [expected]


def test_nothing_after_the_peers_close_frame_is_decoded() -> None:
    decoder = FrameDecoder()
    assert decoder.receive(frame(OP_CLOSE, b"\x03\xe8") + frame(OP_TEXT, b"late")) == [
        CloseReceived(1000, "")
    ]
    assert decoder.closing
    assert decoder.receive(frame(OP_TEXT, b"later")) == []


def test_the_fast_path_and_the_general_path_agree() -> None:
    text = "x" * 200
    single = decode(frame(OP_TEXT, text.encode()))
    split = decode_split(frame(OP_TEXT, text.encode()), [1])
    assert single == split == [TextMessage(text)]


def test_a_64_bit_length_header_in_a_chunk_of_126_bytes_is_not_taken_for_a_frame() -> None:
    """The fast path reads 7- and 16-bit lengths only; a chunk that happens to be 126 bytes long, starting
    with a 64-bit-length header, is the beginning of a long frame."""
    data = frame(OP_TEXT, b"a" * 70_000)
    decoder = FrameDecoder()
    assert decoder.receive(data[:126]) == []
    assert decoder.receive(data[126:]) == [TextMessage("a" * 70_000)]


def test_a_large_frame_arriving_in_chunks_is_buffered_once() -> None:
    payload = b"a" * 300_000
    data = frame(OP_TEXT, payload)
    decoder = FrameDecoder()
    events: list[Event] = []
    for start in range(0, len(data), 16384):
        events.extend(decoder.receive(data[start : start + 16384]))
    assert events == [TextMessage(payload.decode())]
    assert decoder._parts is None  # nothing kept once parsed


# ------------------------------------------------------------------------------------------------ 1002


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (encode_client_frame(OP_TEXT, b"hi", mask=b""), "not masked"),
        (frame(OP_TEXT, b"hi", rsv=4), "reserved bits"),
        (frame(OP_TEXT, b"hi", rsv=2), "reserved bits"),
        (frame(OP_TEXT, b"hi", rsv=1), "reserved bits"),
        (frame(0x3, b""), "unknown opcode 0x3"),
        (frame(0x7, b""), "unknown opcode 0x7"),
        (frame(0xB, b""), "unknown opcode 0xb"),
        (frame(0xF, b""), "unknown opcode 0xf"),
        (frame(OP_PING, b"x" * 126), "over 125 bytes"),
        (frame(OP_CLOSE, b"\x03\xe8" + b"x" * 124), "over 125 bytes"),
        (frame(OP_PING, b"", fin=False), "fragmented control frame"),
        (frame(OP_CLOSE, b"\x03\xe8", fin=False), "fragmented control frame"),
        (frame(OP_CONTINUATION, b"orphan"), "without a message"),
        (frame(OP_TEXT, b"a", fin=False) + frame(OP_TEXT, b"b"), "before the fragmented message ended"),
        (frame(OP_BINARY, b"a", fin=False) + frame(OP_TEXT, b"b"), "before the fragmented message ended"),
        (frame(OP_CLOSE, b"\x03"), "1-byte payload"),
        (bytes((0x81, 0xFF)) + (1 << 63).to_bytes(8, "big") + MASK, "top bit set"),
    ],
)
def test_protocol_errors_fail_with_1002(data: bytes, reason: str) -> None:
    code, text = failure(decode(data))
    assert code == 1002
    assert reason in text


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535])
def test_close_frames_with_codes_no_endpoint_may_send_fail_with_1002(code: int) -> None:
    assert not is_valid_close_code(code)
    assert failure(decode(frame(OP_CLOSE, code.to_bytes(2, "big")))) == (
        1002,
        f"close frame with invalid code {code}",
    )


def test_the_header_rules_fail_before_the_payload_arrives() -> None:
    decoder = FrameDecoder()
    [event] = decoder.receive(bytes((0x81, 0x05)))  # unmasked, payload still to come
    assert event == ProtocolFailure(1002, "client frame not masked")
    assert decoder.failure == event


# ------------------------------------------------------------------------------------------------ 1007


def test_invalid_utf8_in_a_text_message_fails_with_1007() -> None:
    assert failure(decode(frame(OP_TEXT, b'[2,"x","Authorize",{"idTag":"\xff"}]')))[0] == 1007
    assert failure(decode(frame(OP_TEXT, b"\xed\xa0\x80")))[0] == 1007  # an encoded surrogate


def test_invalid_utf8_in_a_first_fragment_fails_before_the_message_ends() -> None:
    decoder = FrameDecoder()
    assert failure(decoder.receive(frame(OP_TEXT, b"ok\xc0\xaf", fin=False)))[0] == 1007


def test_a_character_cut_off_at_the_last_fragment_fails_with_1007() -> None:
    data = frame(OP_TEXT, b"ok\xc3", fin=False)
    assert decode(data) == []
    assert failure(decode(data + frame(OP_CONTINUATION, b"")))[0] == 1007


def test_a_close_reason_that_is_not_utf8_fails_with_1007() -> None:
    assert failure(decode(frame(OP_CLOSE, b"\x03\xe8\xff"))) == (1007, "close reason is not valid UTF-8")


# ------------------------------------------------------------------------------------------------ 1009


def test_a_message_of_exactly_the_limit_passes_and_one_byte_more_fails_with_1009() -> None:
    assert decode(frame(OP_TEXT, b"a" * 100), 100) == [TextMessage("a" * 100)]
    assert decode(frame(OP_BINARY, b"a" * 101), 100) == [
        ProtocolFailure(1009, "message over the 100-byte limit")
    ]


def test_a_huge_declared_length_is_refused_from_the_header_alone() -> None:
    decoder = FrameDecoder(1 << 20)
    header = bytes((0x81, 0xFF)) + (1 << 40).to_bytes(8, "big") + MASK
    assert failure(decoder.receive(header)) == (1009, "message over the 1048576-byte limit")
    assert decoder._parts is None


def test_fragments_adding_up_past_the_limit_fail_with_1009() -> None:
    data = frame(OP_TEXT, b"a" * 60, fin=False) + frame(OP_CONTINUATION, b"a" * 40, fin=False)
    assert decode(data, 100) == []
    assert failure(decode(data + frame(OP_CONTINUATION, b"a"), 100))[0] == 1009


# ------------------------------------------------------------------------------------ after a failure


def test_after_a_failure_only_the_peers_close_frame_is_reported() -> None:
    decoder = FrameDecoder()
    bad = encode_client_frame(OP_TEXT, b"unmasked", mask=b"")
    events = decoder.receive(bad + frame(OP_TEXT, b"dropped") + frame(OP_PING, b"dropped"))
    assert events == [ProtocolFailure(1002, "client frame not masked")]
    assert decoder.closing
    assert decoder.receive(frame(OP_TEXT, b"\xff bad but skipped")) == []
    assert decoder.receive(frame(OP_CLOSE, b"\x03\xea")) == [CloseReceived(1002, "")]
    assert decoder.receive(frame(OP_TEXT, b"after all")) == []


def test_the_rest_of_an_oversized_frame_is_skipped_without_buffering() -> None:
    decoder = FrameDecoder(100)
    data = frame(OP_TEXT, b"a" * 50_000) + frame(OP_CLOSE, b"\x03\xe8")
    assert decoder.receive(data[:20]) == [ProtocolFailure(1009, "message over the 100-byte limit")]
    events: list[Event] = []
    for start in range(20, len(data), 1000):
        events.extend(decoder.receive(data[start : start + 1000]))
        assert decoder._parts is None or decoder._have < 20
    assert events == [CloseReceived(1000, "")]


def test_a_lost_framing_reports_nothing_more() -> None:
    decoder = FrameDecoder()
    bad = bytes((0x81, 0xFF)) + (1 << 63).to_bytes(8, "big") + MASK
    assert failure(decoder.receive(bad))[0] == 1002
    assert decoder.receive(frame(OP_CLOSE, b"")) == []


# --------------------------------------------------------------------------------------------- encoding


@pytest.mark.parametrize(
    ("size", "header"),
    [
        (0, b"\x81\x00"),
        (125, b"\x81\x7d"),
        (126, b"\x81\x7e\x00\x7e"),
        (65535, b"\x81\x7e\xff\xff"),
        (65536, b"\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00"),
    ],
)
def test_server_text_frames_are_unmasked_with_the_minimal_length_form(size: int, header: bytes) -> None:
    assert encode_text("a" * size) == header + b"a" * size


def test_control_frames() -> None:
    assert encode_ping(b"abc") == b"\x89\x03abc"
    assert encode_pong(b"abc") == b"\x8a\x03abc"
    assert encode_frame(OP_BINARY, b"\x00") == b"\x82\x01\x00"
    with pytest.raises(ValueError, match="125"):
        encode_ping(b"x" * 126)
    with pytest.raises(ValueError, match="125"):
        encode_pong(b"x" * 126)


def test_close_frames_carry_code_and_reason() -> None:
    assert encode_close(1000) == b"\x88\x02\x03\xe8"
    assert encode_close(1008, "bad") == b"\x88\x05\x03\xf0bad"
    assert encode_close(None) == b"\x88\x00"
    assert close_payload(1005, "ignored") == b""
    for code in (1004, 1005 + 1, 1015, 999, 5000):
        with pytest.raises(ValueError, match="close code"):
            encode_close(code)


def test_a_long_close_reason_is_cut_on_a_character_boundary() -> None:
    payload = close_payload(1000, "é" * 100)  # 200 bytes of UTF-8
    assert len(payload) <= 125
    reason = payload[2:].decode()  # still valid UTF-8
    assert reason == "é" * 61
    assert len(close_payload(1000, "a" * 500)) == 125


# ------------------------------------------------------------------------------------------- Hypothesis


EVENT_TYPES = (TextMessage, BinaryMessage, Ping, Pong, CloseReceived, ProtocolFailure)


def check_sequence(events: list[Event]) -> None:
    assert all(isinstance(event, EVENT_TYPES) for event in events)
    failures = [i for i, event in enumerate(events) if isinstance(event, ProtocolFailure)]
    closes = [i for i, event in enumerate(events) if isinstance(event, CloseReceived)]
    assert len(failures) <= 1
    assert len(closes) <= 1
    if closes:
        assert closes[0] == len(events) - 1  # nothing after the peer's close
    if failures:
        assert all(isinstance(event, CloseReceived) for event in events[failures[0] + 1 :])
        assert isinstance(events[failures[0]], ProtocolFailure)
        assert events[failures[0]].code in (1002, 1007, 1009)  # type: ignore[union-attr]


@given(st.binary(max_size=600), st.lists(st.integers(min_value=0, max_value=600), max_size=8))
def test_any_bytes_split_anywhere_give_only_defined_events(data: bytes, cuts: list[int]) -> None:
    events = decode_split(data, [cut for cut in cuts if cut <= len(data)], max_message_size=200)
    check_sequence(events)
    assert events == decode(data, max_message_size=200)  # however it was split


@st.composite
def frame_streams(draw: st.DrawFn) -> bytes:
    """Plausible client traffic: mostly well-formed frames with the odd broken one."""
    chunks = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        opcode = draw(st.sampled_from([0, 1, 2, 8, 9, 10, 3, 0xB]))
        payload = draw(st.binary(max_size=300))
        mask = draw(st.sampled_from([b"", b"\x00\x00\x00\x00", MASK, b"\xff\x01\x80\x7f"]))
        chunks.append(
            encode_client_frame(
                opcode,
                payload,
                fin=draw(st.booleans()),
                mask=mask,
                rsv=draw(st.sampled_from([0, 0, 0, 1])),
            )
        )
    return b"".join(chunks)


@given(frame_streams(), st.lists(st.integers(min_value=0, max_value=2000), max_size=6))
def test_frame_shaped_input_split_anywhere_gives_only_defined_events(data: bytes, cuts: list[int]) -> None:
    events = decode_split(data, [cut for cut in cuts if cut <= len(data)], max_message_size=250)
    check_sequence(events)
    assert events == decode(data, max_message_size=250)


messages = st.one_of(
    st.text(max_size=400).map(TextMessage),
    st.binary(max_size=400).map(BinaryMessage),
    st.binary(max_size=125).map(Ping),
    st.binary(max_size=125).map(Pong),
)


@given(
    st.lists(messages, max_size=8),
    st.lists(st.integers(min_value=1, max_value=5), min_size=8, max_size=8),
    st.binary(min_size=4, max_size=4),
    st.lists(st.integers(min_value=0, max_value=5000), max_size=10),
)
def test_encoded_client_messages_round_trip(
    sent: list[Event], pieces: list[int], mask: bytes, cuts: list[int]
) -> None:
    wire = b""
    for message, count in zip(sent, pieces, strict=False):
        if isinstance(message, Ping | Pong):
            opcode = OP_PING if isinstance(message, Ping) else OP_PONG
            wire += encode_client_frame(opcode, message.payload, mask=mask)
            continue
        if isinstance(message, TextMessage):
            opcode, raw = OP_TEXT, message.text.encode()
        else:
            assert isinstance(message, BinaryMessage)
            opcode, raw = OP_BINARY, message.data
        step = max(1, -(-len(raw) // count))
        parts = [raw[i : i + step] for i in range(0, len(raw), step)] or [b""]
        for index, part in enumerate(parts):
            wire += encode_client_frame(
                opcode if index == 0 else OP_CONTINUATION, part, fin=index == len(parts) - 1, mask=mask
            )
    wire += encode_client_frame(OP_CLOSE, close_payload(1000, "done"), mask=mask)
    events = decode_split(wire, [cut for cut in cuts if cut <= len(wire)])
    assert events == [*sent, CloseReceived(1000, "done")]


@given(st.text(max_size=300), st.binary(min_size=4, max_size=4), st.integers(min_value=1, max_value=400))
def test_one_text_frame_per_chunk_takes_the_fast_path_to_the_same_result(
    text: str, mask: bytes, limit: int
) -> None:
    data = encode_client_frame(OP_TEXT, text.encode(), mask=mask)
    whole = FrameDecoder(limit).receive(data)
    assert whole == decode_split(data, [1], max_message_size=limit)
    if len(text.encode()) <= limit:
        assert whole == [TextMessage(text)]
    else:
        assert whole == [ProtocolFailure(1009, f"message over the {limit}-byte limit")]
