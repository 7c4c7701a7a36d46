"""TC_017_1_CSMS — Unlock connector – no charging session running (Not fixed cable) (§3.6.1, Tbl 135).

OP: UnlockConnector for the configured connector; the charger answers Unlocked.
"""

from conformance.states import CONNECTOR
from conformance.steps import ExpectCall, Operator

ID = "TC_017_1_CSMS"
TITLE = "Unlock connector – no charging session running (Not fixed cable)"
PROFILE = "Core"
SECTION = "3.6.1"
SOURCE = "Tbl 135"

STEPS = [
    ExpectCall(
        "UnlockConnector",
        trigger=Operator.request("UnlockConnector", {"connectorId": CONNECTOR}),
        answer={"status": "Unlocked"},
    ),
]
