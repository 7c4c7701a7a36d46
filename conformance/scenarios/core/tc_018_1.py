"""TC_018_1_CSMS — Unlock Connector – With Charging Session (Not fixed cable) (§3.6.3, Tbl 137).

While Charging, OP: UnlockConnector, answered Unlocked; Finishing; StopTransaction reason UnlockCommand;
the cable is removed: Available.
"""

from conformance.states import CHARGING, CONNECTOR, status, stop_transaction
from conformance.steps import ExpectCall, Operator

ID = "TC_018_1_CSMS"
TITLE = "Unlock Connector – With Charging Session (Not fixed cable)"
PROFILE = "Core"
SECTION = "3.6.3"
SOURCE = "Tbl 137"
BEFORE = [CHARGING]

STEPS = [
    ExpectCall(
        "UnlockConnector",
        trigger=Operator.request("UnlockConnector", {"connectorId": CONNECTOR}),
        answer={"status": "Unlocked"},
    ),
    status("Finishing"),
    stop_transaction("UnlockCommand"),
    status("Available", note="cable removed"),
]
