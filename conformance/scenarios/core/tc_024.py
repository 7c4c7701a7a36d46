"""TC_024_CSMS — Start Charging Session Lock Failure (§3.8.4, Tbl 144).

After Authorized: Preparing; the cable is plugged in but cannot be locked: StatusNotification Faulted with
errorCode ConnectorLockFailure. The CSMS must store or show the fault without breaking.
"""

from conformance.states import AUTHORIZED, status

ID = "TC_024_CSMS"
TITLE = "Start Charging Session Lock Failure"
PROFILE = "Core"
SECTION = "3.8.4"
SOURCE = "Tbl 144"
BEFORE = [AUTHORIZED]

STEPS = [
    status("Preparing"),
    status("Faulted", error_code="ConnectorLockFailure", note="cable plugged in, lock failed"),
]
