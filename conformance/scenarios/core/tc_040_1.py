"""TC_040_1_CSMS — Configuration keys – NotSupported (§3.13.1, Tbl 153).

OP: ChangeConfiguration of a key the charger does not know (free text; "Testing" by default); the charger
answers NotSupported.
"""

from conformance.steps import Cfg, ExpectCall, Operator

ID = "TC_040_1_CSMS"
TITLE = "Configuration keys – NotSupported"
PROFILE = "Core"
SECTION = "3.13.1"
SOURCE = "Tbl 153"

STEPS = [
    ExpectCall(
        "ChangeConfiguration",
        trigger=Operator.request(
            "ChangeConfiguration",
            {"key": Cfg("keys.unsupported_key"), "value": Cfg("keys.unsupported_value")},
        ),
        answer={"status": "NotSupported"},
    ),
]
