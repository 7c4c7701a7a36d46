"""How the Central System decides registration and authorization, and what it remembers per charger
identity between connections. Plain data, no I/O: the operator API changes it at run time, the TOML
configuration seeds it.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from engine.protocol.connection import RecentReplies


class BootPolicy(enum.StrEnum):
    """What BootNotification is answered with (AQ-1: "first respond with Pending or Rejected").

    The ``…Once`` forms answer a charger's first BootNotification with Pending/Rejected and every later
    one with Accepted: the shape of the OCA boot cases (Pending then Accepted; Rejected, retry after the
    interval, Accepted).
    """

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"
    PENDING_ONCE = "PendingOnce"
    REJECTED_ONCE = "RejectedOnce"

    def answer(self, previous: str | None, *, armed: bool = False) -> str:
        """The registration status to answer, given the charger's stored one (None: never booted).

        ``armed``: the operator set this policy since the charger's last BootNotification, so a
        ``…Once`` policy applies to the next one even for a charger that booted before.
        """
        if self in (BootPolicy.PENDING_ONCE, BootPolicy.REJECTED_ONCE):
            first = "Pending" if self is BootPolicy.PENDING_ONCE else "Rejected"
            return first if previous is None or armed else "Accepted"
        return self.value


class UnknownChargerPolicy(enum.StrEnum):
    """What happens to an identity the store has never seen."""

    #: refuse the websocket upgrade with HTTP 404 (J §3.2)
    REJECT = "reject"
    #: accept the connection and register the charger; the boot policy decides its status
    REGISTER = "register"


@dataclass
class CsmsPolicy:
    """Defaults for every charger; a charger's own record may override boot policy and interval."""

    boot: BootPolicy = BootPolicy.ACCEPTED
    heartbeat_interval: int = 300
    #: the ``interval`` sent with Pending/Rejected: the minimum wait before the next BootNotification
    boot_retry_interval: int = 60
    unknown_chargers: UnknownChargerPolicy = UnknownChargerPolicy.REGISTER
    #: answer unknown idTags Accepted instead of Invalid (test harnesses; off by default)
    accept_unknown_id_tags: bool = False
    #: when set, idTagInfo.expiryDate tells the charger to keep a cached authorization at most this long
    id_tag_cache_ttl: int | None = None


@dataclass
class ChargerState:
    """What the CSMS keeps in memory per charger identity, across reconnects of that identity.

    ``registration`` mirrors the stored status (the store is the truth after a restart);
    ``triggered`` maps each message we asked for with TriggerMessage to the end of the window in which a
    Pending charger may send it (C §4.2, §5.17; rules R2.6).
    """

    charger_id: str
    registration: str | None = None
    boot_policy: BootPolicy | None = None
    heartbeat_interval: int | None = None
    flags: frozenset[str] = frozenset()
    #: set when the operator changes the boot policy; the next BootNotification consumes it
    boot_policy_armed: bool = False
    triggered: dict[str, dt.datetime] = field(default_factory=dict)
    recent: RecentReplies = field(default_factory=RecentReplies)

    @property
    def accepted(self) -> bool:
        return self.registration == "Accepted"
