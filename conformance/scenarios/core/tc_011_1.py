"""TC_011_1_CSMS — Remote Start Charging Session – Remote Start First (§3.4.2, Tbl 130).

OP: remote start (RemoteStartTransaction, answered Accepted); Authorize [V] Accepted; Preparing; the
cable is plugged in: StartTransaction [V] Accepted; Charging.
"""

from conformance.states import CONNECTOR, VALID_ID_TAG, authorize, start_transaction, status
from conformance.steps import Equals, ExpectCall, Operator

ID = "TC_011_1_CSMS"
TITLE = "Remote Start Charging Session – Remote Start First"
PROFILE = "Core"
SECTION = "3.4.2"
SOURCE = "Tbl 130"

STEPS = [
    ExpectCall(
        "RemoteStartTransaction",
        trigger=Operator.request("RemoteStartTransaction", {"idTag": VALID_ID_TAG, "connectorId": CONNECTOR}),
        checks=[Equals("idTag", VALID_ID_TAG)],
        answer={"status": "Accepted"},
    ),
    authorize(),
    status("Preparing"),
    start_transaction(note="cable plugged in"),
    status("Charging"),
]
