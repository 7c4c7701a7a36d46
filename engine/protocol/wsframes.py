"""RFC 6455 frames on the server side, sans-IO: bytes from a client in, events out; server frames out.

:class:`FrameDecoder` takes whatever the stream delivered (any split, any number of frames) and returns
the events it completes: :class:`TextMessage`, :class:`BinaryMessage`, :class:`Ping`, :class:`Pong`,
:class:`CloseReceived`, or one :class:`ProtocolFailure` naming the close code the connection must be
failed with (RFC 6455 §7.1.7):

- 1002: an unmasked client frame (§5.1), RSV bits without a negotiated extension (§5.2), an unknown
  opcode, a control frame over 125 bytes or fragmented (§5.5), a continuation frame with no message
  begun or a new data frame while one is (§5.4), a 64-bit length with its top bit set (§5.2), a close
  frame with a 1-byte payload or a code no endpoint may send (§7.4);
- 1007: a text message (or a close reason) that is not UTF-8 (§8.1). Fragmented text is checked
  fragment by fragment, so a bad first fragment fails at once;
- 1009: a message larger than ``max_message_size`` bytes, judged from the length in the frame header
  before any of the payload is buffered, and for fragments from the running total.

The common case is fast: one complete masked text frame per ``receive`` is unmasked with one integer
XOR over the whole payload and decoded once, without buffering.

After a failure or the peer's close frame no message is decoded any more. What the peer still sends
is skipped without buffering, frame by frame while the framing is known, and only the peer's close
frame is reported (a :class:`CloseReceived`), so the caller can finish the closing handshake and read
what the peer had in flight instead of closing on unread data, which would reset the TCP connection
and destroy the close frame on its way to the peer.

The ``encode_*`` functions build unmasked server frames: text, ping, pong and close (a close reason is
cut to fit its 123 bytes without splitting a UTF-8 sequence). :func:`encode_client_frame` builds a
masked client frame, for tests and tools.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass
from typing import Final

OP_CONTINUATION: Final = 0x0
OP_TEXT: Final = 0x1
OP_BINARY: Final = 0x2
OP_CLOSE: Final = 0x8
OP_PING: Final = 0x9
OP_PONG: Final = 0xA

#: Close codes (RFC 6455 §7.4.1).
NORMAL_CLOSURE: Final = 1000
PROTOCOL_ERROR: Final = 1002
NO_STATUS_RECEIVED: Final = 1005
ABNORMAL_CLOSURE: Final = 1006
INVALID_PAYLOAD: Final = 1007
MESSAGE_TOO_BIG: Final = 1009

MAX_CONTROL_PAYLOAD: Final = 125
MAX_CLOSE_REASON: Final = 123

_KNOWN_OPCODES: Final = frozenset((OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG))
_UTF8_DECODER = codecs.getincrementaldecoder("utf-8")


@dataclass(slots=True)
class TextMessage:
    """A complete text message (reassembled when it came in fragments)."""

    text: str


@dataclass(slots=True)
class BinaryMessage:
    """A complete binary message."""

    data: bytes


@dataclass(slots=True)
class Ping:
    payload: bytes


@dataclass(slots=True)
class Pong:
    payload: bytes


@dataclass(slots=True)
class CloseReceived:
    """The peer's close frame: its code (1005 when the frame had none) and reason."""

    code: int
    reason: str


@dataclass(slots=True)
class ProtocolFailure:
    """The client broke RFC 6455: fail the connection with a close frame of ``code``."""

    code: int
    reason: str


Event = TextMessage | BinaryMessage | Ping | Pong | CloseReceived | ProtocolFailure


def is_valid_close_code(code: int) -> bool:
    """May an endpoint send this code in a close frame? (RFC 6455 §7.4; 1012–1014 are IANA-registered.)"""
    if 1000 <= code <= 1014:
        return code not in (1004, NO_STATUS_RECEIVED, ABNORMAL_CLOSURE)
    return 3000 <= code <= 4999


