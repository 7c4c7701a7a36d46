"""TC_037_1_CSMS — Offline Start Transaction – Valid IdTag (§3.12.1, Tbl 150).

The connection drops; the driver starts a transaction offline; the connection comes back (no reboot, so no
BootNotification): StartTransaction with the valid idTag and a timestamp in the past [V] Accepted;
Charging.
"""

from conformance.states import start_transaction, status
from conformance.steps import Disconnect, Now, Reconnect

ID = "TC_037_1_CSMS"
TITLE = "Offline Start Transaction – Valid IdTag"
PROFILE = "Core"
SECTION = "3.12.1"
SOURCE = "Tbl 150"

STEPS = [
    Disconnect("connectivity lost"),
    Reconnect("connectivity restored; the transaction started meanwhile"),
    start_transaction(timestamp=Now(-300), note="started offline five minutes ago"),
    status("Charging"),
]
