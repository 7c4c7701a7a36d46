"""Core profile (C §4, §5). One handler registry, split by concern:

- ``registration``: BootNotification, Heartbeat, the registration gate for every other incoming CALL, and
  what the operator may send to a charger that is not Accepted;
- ``authorization``: Authorize and the idTagInfo every transaction message answers with;
- ``transactions``: StartTransaction, StopTransaction, MeterValues — committed before answered;
- ``connectors``: StatusNotification;
- ``data_transfer``: DataTransfer with a vendor-handler registry.
"""

from __future__ import annotations

# Importing the submodules registers their handlers.
from engine.profiles.core import authorization, connectors, data_transfer, registration, transactions
from engine.profiles.core._registry import ACTIONS as ACTIONS
from engine.profiles.core._registry import handlers as handlers

__all__ = [
    "ACTIONS",
    "authorization",
    "connectors",
    "data_transfer",
    "handlers",
    "registration",
    "transactions",
]
