"""R-02 — Cold boot – Rejected then Accepted (reconstructed, octt-csms-cases.md §7; model: OCPP 2.0.1
TC_B_03_CS mirrored, 1.6 §4.2). NOT OCA text and not a certification criterion; answers AQ-1.

Setup: the operator makes the CSMS answer this charger's next BootNotification with Rejected (boot policy
``RejectedOnce``). The charger boots: [V] Rejected with currentTime and interval ≥ 0. For ``interval``
seconds the CSMS must initiate nothing (C §4.2; it may close the channel, then the charger reconnects);
the charger boots again: [V] Accepted; StatusNotification for every connector; a Heartbeat. Teardown
restores the CSMS's default boot policy.
"""

from conformance.scenarios.aq1._boot import RETRY_INTERVAL
from conformance.states import State, boot_notification, heartbeat, status_all
from conformance.steps import AtLeast, Cfg, ExpectSilence, Operator, Present, Reconnect

ID = "R-02"
TITLE = "Cold boot – Rejected then Accepted"
PROFILE = "AQ-1"
SECTION = "7"
KIND = "reconstructed"
SOURCE = "model: 2.0.1 TC_B_03_CS mirrored; 1.6 §4.2"
BEFORE: list[State] = []
SETUP = [Operator.set_boot_policy("RejectedOnce")]
TEARDOWN = [Operator.set_boot_policy(None)]

STEPS = [
    boot_notification("Rejected", checks=(Present("currentTime"), AtLeast("interval", 0))),
    ExpectSilence(
        RETRY_INTERVAL,
        "Rejected: the CSMS initiates nothing while the charger waits the interval",
        tolerate_close=True,
        cap=Cfg("max_boot_retry_wait"),
    ),
    Reconnect("the CSMS closed the channel of the Rejected charger", only_if_closed=True),
    boot_notification("Accepted"),
    status_all("Available"),
    heartbeat(),
]
