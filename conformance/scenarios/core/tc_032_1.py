"""TC_032_1_CSMS — Power failure boot charging point – configured to stop transaction(s) (§3.11.1, Tbl 149).

While Charging the power fails. The charger comes back (a new connection): BootNotification [V] Accepted;
StatusNotification for connectorId 0 and every connector — Finishing for the one that was charging,
Available for the others; StopTransaction reason PowerLoss for the transaction started before the reboot.
"""

from conformance.states import CHARGING, reboot, stop_transaction

ID = "TC_032_1_CSMS"
TITLE = "Power failure boot charging point – configured to stop transaction(s)"
PROFILE = "Core"
SECTION = "3.11.1"
SOURCE = "Tbl 149"
BEFORE = [CHARGING]

STEPS = [
    reboot(busy_status="Finishing", reason="power failure"),
    stop_transaction("PowerLoss", note="the transaction from before the reboot"),
]
