"""Registration (C §4.2, §4.6; rules §2; design.md decision 6).

State per charger identity: never booted (None) → Accepted | Pending | Rejected, decided by the boot
policy (the charger's own, else the default). The status is persisted by ``record_boot`` before the answer
leaves, so it survives reconnects and restarts: a charger that reconnects without BootNotification is
still Accepted (J §5.4, R1.28).

Gate for incoming CALLs (R2.7): while not Accepted only BootNotification passes, plus — for a Pending
charger — a message we asked for with TriggerMessage/ExtendedTriggerMessage within
:data:`TRIGGER_WINDOW` (R2.6). Everything else gets ``SecurityError`` and no side effect.

Gate for outgoing CALLs (C §4.2): a Rejected or never-booted charger gets nothing; a Pending one only what
reads or changes configuration, triggers messages, provisions security material or reboots it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.clock import format_timestamp
from engine.policy import ChargerState
from engine.profiles.base import ChargerContext, Payload, RefusedByStateError
from engine.profiles.core._registry import handlers
from engine.protocol.errors import ErrorCode, RemoteOcppError

#: how long after we send a TriggerMessage a Pending charger may send the requested message
TRIGGER_WINDOW = dt.timedelta(seconds=120)

#: what the CSMS may send to a Pending charger (C §4.2: "retrieve or change configuration"; triggers;
#: security provisioning during onboarding, S A00.FR.806; Reset to recover a stuck charger)
ALLOWED_WHILE_PENDING = frozenset(
    {
        "GetConfiguration",
        "ChangeConfiguration",
        "TriggerMessage",
        "ExtendedTriggerMessage",
        "CertificateSigned",
        "InstallCertificate",
        "GetInstalledCertificateIds",
        "DeleteCertificate",
        "DataTransfer",
        "Reset",
    }
)

#: ExtendedTriggerMessage names the message it triggers differently from the CALL's action
_EXTENDED_TRIGGER_ACTIONS = {
    "SignChargePointCertificate": "SignCertificate",
    "FirmwareStatusNotification": "SignedFirmwareStatusNotification",
}


@handlers.handles("BootNotification")
async def boot_notification(ctx: ChargerContext, payload: Payload) -> Payload:
    charger = ctx.charger
    policy = charger.boot_policy or ctx.policy.boot
    status = policy.answer(charger.registration, armed=charger.boot_policy_armed)
    now = format_timestamp(ctx.utc_now())
    await ctx.run_store(lambda: ctx.store.record_boot(ctx.charger_id, payload, status, now))
    charger.registration = status
    charger.boot_policy_armed = False
    if status == "Accepted":
        interval = charger.heartbeat_interval or ctx.policy.heartbeat_interval
    else:
        interval = ctx.policy.boot_retry_interval
    return {"status": status, "currentTime": now, "interval": interval}


@handlers.handles("Heartbeat")
async def heartbeat(ctx: ChargerContext, payload: Payload) -> Payload:
    del payload
    now = format_timestamp(ctx.utc_now())
    ctx.note_seen(now)
    return {"currentTime": now}


def admit_incoming(charger: ChargerState, action: str, now: dt.datetime) -> None:
    """Raise ``SecurityError`` unless ``action`` may be processed in the charger's registration state."""
    if charger.accepted or action == "BootNotification":
        return
    if charger.registration == "Pending":
        expires = charger.triggered.get(action)
        if expires is not None and now <= expires:
            return
    state = charger.registration or "not registered"
    raise RemoteOcppError(
        ErrorCode.SECURITY_ERROR,
        f"{action} refused: registration status is {state}; only BootNotification is accepted",
    )


def admit_outgoing(charger: ChargerState, action: str, payload: Payload, now: dt.datetime) -> None:
    """Raise :class:`RefusedByStateError` when the charger's state forbids this CALL; otherwise note
    what a trigger will make the charger send (before sending: its answer may overtake the conf)."""
    if not charger.accepted:
        if charger.registration != "Pending":
            state = charger.registration or "not registered"
            raise RefusedByStateError(f"{action} not sent: charger registration is {state}")
        if action not in ALLOWED_WHILE_PENDING:
            raise RefusedByStateError(f"{action} not sent: charger is Pending (C §4.2)")
    triggered = _triggered_action(action, payload)
    if triggered is not None:
        charger.triggered[triggered] = now + TRIGGER_WINDOW


def observe_answer(charger: ChargerState, action: str, payload: Payload, answer: Payload | None) -> None:
    """After a CALL ends: a trigger that was not Accepted opens no window."""
    triggered = _triggered_action(action, payload)
    if triggered is not None and (answer is None or answer.get("status") != "Accepted"):
        charger.triggered.pop(triggered, None)


def _triggered_action(action: str, payload: dict[str, Any]) -> str | None:
    if action not in ("TriggerMessage", "ExtendedTriggerMessage"):
        return None
    requested = payload.get("requestedMessage")
    if not isinstance(requested, str):
        return None
    if action == "ExtendedTriggerMessage":
        return _EXTENDED_TRIGGER_ACTIONS.get(requested, requested)
    return requested
