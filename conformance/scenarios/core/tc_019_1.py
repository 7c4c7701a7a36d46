"""TC_019_1_CSMS — Retrieve all configuration keys (§3.7.1, Tbl 138).

OP: GetConfiguration [V] with the key list empty or omitted; the charger answers with every key of the
OCTT document's list (readonly flags included).
"""

from conformance.config import configuration_answer
from conformance.steps import EmptyOrAbsent, ExpectCall, Operator

ID = "TC_019_1_CSMS"
TITLE = "Retrieve all configuration keys"
PROFILE = "Core"
SECTION = "3.7.1"
SOURCE = "Tbl 138"

STEPS = [
    ExpectCall(
        "GetConfiguration",
        trigger=Operator.request("GetConfiguration", {}),
        checks=[EmptyOrAbsent("key")],
        answer=configuration_answer(),
    ),
]
