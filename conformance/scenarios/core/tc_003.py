"""TC_003_CSMS — Regular Charging Session – Plugin First (§3.2.1, Tbl 123).

EV plugs in (Preparing), the driver presents the valid idTag: Authorize [V] Accepted; StartTransaction
[V] Accepted with a transactionId; StatusNotification Charging.
"""

from conformance.states import authorize, start_transaction, status

ID = "TC_003_CSMS"
TITLE = "Regular Charging Session – Plugin First"
PROFILE = "Core"
SECTION = "3.2.1"
SOURCE = "Tbl 123"

STEPS = [
    status("Preparing", note="EV plugged in"),
    authorize(),
    start_transaction(),
    status("Charging"),
]
