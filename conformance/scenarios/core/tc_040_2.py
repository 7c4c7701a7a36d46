"""TC_040_2_CSMS — Configuration keys – Invalid value (§3.13.2, Tbl 154).

OP: ChangeConfiguration [V] key MeterValueSampleInterval with an invalid value (operator's choice; "-1" by
default); the charger answers Rejected.
"""

from conformance.steps import Cfg, Equals, ExpectCall, Operator

ID = "TC_040_2_CSMS"
TITLE = "Configuration keys – Invalid value"
PROFILE = "Core"
SECTION = "3.13.2"
SOURCE = "Tbl 154"

STEPS = [
    ExpectCall(
        "ChangeConfiguration",
        trigger=Operator.request(
            "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": Cfg("keys.invalid_value")}
        ),
        checks=[Equals("key", "MeterValueSampleInterval")],
        answer={"status": "Rejected"},
    ),
]
