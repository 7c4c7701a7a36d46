"""TC_013_CSMS — Hard Reset (§3.5.1, Tbl 133).

OP: Reset [V] type Hard, answered Accepted; the charger restarts (a new connection), BootNotification [V]
Accepted, StatusNotification Available for every connector and connectorId 0.
"""

from conformance.states import reboot
from conformance.steps import Equals, ExpectCall, Operator

ID = "TC_013_CSMS"
TITLE = "Hard Reset"
PROFILE = "Core"
SECTION = "3.5.1"
SOURCE = "Tbl 133"

STEPS = [
    ExpectCall(
        "Reset",
        trigger=Operator.request("Reset", {"type": "Hard"}),
        checks=[Equals("type", "Hard")],
        answer={"status": "Accepted"},
    ),
    reboot(reason="hard reset"),
]
