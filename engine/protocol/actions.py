"""The OCPP 1.6-J action catalogue: every action, the direction its CALL travels, and its feature profile.

28 actions come from OCPP 1.6 edition 2, 11 from "Improved security for OCPP 1.6-J" Ed. 3. ``schemas/``
holds one request and one response schema for each. Action names are case-sensitive (J §4.2.1):
``bootnotification`` is not an action.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Direction(enum.Flag):
    """Who may send the CALL of an action. DataTransfer goes both ways."""

    CP_TO_CSMS = enum.auto()
    CSMS_TO_CP = enum.auto()
    BOTH = CP_TO_CSMS | CSMS_TO_CP


class Profile(enum.StrEnum):
    """The OCPP 1.6 feature profiles, plus the security whitepaper extension."""

    CORE = "Core"
    FIRMWARE = "FirmwareManagement"
    LOCAL_AUTH = "LocalAuthListManagement"
    RESERVATION = "Reservation"
    SMART_CHARGING = "SmartCharging"
    REMOTE_TRIGGER = "RemoteTrigger"
    SECURITY = "Security"


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str
    direction: Direction
    profile: Profile


_CP = Direction.CP_TO_CSMS
_CS = Direction.CSMS_TO_CP

ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        # Core (C §4, §5)
        ActionSpec("Authorize", _CP, Profile.CORE),
        ActionSpec("BootNotification", _CP, Profile.CORE),
        ActionSpec("ChangeAvailability", _CS, Profile.CORE),
        ActionSpec("ChangeConfiguration", _CS, Profile.CORE),
        ActionSpec("ClearCache", _CS, Profile.CORE),
        ActionSpec("DataTransfer", Direction.BOTH, Profile.CORE),
        ActionSpec("GetConfiguration", _CS, Profile.CORE),
        ActionSpec("Heartbeat", _CP, Profile.CORE),
        ActionSpec("MeterValues", _CP, Profile.CORE),
        ActionSpec("RemoteStartTransaction", _CS, Profile.CORE),
        ActionSpec("RemoteStopTransaction", _CS, Profile.CORE),
        ActionSpec("Reset", _CS, Profile.CORE),
        ActionSpec("StartTransaction", _CP, Profile.CORE),
        ActionSpec("StatusNotification", _CP, Profile.CORE),
        ActionSpec("StopTransaction", _CP, Profile.CORE),
        ActionSpec("UnlockConnector", _CS, Profile.CORE),
        # Firmware Management
        ActionSpec("GetDiagnostics", _CS, Profile.FIRMWARE),
        ActionSpec("DiagnosticsStatusNotification", _CP, Profile.FIRMWARE),
        ActionSpec("FirmwareStatusNotification", _CP, Profile.FIRMWARE),
        ActionSpec("UpdateFirmware", _CS, Profile.FIRMWARE),
        # Local Authorization List Management
        ActionSpec("GetLocalListVersion", _CS, Profile.LOCAL_AUTH),
        ActionSpec("SendLocalList", _CS, Profile.LOCAL_AUTH),
        # Reservation
        ActionSpec("CancelReservation", _CS, Profile.RESERVATION),
        ActionSpec("ReserveNow", _CS, Profile.RESERVATION),
        # Smart Charging
        ActionSpec("ClearChargingProfile", _CS, Profile.SMART_CHARGING),
        ActionSpec("GetCompositeSchedule", _CS, Profile.SMART_CHARGING),
        ActionSpec("SetChargingProfile", _CS, Profile.SMART_CHARGING),
        # Remote Trigger
        ActionSpec("TriggerMessage", _CS, Profile.REMOTE_TRIGGER),
        # Security extension (whitepaper Ed. 3)
        ActionSpec("CertificateSigned", _CS, Profile.SECURITY),
        ActionSpec("DeleteCertificate", _CS, Profile.SECURITY),
        ActionSpec("ExtendedTriggerMessage", _CS, Profile.SECURITY),
        ActionSpec("GetInstalledCertificateIds", _CS, Profile.SECURITY),
        ActionSpec("GetLog", _CS, Profile.SECURITY),
        ActionSpec("InstallCertificate", _CS, Profile.SECURITY),
        ActionSpec("LogStatusNotification", _CP, Profile.SECURITY),
        ActionSpec("SecurityEventNotification", _CP, Profile.SECURITY),
        ActionSpec("SignCertificate", _CP, Profile.SECURITY),
        ActionSpec("SignedFirmwareStatusNotification", _CP, Profile.SECURITY),
        ActionSpec("SignedUpdateFirmware", _CS, Profile.SECURITY),
    )
}


def sent_by_charger(action: str) -> bool:
    """True when a charge point may send this action's CALL to the CSMS."""
    spec = ACTIONS.get(action)
    return spec is not None and bool(spec.direction & Direction.CP_TO_CSMS)


def sent_by_csms(action: str) -> bool:
    """True when the CSMS may send this action's CALL to a charge point."""
    spec = ACTIONS.get(action)
    return spec is not None and bool(spec.direction & Direction.CSMS_TO_CP)
