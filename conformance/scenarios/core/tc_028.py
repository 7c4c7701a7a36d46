"""TC_028_CSMS — Remote Stop Transaction – Rejected (§3.9.2, Tbl 146).

While Charging, OP: remote stop; the charger answers Rejected (the description says the transactionId is
unknown to the charger; the id is not validated). The CSMS must keep the transaction open. The runner
stops it afterwards so the next case starts clean.
"""

from conformance.states import CHARGING, TRANSACTION_ID
from conformance.steps import ExpectCall, Operator

ID = "TC_028_CSMS"
TITLE = "Remote Stop Transaction – Rejected"
PROFILE = "Core"
SECTION = "3.9.2"
SOURCE = "Tbl 146"
BEFORE = [CHARGING]

STEPS = [
    ExpectCall(
        "RemoteStopTransaction",
        trigger=Operator.request("RemoteStopTransaction", {"transactionId": TRANSACTION_ID}),
        answer={"status": "Rejected"},
    ),
]
