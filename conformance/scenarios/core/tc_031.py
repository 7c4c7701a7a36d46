"""TC_031_CSMS — Unlock Connector – Unknown Connector (§3.10.2, Tbl 148).

OP: UnlockConnector for a connector the charger does not have (the CSMS must allow a connectorId it has
not seen); the charger answers NotSupported.
"""

from conformance.steps import Cfg, ExpectCall, Operator

ID = "TC_031_CSMS"
TITLE = "Unlock Connector – Unknown Connector"
PROFILE = "Core"
SECTION = "3.10.2"
SOURCE = "Tbl 148"

STEPS = [
    ExpectCall(
        "UnlockConnector",
        trigger=Operator.request("UnlockConnector", {"connectorId": Cfg("the_unknown_connector")}),
        answer={"status": "NotSupported"},
    ),
]
