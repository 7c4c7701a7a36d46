"""TC_021_CSMS — Change/set Configuration (§3.7.3, Tbl 140).

OP: ChangeConfiguration [V] key MeterValueSampleInterval, value "60"; answered Accepted. Per §4.6 the
CSMS must not follow up with an automatic GetConfiguration (the end-of-case check catches one).
"""

from conformance.steps import Cfg, Equals, ExpectCall, Operator

ID = "TC_021_CSMS"
TITLE = "Change/set Configuration"
PROFILE = "Core"
SECTION = "3.7.3"
SOURCE = "Tbl 140"

KEY = Cfg("keys.change_key")
VALUE = Cfg("keys.change_value")

STEPS = [
    ExpectCall(
        "ChangeConfiguration",
        trigger=Operator.request("ChangeConfiguration", {"key": KEY, "value": VALUE}),
        checks=[Equals("key", KEY), Equals("value", VALUE)],
        answer={"status": "Accepted"},
    ),
]
