"""Robustness group 2 — websocket frame level (ocpp16-rules.md §10.2).

Expected reactions: close 1003 for a binary frame and 1009 for a message over the size limit (design.md
decision 10: 1 MiB, ``robustness_max_message_size``); the catalogue rows for invalid UTF-8 (1007,
RFC 6455 §8.1) and unmasked client frames (1002, RFC 6455 §5.1).

Not here: 29 (permessage-deflate is not negotiated), 31–33 (ping/pong timing and rate limits have no
agreed values to test against).
"""

from conformance.probes import OPCODE_TEXT, ws_frame
from conformance.raw_steps import (
    ExpectClose,
    ExpectResult,
    SendBinary,
    SendText,
    SendWire,
    fragment_flood,
    oversized,
)
from conformance.scenarios.robustness._rows import FRAMES, group_check, probe, row
from conformance.steps import Equals

S = "10.2"
SUFFIX = FRAMES

SCENARIOS = [
    row(
        __name__,
        "RB-25",
        "Binary frame",
        probe(SendBinary(b'[2,"rb-binary","Heartbeat",{}]'), ExpectClose(1003)),
        suffix=SUFFIX,
        section=S,
        source="#25; J §4.1.2",
    ),
    row(
        __name__,
        "RB-26",
        "Text frame with invalid UTF-8",
        probe(
            SendWire(
                ws_frame(OPCODE_TEXT, b'[2,"rb-utf8","Authorize",{"idTag":"\xff"}]'),
                "a text frame holding the byte 0xFF (invalid UTF-8)",
            ),
            ExpectClose(1007),
        ),
        suffix=SUFFIX,
        section=S,
        source="#26; RFC 6455 §8.1",
    ),
    row(
        __name__,
        "RB-27A",
        "Text message one character over the size limit",
        probe(SendText(oversized(1), "a DataTransfer of max message size + 1 characters"), ExpectClose(1009)),
        suffix=SUFFIX,
        section=S,
        source="#27; design decision 10",
    ),
    row(
        __name__,
        "RB-27B",
        "Text message of exactly the size limit",
        probe(
            SendText(oversized(0), "a DataTransfer of exactly max message size characters"),
            ExpectResult("DataTransfer", (Equals("status", "UnknownVendorId"),)),
        ),
        suffix=SUFFIX,
        section=S,
        source="#27 (boundary); design decision 10",
    ),
    row(
        __name__,
        "RB-28",
        "Continuation frames past the size limit, never finished",
        probe(
            SendWire(
                fragment_flood,
                "fragments of a text message adding up to one character past the limit, never finished",
            ),
            ExpectClose(1009),
        ),
        suffix=SUFFIX,
        section=S,
        source="#28; design decision 10",
    ),
    row(
        __name__,
        "RB-30",
        "Unmasked client frame",
        probe(
            SendWire(
                ws_frame(OPCODE_TEXT, b'[2,"rb-unmasked","Heartbeat",{}]', masked=False),
                "an unmasked text frame",
            ),
            ExpectClose(1002),
        ),
        suffix=SUFFIX,
        section=S,
        source="#30; RFC 6455 §5.1",
    ),
    group_check(__name__, "RB-33-OK", "Frame-level", suffix=SUFFIX, section=S),
]
