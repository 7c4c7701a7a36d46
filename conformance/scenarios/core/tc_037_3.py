"""TC_037_3_CSMS — Offline Start Transaction – Invalid IdTag – StopTransactionOnInvalidId = true
(§3.12.2, Tbl 151).

Offline start with the invalid idTag, delivered late: StartTransaction [V] idTagInfo.status Invalid (the
answer still carries a transactionId); Charging; the charger stops it: StopTransaction reason
DeAuthorized; Finishing.
"""

from conformance.states import start_transaction, status, stop_transaction
from conformance.steps import Cfg, Disconnect, Now, Reconnect

ID = "TC_037_3_CSMS"
TITLE = "Offline Start Transaction – Invalid IdTag – StopTransactionOnInvalidId = true"
PROFILE = "Core"
SECTION = "3.12.2"
SOURCE = "Tbl 151"

INVALID = Cfg("id_tags.invalid")

STEPS = [
    Disconnect("connectivity lost"),
    Reconnect("connectivity restored; the transaction started meanwhile"),
    start_transaction(INVALID, expected="Invalid", timestamp=Now(-300), note="started offline"),
    status("Charging"),
    stop_transaction("DeAuthorized", id_tag=None),
    status("Finishing"),
]
