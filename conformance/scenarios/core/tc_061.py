"""TC_061_CSMS — Clear Authorization Data in Authorization Cache (§3.3.2, Tbl 128).

OP: clear the cache. The CSMS sends ClearCache; the charger answers Accepted. Only the CSMS's ability to
send it is tested.
"""

from conformance.steps import ExpectCall, Operator

ID = "TC_061_CSMS"
TITLE = "Clear Authorization Data in Authorization Cache"
PROFILE = "Core"
SECTION = "3.3.2"
SOURCE = "Tbl 128"

STEPS = [
    ExpectCall("ClearCache", trigger=Operator.request("ClearCache"), answer={"status": "Accepted"}),
]
