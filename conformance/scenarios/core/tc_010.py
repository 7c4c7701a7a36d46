"""TC_010_CSMS — Remote Start Charging Session – Cable Plugged in First (§3.4.1, Tbl 129).

Preparing; OP: remote start — the CSMS sends RemoteStartTransaction (idTag = the valid idTag; connectorId
optional and not validated) and the charger answers Accepted; as with AuthorizeRemoteTxRequests = true
it then sends Authorize [V] Accepted, StartTransaction [V] Accepted, and Charging.
"""

from conformance.states import CONNECTOR, VALID_ID_TAG, authorize, start_transaction, status
from conformance.steps import Equals, ExpectCall, Operator

ID = "TC_010_CSMS"
TITLE = "Remote Start Charging Session – Cable Plugged in First"
PROFILE = "Core"
SECTION = "3.4.1"
SOURCE = "Tbl 129"

STEPS = [
    status("Preparing", note="cable plugged in"),
    ExpectCall(
        "RemoteStartTransaction",
        trigger=Operator.request("RemoteStartTransaction", {"idTag": VALID_ID_TAG, "connectorId": CONNECTOR}),
        checks=[Equals("idTag", VALID_ID_TAG)],
        answer={"status": "Accepted"},
    ),
    authorize(),
    start_transaction(),
    status("Charging"),
]
