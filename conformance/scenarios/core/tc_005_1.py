"""TC_005_1_CSMS — EV Side Disconnected, StopTransactionOnEVSideDisconnect = true,
UnlockConnectorOnEVSideDisconnect = true (§3.2.4, Tbl 126).

While Charging the EV unplugs: SuspendedEV; StopTransaction reason EVDisconnected (a returned idTagInfo
must be Accepted, S3); Finishing; the cable is removed: Available.
"""

from conformance.states import CHARGING, status, stop_transaction

ID = "TC_005_1_CSMS"
TITLE = "EV Side Disconnected – StopTransactionOnEVSideDisconnect = true"
PROFILE = "Core"
SECTION = "3.2.4"
SOURCE = "Tbl 126"
BEFORE = [CHARGING]

STEPS = [
    status("SuspendedEV", note="EV side unplugged"),
    stop_transaction("EVDisconnected"),
    status("Finishing"),
    status("Available", note="cable removed at the charger"),
]
