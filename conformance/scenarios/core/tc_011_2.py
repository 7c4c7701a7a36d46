"""TC_011_2_CSMS — Remote Start Charging Session – Time Out (§3.4.3, Tbl 131).

OP: remote start (answered Accepted); Authorize [V] Accepted; Preparing; no cable arrives within the
charger's ConnectionTimeOut: Available. No StartTransaction follows; the CSMS must cope with a remote
start that never became a transaction.
"""

from conformance.states import CONNECTOR, VALID_ID_TAG, authorize, status
from conformance.steps import Cfg, Equals, ExpectCall, Operator, Wait

ID = "TC_011_2_CSMS"
TITLE = "Remote Start Charging Session – Time Out"
PROFILE = "Core"
SECTION = "3.4.3"
SOURCE = "Tbl 131"

STEPS = [
    ExpectCall(
        "RemoteStartTransaction",
        trigger=Operator.request("RemoteStartTransaction", {"idTag": VALID_ID_TAG, "connectorId": CONNECTOR}),
        checks=[Equals("idTag", VALID_ID_TAG)],
        answer={"status": "Accepted"},
    ),
    authorize(),
    status("Preparing"),
    Wait(Cfg("connection_timeout"), "the charger's ConnectionTimeOut expires"),
    status("Available"),
]
