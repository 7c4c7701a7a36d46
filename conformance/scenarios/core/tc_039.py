"""TC_039_CSMS — Offline Transaction (§3.12.3, Tbl 152).

A whole transaction happens offline (started, stopped, unplugged); when the connection comes back the
charger delivers it: StartTransaction [V] Accepted, then StopTransaction reason Local, both past-dated with
stop after start.
"""

from conformance.states import start_transaction, stop_transaction
from conformance.steps import Disconnect, Now, Reconnect

ID = "TC_039_CSMS"
TITLE = "Offline Transaction"
PROFILE = "Core"
SECTION = "3.12.3"
SOURCE = "Tbl 152"

STEPS = [
    Disconnect("connectivity lost"),
    Reconnect("connectivity restored; a whole transaction happened meanwhile"),
    start_transaction(timestamp=Now(-1200), note="started offline 20 minutes ago"),
    stop_transaction("Local", timestamp=Now(-600), note="stopped offline 10 minutes ago"),
]
