"""TC_012_CSMS — Remote Stop Charging Session (§3.4.4, Tbl 132).

While Charging, OP: remote stop — RemoteStopTransaction for the running transaction (the transactionId
the CSMS assigned in the Charging state), answered Accepted; StopTransaction reason Remote; Finishing;
the cable is removed: Available.
"""

from conformance.states import CHARGING, TRANSACTION_ID, status, stop_transaction
from conformance.steps import Equals, ExpectCall, Operator

ID = "TC_012_CSMS"
TITLE = "Remote Stop Charging Session"
PROFILE = "Core"
SECTION = "3.4.4"
SOURCE = "Tbl 132"
BEFORE = [CHARGING]

STEPS = [
    ExpectCall(
        "RemoteStopTransaction",
        trigger=Operator.request("RemoteStopTransaction", {"transactionId": TRANSACTION_ID}),
        checks=[Equals("transactionId", TRANSACTION_ID)],
        answer={"status": "Accepted"},
    ),
    stop_transaction("Remote"),
    status("Finishing"),
    status("Available", note="cable removed"),
]
