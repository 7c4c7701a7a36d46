"""R-01 — Cold boot – Pending then Accepted (reconstructed, octt-csms-cases.md §7; model: OCPP 2.0.1
TC_B_02_CSMS and 1.6 TC_002_CS). NOT OCA text and not a certification criterion; answers AQ-1.

Setup: the operator makes the CSMS answer this charger's next BootNotification with Pending (boot policy
``PendingOnce``). The charger boots: [V] Pending with currentTime and interval ≥ 0. While Pending the
operator reads and changes configuration (GetConfiguration, ChangeConfiguration — allowed while Pending,
C §4.2); then the CSMS stays silent (no RemoteStart/Stop or anything else) until ``interval`` has passed;
the charger boots again: [V] Accepted; StatusNotification for every connector; a Heartbeat. Teardown
restores the CSMS's default boot policy.
"""

from typing import Any

from conformance.config import configuration_answer
from conformance.scenarios.aq1._boot import RETRY_INTERVAL
from conformance.states import State, boot_notification, heartbeat, status_all
from conformance.steps import AtLeast, Cfg, Context, Equals, ExpectCall, ExpectSilence, Operator, Present

ID = "R-01"
TITLE = "Cold boot – Pending then Accepted"
PROFILE = "AQ-1"
SECTION = "7"
KIND = "reconstructed"
SOURCE = "model: 2.0.1 TC_B_02_CSMS; 1.6 TC_002_CS"
BEFORE: list[State] = []
SETUP = [Operator.set_boot_policy("PendingOnce")]
TEARDOWN = [Operator.set_boot_policy(None)]

KEY = Cfg("keys.change_key")
VALUE = Cfg("keys.change_value")


def _configuration(request: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return configuration_answer(list(request.get("key", [])))


STEPS = [
    boot_notification("Pending", checks=(Present("currentTime"), AtLeast("interval", 0))),
    ExpectCall(
        "GetConfiguration",
        trigger=Operator.request("GetConfiguration", {}),
        answer=_configuration,
    ),
    ExpectCall(
        "ChangeConfiguration",
        trigger=Operator.request("ChangeConfiguration", {"key": KEY, "value": VALUE}),
        checks=[Equals("key", KEY), Equals("value", VALUE)],
        answer={"status": "Accepted"},
    ),
    ExpectSilence(
        RETRY_INTERVAL,
        "Pending: the charger waits the interval; the CSMS sends nothing unasked",
        cap=Cfg("max_boot_retry_wait"),
    ),
    boot_notification("Accepted"),
    status_all("Available"),
    heartbeat(),
]
