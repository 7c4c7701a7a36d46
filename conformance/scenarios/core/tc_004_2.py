"""TC_004_2_CSMS — Regular Charging Session – Identification First – ConnectionTimeOut (§3.2.3, Tbl 125).

After Authorized: Preparing; the charger's own ConnectionTimeOut passes with no cable; Available. The CSMS
must acknowledge both without an open transaction and time nothing out itself.
"""

from conformance.states import AUTHORIZED, status
from conformance.steps import Cfg, Wait

ID = "TC_004_2_CSMS"
TITLE = "Regular Charging Session – Identification First – ConnectionTimeOut"
PROFILE = "Core"
SECTION = "3.2.3"
SOURCE = "Tbl 125"
BEFORE = [AUTHORIZED]

STEPS = [
    status("Preparing"),
    Wait(Cfg("connection_timeout"), "the charger's ConnectionTimeOut expires"),
    status("Available"),
]
