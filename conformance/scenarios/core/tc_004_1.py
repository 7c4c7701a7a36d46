"""TC_004_1_CSMS — Regular Charging Session – Identification First (§3.2.2, Tbl 124).

The reusable states Authorized then Charging, nothing more: Authorize [V] Accepted, StartTransaction [V]
Accepted.
"""

from conformance.states import AUTHORIZED, CHARGING

ID = "TC_004_1_CSMS"
TITLE = "Regular Charging Session – Identification First"
PROFILE = "Core"
SECTION = "3.2.2"
SOURCE = "Tbl 124"

STEPS = [*AUTHORIZED.steps, *CHARGING.steps]
