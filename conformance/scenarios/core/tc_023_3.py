"""TC_023_3_CSMS — Start Charging Session – Authorize blocked (§3.8.3, Tbl 143).

Authorize with the configured blocked idTag: [V] idTagInfo.status Blocked — a proper Authorize.conf, never a
CALLERROR.

Prerequisite: the CSMS holds the idTag with status Blocked (the operator provisions it).
"""

from conformance.states import authorize
from conformance.steps import Cfg

ID = "TC_023_3_CSMS"
TITLE = "Start Charging Session – Authorize blocked"
PROFILE = "Core"
SECTION = "3.8.3"
SOURCE = "Tbl 143"

STEPS = [authorize(Cfg("id_tags.blocked"), expected="Blocked")]
