"""Security extension (Improved security for OCPP 1.6-J, Ed. 3).

The profile's actions are declared here; its handlers and state machine arrive with its issue. Until then
the charger-initiated ones are answered ``NotSupported`` by the shell (known action, no handler).
"""

from __future__ import annotations

from engine.profiles.base import HandlerRegistry
from engine.protocol.actions import Profile

ACTIONS = frozenset(
    {
        "CertificateSigned",
        "DeleteCertificate",
        "ExtendedTriggerMessage",
        "GetInstalledCertificateIds",
        "GetLog",
        "InstallCertificate",
        "LogStatusNotification",
        "SecurityEventNotification",
        "SignCertificate",
        "SignedFirmwareStatusNotification",
        "SignedUpdateFirmware",
    }
)

handlers = HandlerRegistry(Profile.SECURITY)
