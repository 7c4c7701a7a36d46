"""TC_023_2_CSMS — Start Charging Session – Authorize expired (§3.8.2, Tbl 142).

Authorize with the configured expired idTag: [V] idTagInfo.status Expired — a proper Authorize.conf, never a
CALLERROR.

Prerequisite: the CSMS holds the idTag with status Expired (the operator provisions it).
"""

from conformance.states import authorize
from conformance.steps import Cfg

ID = "TC_023_2_CSMS"
TITLE = "Start Charging Session – Authorize expired"
PROFILE = "Core"
SECTION = "3.8.2"
SOURCE = "Tbl 142"

STEPS = [authorize(Cfg("id_tags.expired"), expected="Expired")]
