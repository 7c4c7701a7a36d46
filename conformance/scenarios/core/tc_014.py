"""TC_014_CSMS — Soft Reset (§3.5.2, Tbl 134).

As TC_013 with [V] Reset type Soft.
"""

from conformance.states import reboot
from conformance.steps import Equals, ExpectCall, Operator

ID = "TC_014_CSMS"
TITLE = "Soft Reset"
PROFILE = "Core"
SECTION = "3.5.2"
SOURCE = "Tbl 134"

STEPS = [
    ExpectCall(
        "Reset",
        trigger=Operator.request("Reset", {"type": "Soft"}),
        checks=[Equals("type", "Soft")],
        answer={"status": "Accepted"},
    ),
    reboot(reason="soft reset"),
]
