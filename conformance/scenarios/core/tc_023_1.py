"""TC_023_1_CSMS — Start Charging Session – Authorize invalid (§3.8.1, Tbl 141).

Authorize with the configured invalid idTag: [V] idTagInfo.status Invalid — a proper Authorize.conf, never a
CALLERROR. An idTag the CSMS does not know must be answered Invalid too.
"""

from conformance.states import authorize
from conformance.steps import Cfg

ID = "TC_023_1_CSMS"
TITLE = "Start Charging Session – Authorize invalid"
PROFILE = "Core"
SECTION = "3.8.1"
SOURCE = "Tbl 141"

STEPS = [authorize(Cfg("id_tags.invalid"), expected="Invalid")]
