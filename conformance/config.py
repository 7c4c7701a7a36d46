"""The run configuration: the values the OCTT asks for before a run (octt-csms-cases.md §4.4).

Every field has a default, so ``RunConfig()`` runs the Core and AQ-1 cases against an ocpp-trio whose
operator API provisions the same values (:meth:`conformance.operators.OperatorAdapter.provision`). A
vendor testing another CSMS provisions them by hand (the README lists them) or writes a TOML file::

    charger_id = "CP-1"
    vendor = "ACME"
    model = "Wallbox 7"
    connector_id = 1

    [id_tags]
    valid = "04A2B3C4D5"
    invalid = "DEADBEEF00"
    expired = "0400000007"
    blocked = "0400000006"
    parent = "GROUP-1"

Unknown keys are refused with an error naming them: a misspelt idTag that silently falls back to its
default would make a case fail for the wrong reason.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: OCPP-J's response timeout; the OCTT waits as long for every answer (§4.5).
DEFAULT_RESPONSE_TIMEOUT = 30.0


class RunConfigError(ValueError):
    """The run configuration file is unreadable, or holds an unknown key or a bad value."""


@dataclass(frozen=True, slots=True)
class IdTags:
    """The idTags the CSMS must know (§4.4), and what each must be answered with."""

    valid: str = "CT-VALID-01"
    #: a second valid idTag sharing :attr:`parent` with :attr:`valid` (TC_053, Reservation)
    valid_2: str = "CT-VALID-02"
    #: unknown to the CSMS, or stored as Invalid: both must give ``Invalid`` (TC_023_1, TC_037_3)
    invalid: str = "CT-INVALID-01"
    expired: str = "CT-EXPIRED-01"
    blocked: str = "CT-BLOCKED-01"
    parent: str = "CT-GROUP-01"

    def provisioning(self) -> list[dict[str, str | None]]:
        """What the CSMS must hold: ``{"idTag", "status", "expiryDate", "parentIdTag"}`` per tag.

        The invalid idTag is deliberately absent: a CSMS must answer an unknown tag with Invalid.
        """
        return [
            {"idTag": self.valid, "status": "Accepted", "expiryDate": None, "parentIdTag": self.parent},
            {"idTag": self.valid_2, "status": "Accepted", "expiryDate": None, "parentIdTag": self.parent},
            {
                "idTag": self.expired,
                "status": "Expired",
                "expiryDate": "2020-01-01T00:00:00Z",
                "parentIdTag": None,
            },
            {"idTag": self.blocked, "status": "Blocked", "expiryDate": None, "parentIdTag": None},
        ]


@dataclass(frozen=True, slots=True)
class ConfigurationKeys:
    """The configuration keys and values the operator steps of TC_019_2, TC_021 and TC_040_x use."""

    #: TC_019_2: the key the CSMS must ask for (validated)
    specific_key: str = "SupportedFeatureProfiles"
    #: TC_021: the key and value the CSMS must set (both validated)
    change_key: str = "MeterValueSampleInterval"
    change_value: str = "60"
    #: TC_040_1: a key the simulated charger does not support (answered NotSupported)
    unsupported_key: str = "Testing"
    unsupported_value: str = "1"
    #: TC_040_2: an invalid value for MeterValueSampleInterval (answered Rejected)
    invalid_value: str = "-1"


@dataclass(frozen=True, slots=True)
class RunConfig:
    """One run's settings. Frozen: the runner shares it between cases."""

    charger_id: str = "CP-1"
    vendor: str = "ocpp-trio"
    model: str = "Conformance-CP"
    serial_number: str = "CT-0001"
    firmware_version: str = "1.0.0"
    #: the connector the charging cases use (``<Configured ConnectorId>``)
    connector_id: int = 1
    #: connectors the simulated charger has; Booted reports each of them plus connectorId 0
    number_of_connectors: int = 1
    #: TC_031: a connector the charger does not have (default: one past the last)
    unknown_connector_id: int | None = None
    id_tags: IdTags = field(default_factory=IdTags)
    keys: ConfigurationKeys = field(default_factory=ConfigurationKeys)
    #: TC_064: a vendorId the CSMS has no DataTransfer handler for
    data_transfer_vendor_id: str = "org.example.conformance.unknown"
    data_transfer_message_id: str = "TestMessage"
    #: every CSMS answer must arrive within this (OCPP-J response timeout)
    response_timeout: float = DEFAULT_RESPONSE_TIMEOUT
    #: how long an expect step waits for a CSMS-initiated CALL (the OCTT's message timeout)
    call_window: float = DEFAULT_RESPONSE_TIMEOUT
    #: the simulated charger's own ConnectionTimeOut (TC_004_2, TC_011_2)
    connection_timeout: float = 5.0
    #: TC_001: really wait ``interval`` before the Heartbeat (slow against a real CSMS); off: send at once
    heartbeat_wait: bool = False
    #: TC_001: when set, BootNotification.conf must carry exactly this heartbeat interval
    expected_heartbeat_interval: int | None = None
    #: ocpp-trio operator: per-charger heartbeat interval to provision (None: leave the CSMS default)
    heartbeat_interval: int | None = None
    #: AQ-1: wait at most this long for a Pending/Rejected ``interval`` before booting again
    max_boot_retry_wait: float = 300.0
    #: AQ-1: how long to wait when the CSMS sends ``interval = 0`` ("the charger chooses")
    boot_retry_when_zero: float = 5.0
    #: a CALL from the CSMS that no step expects fails the case (the OCTT breaks on them, §4.5/§4.6)
    allow_unsolicited_calls: bool = False
    #: upper bound for a whole case, a safety net against a scenario that never ends
    case_timeout: float = 900.0
    #: robustness rows: how long "no reply" must last before the connection is proven alive again
    robustness_silence: float = 2.0
    #: robustness rows: unparseable frames in a row after which the CSMS closes with 1008 (decision 4)
    robustness_bad_frame_limit: int = 10
    #: robustness rows: the CSMS's maximum message size; one character more must close with 1009
    robustness_max_message_size: int = 1_048_576
    #: robustness rows: the CSMS's handshake deadline (a handshake that never completes is closed then)
    robustness_handshake_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.charger_id:
            raise RunConfigError("charger_id must not be empty")
        if self.connector_id < 1:
            raise RunConfigError("connector_id must be at least 1")
        if self.number_of_connectors < self.connector_id:
            raise RunConfigError("number_of_connectors must be at least connector_id")
        for name in (
            "response_timeout",
            "call_window",
            "case_timeout",
            "robustness_silence",
            "robustness_handshake_timeout",
        ):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise RunConfigError(f"{name} must be a positive number of seconds")
        if self.robustness_bad_frame_limit < 1 or self.robustness_max_message_size < 1:
            raise RunConfigError(
                "robustness_bad_frame_limit and robustness_max_message_size must be at least 1"
            )
        for name in ("connection_timeout", "max_boot_retry_wait", "boot_retry_when_zero"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise RunConfigError(f"{name} must not be negative")

    @property
    def connector_ids(self) -> list[int]:
        """Every connector of the simulated charger, 1..n (connectorId 0 is the charger itself)."""
        return list(range(1, self.number_of_connectors + 1))

    @property
    def the_unknown_connector(self) -> int:
        return (
            self.unknown_connector_id
            if self.unknown_connector_id is not None
            else self.number_of_connectors + 1
        )

    def provisioning(self) -> dict[str, Any]:
        """Everything an operator adapter provisions in the CSMS before the run (JSON-ready)."""
        return {
            "chargerId": self.charger_id,
            "vendor": self.vendor,
            "model": self.model,
            "idTags": self.id_tags.provisioning(),
            "heartbeatInterval": self.heartbeat_interval,
            "dataTransferVendorIdUnsupported": self.data_transfer_vendor_id,
        }


# The configuration the simulated charger reports in TC_019_1 (the OCTT document's list, §5.2): key →
# (readonly, value). Values are plausible for a one-connector AC charger.
CHARGE_POINT_CONFIGURATION: Mapping[str, tuple[bool, str]] = {
    "AuthorizeRemoteTxRequests": (False, "true"),
    "ClockAlignedDataInterval": (False, "0"),
    "ConnectionTimeOut": (False, "60"),
    "ConnectorPhaseRotation": (False, "0.RST,1.RST"),
    "GetConfigurationMaxKeys": (True, "50"),
    "HeartbeatInterval": (False, "300"),
    "LocalAuthorizeOffline": (False, "true"),
    "LocalPreAuthorize": (False, "false"),
    "MeterValuesAlignedData": (False, "Energy.Active.Import.Register"),
    "MeterValuesSampledData": (False, "Energy.Active.Import.Register"),
    "MeterValueSampleInterval": (False, "60"),
    "NumberOfConnectors": (True, "1"),
    "ResetRetries": (False, "3"),
    "StopTransactionOnEVSideDisconnect": (False, "true"),
    "StopTransactionOnInvalidId": (False, "true"),
    "StopTxnAlignedData": (False, "Energy.Active.Import.Register"),
    "StopTxnSampledData": (False, "Energy.Active.Import.Register"),
    "SupportedFeatureProfiles": (
        True,
        "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger",
    ),
    "TransactionMessageAttempts": (False, "3"),
    "TransactionMessageRetryInterval": (False, "60"),
    "UnlockConnectorOnEVSideDisconnect": (False, "true"),
    "LocalAuthListEnabled": (False, "true"),
    "LocalAuthListMaxLength": (True, "100"),
    "SendLocalListMaxLength": (True, "20"),
    "ChargeProfileMaxStackLevel": (True, "10"),
    "ChargingScheduleAllowedChargingRateUnit": (True, "Current,Power"),
    "ChargingScheduleMaxPeriods": (True, "24"),
    "MaxChargingProfilesInstalled": (True, "10"),
}


def configuration_answer(keys: list[str] | None = None) -> dict[str, Any]:
    """A GetConfiguration.conf payload: all keys, or the requested ones with the rest as unknownKey."""
    if not keys:
        wanted = list(CHARGE_POINT_CONFIGURATION)
        unknown: list[str] = []
    else:
        wanted = [key for key in keys if key in CHARGE_POINT_CONFIGURATION]
        unknown = [key for key in keys if key not in CHARGE_POINT_CONFIGURATION]
    entries = [
        {
            "key": key,
            "readonly": CHARGE_POINT_CONFIGURATION[key][0],
            "value": CHARGE_POINT_CONFIGURATION[key][1],
        }
        for key in wanted
    ]
    return {"configurationKey": entries, "unknownKey": unknown}


# ------------------------------------------------------------------------------------------- TOML loading

_NESTED: dict[str, type[Any]] = {"id_tags": IdTags, "keys": ConfigurationKeys}


def load_run_config(path: Path | None, **overrides: Any) -> RunConfig:
    """Read ``path`` (TOML) over the defaults, then apply ``overrides`` (CLI options; None values are
    ignored). Raises :class:`RunConfigError` naming the file and the key."""
    document: dict[str, Any] = {}
    if path is not None:
        try:
            with path.open("rb") as handle:
                document = tomllib.load(handle)
        except OSError as exc:
            raise RunConfigError(f"cannot read run configuration {path}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise RunConfigError(f"{path}: not valid TOML: {exc}") from None
    document.update({key: value for key, value in overrides.items() if value is not None})
    try:
        return config_from_mapping(document)
    except RunConfigError as exc:
        raise RunConfigError(f"{path}: {exc}" if path is not None else str(exc)) from None


def config_from_mapping(document: Mapping[str, Any]) -> RunConfig:
    """A :class:`RunConfig` from plain data (a parsed TOML document); unknown keys are refused."""
    fields = {f.name: f for f in dataclasses.fields(RunConfig)}
    unknown = sorted(set(document) - set(fields))
    if unknown:
        raise RunConfigError(f"unknown run configuration key(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, value in document.items():
        nested = _NESTED.get(name)
        if nested is not None:
            values[name] = _nested(name, nested, value)
        else:
            values[name] = _checked(name, fields[name].type, value)
    try:
        return RunConfig(**values)
    except TypeError as exc:  # pragma: no cover - every key was checked above
        raise RunConfigError(str(exc)) from None


def _nested(name: str, cls: type[Any], value: Any) -> Any:
    if not isinstance(value, dict):
        raise RunConfigError(f"[{name}] must be a table")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(value) - names)
    if unknown:
        raise RunConfigError(f"unknown key(s) in [{name}]: {', '.join(unknown)}")
    for key, item in value.items():
        if not isinstance(item, str) or not item:
            raise RunConfigError(f"[{name}] {key} must be a non-empty string")
    return cls(**value)


def _checked(name: str, annotation: Any, value: Any) -> Any:
    text = str(annotation)
    if "bool" in text:
        if not isinstance(value, bool):
            raise RunConfigError(f"{name} must be true or false")
        return value
    if text.startswith("float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RunConfigError(f"{name} must be a number of seconds")
        return float(value)
    if text.startswith("int"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise RunConfigError(f"{name} must be an integer")
        return value
    if text.startswith("str"):
        if not isinstance(value, str):
            raise RunConfigError(f"{name} must be a string")
        return value
    return value  # pragma: no cover - every RunConfig field type is handled above