def unmask(payload: bytes | bytearray, mask: bytes | bytearray) -> bytes:
    """XOR ``payload`` with the 4-byte ``mask`` repeated (§5.3), as one big-integer operation."""
    size = len(payload)
    if not size:
        return b""
    key = mask * ((size + 3) >> 2)
    if len(key) != size:
        key = key[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(size, "little")


class FrameDecoder:
    """Client frames to events, for one connection (see the module documentation for the rules)."""

    __slots__ = (
        "_draining",
        "_frag_decoder",
        "_frag_opcode",
        "_frag_parts",
        "_frag_size",
        "_have",
        "_lost",
        "_need",
        "_parts",
        "_skip",
        "_skip_failed",
        "failure",
        "max_message_size",
    )

    def __init__(self, max_message_size: int = 1 << 20) -> None:
        self.max_message_size = max_message_size
        #: the failure reported, once there is one
        self.failure: ProtocolFailure | None = None
        # Bytes received but not yet parsed: a list of chunks, joined only once ``_need`` bytes are in
        # (the next header or the whole next frame), so a large frame is copied once, not per chunk.
        self._parts: list[bytes | bytearray] | None = None
        self._have = 0
        self._need = 0
        # The message being reassembled from fragments: its opcode (0 when none), its size so far, its
        # parts (str for text, decoded as they arrive), and the UTF-8 decoder carrying a split sequence.
        self._frag_opcode = 0
        self._frag_size = 0
        self._frag_parts: list[str] | list[bytes] | None = None
        self._frag_decoder: codecs.IncrementalDecoder | None = None
        # After a failure or the peer's close frame: skip frames, reporting only a close frame.
        self._draining = False
        self._skip = 0  # payload bytes of the current frame still to skip while draining
        self._skip_failed = False  # the next frame is the one that failed: skip it, even a close
        self._lost = False  # the framing is lost (or the peer's close was seen): ignore everything

    @property
    def closing(self) -> bool:
        """True once a failure or the peer's close frame was reported: no message will follow."""
        return self._draining

    def receive(self, data: bytes | bytearray) -> list[Event]:
        """Feed bytes from the client; returns the events they complete, in order."""
        if self._parts is None and not self._draining and not self._frag_opcode:
            # The common case: exactly one complete, masked, final text frame.
            size = len(data)
            if size > 6 and data[0] == 0x81:
                length = data[1] - 0x80
                if 0 <= length <= 125:
                    start = 6
                elif length == 126 and size > 8:
                    length = (data[2] << 8) | data[3]
                    start = 8
                else:
                    return self._receive(data)  # unmasked, or a 64-bit length
                if start + length == size and length <= self.max_message_size:
                    payload = data[start:]
                    key = data[start - 4 : start] * ((length + 3) >> 2)
                    if len(key) != length:
                        key = key[:length]
                    raw = (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(
                        length, "little"
                    )
                    try:
                        return [TextMessage(raw.decode())]
                    except UnicodeDecodeError:
                        pass  # the general path reports it
        return self._receive(data)

    # ------------------------------------------------------------------------------------------ parsing

    def _receive(self, data: bytes | bytearray) -> list[Event]:
        if self._lost:
            return []
        if self._parts is not None:
            self._parts.append(data)
            self._have += len(data)
            if self._have < self._need:
                return []
            data = b"".join(self._parts)
            self._parts = None
        events: list[Event] = []
        end = len(data)
        pos = 0
        need = 0
        while pos < end:
            if self._skip:
                step = min(self._skip, end - pos)
                self._skip -= step
                pos += step
                continue
            if end - pos < 2:
                need = 2
                break
            first = data[pos]
            second = data[pos + 1]
            if not self._draining:
                failure = self._check_header(first, second)
                if failure is not None:
                    events.append(failure)
                    self._skip_failed = True
                    continue  # now draining: this very frame is skipped
            length = second & 0x7F
            header = (2 if length < 126 else 4 if length == 126 else 10) + (4 if second & 0x80 else 0)
            if end - pos < header:
                need = header
                break
            if length == 126:
                length = (data[pos + 2] << 8) | data[pos + 3]
            elif length == 127:
                length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                if length >> 63:
                    if not self._draining:
                        events.append(self._fail(PROTOCOL_ERROR, "64-bit frame length with the top bit set"))
                    self._lost = True  # no telling where the next frame starts
                    return events
            opcode = first & 0x0F
            if self._draining:
                if opcode != OP_CLOSE or self._skip_failed:
                    self._skip_failed = False
                    pos += header
                    self._skip = length
                    continue
                if length <= MAX_CONTROL_PAYLOAD and end - pos < header + length:
                    need = header + length
                    break
                events.append(self._drained_close(data, pos, header, length, bool(second & 0x80)))
                self._lost = True
                return events
            if opcode < OP_CLOSE:
                size = self._frag_size + length if opcode == OP_CONTINUATION else length
                if size > self.max_message_size:
                    limit = self.max_message_size
                    events.append(self._fail(MESSAGE_TOO_BIG, f"message over the {limit}-byte limit"))
                    self._skip_failed = True
                    continue  # its payload is skipped, not buffered
            if end - pos < header + length:
                need = header + length
                break
            start = pos + header
            pos = start + length
            event = self._frame(first & 0x80, opcode, unmask(data[start:pos], data[start - 4 : start]))
            if event is not None:
                events.append(event)
                if type(event) is CloseReceived:
                    return events  # nothing may follow the peer's close frame
        if pos < end:
            rest = data[pos:] if pos else data
            self._parts = [rest]
            self._have = len(rest)
            self._need = need
        return events

    def _check_header(self, first: int, second: int) -> ProtocolFailure | None:
        """The rules judged from a frame's first two bytes (and the fragment state)."""
        if first & 0x70:
            return self._fail(PROTOCOL_ERROR, "reserved bits set without a negotiated extension")
        opcode = first & 0x0F
        if opcode not in _KNOWN_OPCODES:
            return self._fail(PROTOCOL_ERROR, f"unknown opcode {opcode:#x}")
        if not second & 0x80:
            return self._fail(PROTOCOL_ERROR, "client frame not masked")
        if opcode >= OP_CLOSE:
            if not first & 0x80:
                return self._fail(PROTOCOL_ERROR, "fragmented control frame")
            if second & 0x7F > MAX_CONTROL_PAYLOAD:
                return self._fail(PROTOCOL_ERROR, "control frame payload over 125 bytes")
        elif opcode == OP_CONTINUATION:
            if not self._frag_opcode:
                return self._fail(PROTOCOL_ERROR, "continuation frame without a message to continue")
        elif self._frag_opcode:
            return self._fail(PROTOCOL_ERROR, "new data frame before the fragmented message ended")
        return None

    def _frame(self, fin: int, opcode: int, payload: bytes) -> Event | None:
        """One complete, well-formed frame (header rules already checked)."""
        if opcode == OP_TEXT:
            if fin:
                try:
                    return TextMessage(payload.decode())
                except UnicodeDecodeError:
                    return self._fail(INVALID_PAYLOAD, "text message is not valid UTF-8")
            decoder = _UTF8_DECODER()
            self._frag_opcode, self._frag_size, self._frag_decoder = OP_TEXT, len(payload), decoder
            try:
                self._frag_parts = [decoder.decode(payload)]
            except UnicodeDecodeError:
                return self._fail(INVALID_PAYLOAD, "text message is not valid UTF-8")
            return None
        if opcode == OP_BINARY:
            if fin:
                return BinaryMessage(payload)
            self._frag_opcode, self._frag_size, self._frag_parts = OP_BINARY, len(payload), [payload]
            return None
        if opcode == OP_CONTINUATION:
            return self._continue(fin, payload)
        if opcode == OP_PING:
            return Ping(payload)
        if opcode == OP_PONG:
            return Pong(payload)
        return self._close(payload)

    def _continue(self, fin: int, payload: bytes) -> Event | None:
        self._frag_size += len(payload)
        parts = self._frag_parts
        assert parts is not None
        if self._frag_opcode == OP_TEXT:
            decoder = self._frag_decoder
            assert decoder is not None
            try:
                parts.append(decoder.decode(payload, final=bool(fin)))  # type: ignore[arg-type]
            except UnicodeDecodeError:
                return self._fail(INVALID_PAYLOAD, "text message is not valid UTF-8")
            if not fin:
                return None
            text = "".join(parts)  # type: ignore[arg-type]
            self._reset_fragments()
            return TextMessage(text)
        parts.append(payload)  # type: ignore[arg-type]
        if not fin:
            return None
        data = b"".join(parts)  # type: ignore[arg-type]
        self._reset_fragments()
        return BinaryMessage(data)

    def _close(self, payload: bytes) -> Event:
        if not payload:
            event: Event = CloseReceived(NO_STATUS_RECEIVED, "")
        elif len(payload) == 1:
            return self._fail(PROTOCOL_ERROR, "close frame with a 1-byte payload")
        else:
            code = (payload[0] << 8) | payload[1]
            if not is_valid_close_code(code):
                return self._fail(PROTOCOL_ERROR, f"close frame with invalid code {code}")
            try:
                event = CloseReceived(code, payload[2:].decode())
            except UnicodeDecodeError:
                return self._fail(INVALID_PAYLOAD, "close reason is not valid UTF-8")
        self._reset_fragments()
        self._draining = True
        self._lost = True  # nothing may follow a close frame
        return event

    def _fail(self, code: int, reason: str) -> ProtocolFailure:
        self.failure = failure = ProtocolFailure(code, reason)
        self._reset_fragments()
        self._draining = True
        return failure

    def _reset_fragments(self) -> None:
        self._frag_opcode = self._frag_size = 0
        self._frag_parts = self._frag_decoder = None

    # ----------------------------------------------------------------------------------------- draining

    @staticmethod
    def _drained_close(
        data: bytes | bytearray, pos: int, header: int, length: int, masked: bool
    ) -> CloseReceived:
        """The peer's close frame after a failure, read leniently: the connection is ending anyway."""
        if length > MAX_CONTROL_PAYLOAD:
            return CloseReceived(NO_STATUS_RECEIVED, "")
        start = pos + header
        payload = data[start : start + length]
        if masked:
            payload = unmask(payload, data[start - 4 : start])
        if len(payload) < 2:
            return CloseReceived(NO_STATUS_RECEIVED, "")
        return CloseReceived((payload[0] << 8) | payload[1], payload[2:].decode(errors="replace"))


# -------------------------------------------------------------------------------------------- encoding


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked server frame."""
    size = len(payload)
    if size < 126:
        return bytes((0x80 | opcode, size)) + payload
    if size < 65536:
        return bytes((0x80 | opcode, 126, size >> 8, size & 0xFF)) + payload
    return bytes((0x80 | opcode, 127)) + size.to_bytes(8, "big") + payload


def encode_text(text: str) -> bytes:
    return encode_frame(OP_TEXT, text.encode())


def encode_ping(payload: bytes = b"") -> bytes:
    if len(payload) > MAX_CONTROL_PAYLOAD:
        raise ValueError("a ping payload is at most 125 bytes")
    return encode_frame(OP_PING, payload)


def encode_pong(payload: bytes = b"") -> bytes:
    if len(payload) > MAX_CONTROL_PAYLOAD:
        raise ValueError("a pong payload is at most 125 bytes")
    return encode_frame(OP_PONG, payload)


def close_payload(code: int | None, reason: str | None = None) -> bytes:
    """A close frame's payload: the code and the reason, cut to 123 bytes on a character boundary.
    ``None`` (or 1005, "no status received") gives an empty payload, which cannot carry a reason."""
    if code is None or code == NO_STATUS_RECEIVED:
        return b""
    if not is_valid_close_code(code):
        raise ValueError(f"{code} is not a close code that may be sent")
    raw = (reason or "").encode()
    if len(raw) > MAX_CLOSE_REASON:
        raw = raw[:MAX_CLOSE_REASON].decode(errors="ignore").encode()
    return code.to_bytes(2, "big") + raw


def encode_close(code: int | None = NORMAL_CLOSURE, reason: str | None = None) -> bytes:
    return encode_frame(OP_CLOSE, close_payload(code, reason))


def encode_client_frame(
    opcode: int, payload: bytes, *, fin: bool = True, mask: bytes | None = None, rsv: int = 0
) -> bytes:
    """A client frame, masked with ``mask`` (random when None; ``b""`` leaves it unmasked)."""
    if mask is None:
        mask = os.urandom(4)
    size = len(payload)
    first = (0x80 if fin else 0) | (rsv & 0x7) << 4 | opcode & 0x0F
    bit = 0x80 if mask else 0
    if size < 126:
        head = bytes((first, bit | size))
    elif size < 65536:
        head = bytes((first, bit | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((first, bit | 127)) + size.to_bytes(8, "big")
    return head + mask + unmask(payload, mask) if mask else head + payload
