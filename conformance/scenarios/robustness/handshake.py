"""Robustness group 1 — handshake (ocpp16-rules.md §10.1, rows without TLS or Basic auth).

Expected reactions: design.md decision 1 (subprotocol: exactly ``ocpp1.6`` when offered; none supported
or no header: HTTP 400, no upgrade), decision 9 (a second connection replaces the first, closed 1000),
decision 10 (handshake deadline), otherwise the catalogue row.

Not here: row 1 (unknown identity → 404) depends on how the CSMS is configured to treat unknown
identities (decision 6 allows both), which the operator adapter cannot set; rows 7–19 need Basic auth or
TLS; 23 (connection-rate limiting) has no agreed limit.
"""

from conformance.config import configuration_answer
from conformance.raw_steps import DuplicateConnection, HandshakeProbe, HttpProbe, SlowHandshake
from conformance.scenarios.robustness._rows import HANDSHAKE, group_check, row
from conformance.states import BOOTED
from conformance.steps import ExpectCall, Operator

S = "10.1"
SUFFIX = HANDSHAKE


def _refused(segment: str, label: str) -> HandshakeProbe:
    return HandshakeProbe(segment=segment, status=400, tolerated=(404,), label=label)


SCENARIOS = [
    row(
        __name__,
        "RB-02A",
        "Empty identity (/ocpp/)",
        _refused("", "/ocpp/ (empty identity)"),
        suffix=SUFFIX,
        section=S,
        source="#2; R1.4",
    ),
    row(
        __name__,
        "RB-02B",
        "Identity with %2F (an encoded '/')",
        _refused("CP%2F1", "/ocpp/CP%2F1"),
        suffix=SUFFIX,
        section=S,
        source="#2; R1.4",
    ),
    row(
        __name__,
        "RB-02C",
        "Identity with %00 (NUL)",
        _refused("CP%001", "/ocpp/CP%001"),
        suffix=SUFFIX,
        section=S,
        source="#2; R1.4",
    ),
    row(
        __name__,
        "RB-02D",
        "Identity with a control character (%07)",
        _refused("CP%071", "/ocpp/CP%071"),
        suffix=SUFFIX,
        section=S,
        source="#2; R1.4",
    ),
    row(
        __name__,
        "RB-02E",
        "Identity '..'",
        _refused("..", "/ocpp/.."),
        suffix=SUFFIX,
        section=S,
        source="#2; R1.4",
    ),
    row(
        __name__,
        "RB-02F",
        "Identity of 49 characters",
        _refused("R" * 49, "/ocpp/<49 characters>"),
        suffix=SUFFIX,
        section=S,
        source="#2; R1.4",
    ),
    row(
        __name__,
        "RB-03",
        "Identity with a percent-encoded space",
        [
            ExpectCall(
                "GetConfiguration",
                trigger=Operator.request("GetConfiguration", {"key": ["HeartbeatInterval"]}),
                answer=configuration_answer(["HeartbeatInterval"]),
            )
        ],
        suffix=SUFFIX + " 123",
        section=S,
        source="#3; R1.1",
        expected="upgrade; Boot Accepted; the operator reaches the charger under the decoded identity",
        before=[BOOTED],
    ),
    row(
        __name__,
        "RB-04",
        "No Sec-WebSocket-Protocol header",
        HandshakeProbe(offer=(), status=400),
        suffix=SUFFIX,
        section=S,
        source="#4; design decision 1",
    ),
    row(
        __name__,
        "RB-05A",
        "Only ocpp0.1 offered",
        HandshakeProbe(offer=("ocpp0.1",), status=400),
        suffix=SUFFIX,
        section=S,
        source="#5; design decision 1; TC_088",
    ),
    row(
        __name__,
        "RB-05B",
        "Only ocpp2.0.1 offered",
        HandshakeProbe(offer=("ocpp2.0.1",), status=400),
        suffix=SUFFIX,
        section=S,
        source="#5; design decision 1",
    ),
    row(
        __name__,
        "RB-06",
        "ocpp0.1, ocpp1.6 offered",
        HandshakeProbe(offer=("ocpp0.1", "ocpp1.6")),
        suffix=SUFFIX,
        section=S,
        source="#6; design decision 1; TC_088",
    ),
    row(
        __name__,
        "RB-20",
        "Upgrade request trickled a byte at a time, never finished (slowloris)",
        SlowHandshake(),
        suffix=SUFFIX,
        section=S,
        source="#20; design decision 10",
    ),
    row(
        __name__,
        "RB-21",
        "Upgrade request with 100 KiB of headers",
        HandshakeProbe(
            headers=((b"X-Padding", b"a" * 100 * 1024),),
            status=431,
            tolerated=(400,),
            close_ok=True,
            label="its own path with a 100 KiB header",
        ),
        suffix=SUFFIX,
        section=S,
        source="#21",
    ),
    row(
        __name__,
        "RB-22",
        "Plain HTTP GET on the OCPP path (no Upgrade)",
        HttpProbe(
            "GET $PATH HTTP/1.1\r\nHost: $HOST\r\nConnection: close\r\n\r\n",
            (400, 426),
            "GET <its path> HTTP/1.1 without Upgrade",
        ),
        suffix=SUFFIX,
        section=S,
        source="#22",
    ),
    row(
        __name__,
        "RB-24",
        "Second connection for the identity while the first is open",
        DuplicateConnection(),
        suffix=SUFFIX,
        section=S,
        source="#24; design decision 9",
    ),
    group_check(__name__, "RB-24-OK", "Handshake", suffix=SUFFIX, section=S),
]
