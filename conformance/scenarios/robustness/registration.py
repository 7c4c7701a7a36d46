"""Robustness group 4 — registration state (ocpp16-rules.md §10.4; design.md decision 6: before Accepted,
any CALL other than BootNotification and a message the CSMS triggered → SecurityError; registration
survives reconnects).

The Pending and Rejected rows set the identity's boot policy through the operator (``PendingOnce`` /
``RejectedOnce``, as AQ-1 does) and reset it afterwards. Row 68 uses an identity that never boots.

Not here: 71 (SignCertificate needs the security extension).
"""

from conformance.raw_steps import ExpectOperatorRefusal
from conformance.scenarios.robustness._rows import NEVER_BOOTED, REGISTRATION, group_check, row
from conformance.states import (
    BOOTED,
    CONNECTOR,
    NOW,
    VALID_ID_TAG,
    boot_notification,
    heartbeat,
    status,
)
from conformance.steps import ExpectCall, Operator, Reconnect, Send

S = "10.4"
SUFFIX = REGISTRATION
PENDING = [Operator.set_boot_policy("PendingOnce")]
REJECTED = [Operator.set_boot_policy("RejectedOnce")]
RESET = [Operator.set_boot_policy(None)]

START = {"connectorId": CONNECTOR, "idTag": VALID_ID_TAG, "meterStart": 0, "timestamp": NOW}

SCENARIOS = [
    row(
        __name__,
        "RB-68",
        "StatusNotification from an identity that never booted",
        [
            Send(
                "StatusNotification",
                {"connectorId": 0, "errorCode": "NoError", "status": "Available", "timestamp": NOW},
                expect_error="SecurityError",
            )
        ],
        suffix=NEVER_BOOTED,
        section=S,
        source="#68; design decision 6",
        expected="CALLERROR SecurityError",
    ),
    row(
        __name__,
        "RB-69A",
        "StartTransaction from a Pending charger, unprompted",
        [boot_notification("Pending"), Send("StartTransaction", START, expect_error="SecurityError")],
        suffix=SUFFIX,
        section=S,
        source="#69; design decision 6",
        expected="CALLERROR SecurityError",
        setup=PENDING,
        teardown=RESET,
    ),
    row(
        __name__,
        "RB-69B",
        "Authorize from a Pending charger, unprompted",
        [
            boot_notification("Pending"),
            Send("Authorize", {"idTag": VALID_ID_TAG}, expect_error="SecurityError"),
        ],
        suffix=SUFFIX,
        section=S,
        source="#69; design decision 6",
        expected="CALLERROR SecurityError",
        setup=PENDING,
        teardown=RESET,
    ),
    row(
        __name__,
        "RB-70",
        "StatusNotification from a Pending charger after TriggerMessage(StatusNotification)",
        [
            boot_notification("Pending"),
            ExpectCall(
                "TriggerMessage",
                trigger=Operator.request(
                    "TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": CONNECTOR}
                ),
                answer={"status": "Accepted"},
            ),
            status("Available", note="the triggered message"),
        ],
        suffix=SUFFIX,
        section=S,
        source="#70; design decision 6; C §5.17",
        expected="StatusNotification.conf (the triggered message passes the gate)",
        setup=PENDING,
        teardown=RESET,
    ),
    row(
        __name__,
        "RB-72",
        "Heartbeat from a Rejected charger before its interval",
        [boot_notification("Rejected"), Send("Heartbeat", {}, expect_error="SecurityError")],
        suffix=SUFFIX,
        section=S,
        source="#72; design decision 6",
        expected="CALLERROR SecurityError",
        setup=REJECTED,
        teardown=RESET,
    ),
    row(
        __name__,
        "RB-73",
        "Accepted charger reconnects without BootNotification",
        [
            Reconnect("network outage; no reboot, so no BootNotification (J §5.4)"),
            heartbeat(),
            status("Available"),
        ],
        suffix=SUFFIX,
        section=S,
        source="#73; design decision 6; R1.28",
        expected="Heartbeat.conf and StatusNotification.conf: the registration survived the reconnect",
        before=[BOOTED],
    ),
    row(
        __name__,
        "RB-74",
        "BootNotification again while Accepted (reboot)",
        [boot_notification("Accepted")],
        suffix=SUFFIX,
        section=S,
        source="#74",
        expected="BootNotification.conf Accepted",
        before=[BOOTED],
    ),
    row(
        __name__,
        "RB-75",
        "Operator asks for RemoteStartTransaction to a Pending charger",
        [
            boot_notification("Pending"),
            ExpectOperatorRefusal(
                "RemoteStartTransaction", {"idTag": VALID_ID_TAG, "connectorId": CONNECTOR}
            ),
        ],
        suffix=SUFFIX,
        section=S,
        source="#75; C §4.2",
        expected="the CSMS refuses to send it (operator error); the charger receives nothing",
        setup=PENDING,
        teardown=RESET,
    ),
    group_check(__name__, "RB-75-OK", "Registration", suffix=SUFFIX, section=S),
]
