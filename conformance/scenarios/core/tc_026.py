"""TC_026_CSMS — Remote Start Charging Session – Rejected (§3.9.1, Tbl 145).

OP: remote start; the charger answers Rejected. The CSMS must surface the rejection and leave no phantom
transaction (nothing follows on the wire).
"""

from conformance.states import CONNECTOR, VALID_ID_TAG
from conformance.steps import ExpectCall, Operator

ID = "TC_026_CSMS"
TITLE = "Remote Start Charging Session – Rejected"
PROFILE = "Core"
SECTION = "3.9.1"
SOURCE = "Tbl 145"

STEPS = [
    ExpectCall(
        "RemoteStartTransaction",
        trigger=Operator.request("RemoteStartTransaction", {"idTag": VALID_ID_TAG, "connectorId": CONNECTOR}),
        answer={"status": "Rejected"},
    ),
]
