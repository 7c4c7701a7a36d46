"""TC_030_CSMS — Unlock Connector – Unlock Failure (§3.10.1, Tbl 147).

OP: UnlockConnector; the charger answers UnlockFailed.
"""

from conformance.states import CONNECTOR
from conformance.steps import ExpectCall, Operator

ID = "TC_030_CSMS"
TITLE = "Unlock Connector – Unlock Failure"
PROFILE = "Core"
SECTION = "3.10.1"
SOURCE = "Tbl 147"

STEPS = [
    ExpectCall(
        "UnlockConnector",
        trigger=Operator.request("UnlockConnector", {"connectorId": CONNECTOR}),
        answer={"status": "UnlockFailed"},
    ),
]
