"""TC_007_CSMS — Regular Start Charging Session – Cached Id (§3.3.1, Tbl 127).

The idTag comes from the charger's cache, so there is no Authorize: Preparing; StartTransaction [V]
Accepted; Charging. The CSMS authorises inside StartTransaction.
"""

from conformance.states import start_transaction, status

ID = "TC_007_CSMS"
TITLE = "Regular Start Charging Session – Cached Id"
PROFILE = "Core"
SECTION = "3.3.1"
SOURCE = "Tbl 127"

STEPS = [
    status("Preparing"),
    start_transaction(note="idTag from the authorization cache, no Authorize first"),
    status("Charging"),
]
