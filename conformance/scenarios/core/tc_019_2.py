"""TC_019_2_CSMS — Retrieve specific configuration key (§3.7.2, Tbl 139).

OP: GetConfiguration [V] key = ["SupportedFeatureProfiles"] (configurable); the charger answers with that
key and an empty unknownKey.
"""

from typing import Any

from conformance.config import configuration_answer
from conformance.steps import Computed, Context, Equals, ExpectCall, Operator

ID = "TC_019_2_CSMS"
TITLE = "Retrieve specific configuration key"
PROFILE = "Core"
SECTION = "3.7.2"
SOURCE = "Tbl 139"

KEY_LIST = Computed(lambda ctx: [ctx.config.keys.specific_key], "[configured specific key]")


def _answer(request: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return configuration_answer(list(request.get("key", [])))


STEPS = [
    ExpectCall(
        "GetConfiguration",
        trigger=Operator.request("GetConfiguration", {"key": KEY_LIST}),
        checks=[Equals("key", KEY_LIST)],
        answer=_answer,
    ),
]
