"""TC_017_2_CSMS — Unlock connector – no charging session running (Fixed cable) (§3.6.2, Tbl 136).

OP: UnlockConnector; the charger (fixed cable) answers NotSupported, which the CSMS must handle.
"""

from conformance.states import CONNECTOR
from conformance.steps import ExpectCall, Operator

ID = "TC_017_2_CSMS"
TITLE = "Unlock connector – no charging session running (Fixed cable)"
PROFILE = "Core"
SECTION = "3.6.2"
SOURCE = "Tbl 136"

STEPS = [
    ExpectCall(
        "UnlockConnector",
        trigger=Operator.request("UnlockConnector", {"connectorId": CONNECTOR}),
        answer={"status": "NotSupported"},
    ),
]
