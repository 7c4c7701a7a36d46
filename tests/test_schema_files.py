"""Pins the content of ``schemas/``: the 78 OCPP 1.6-J message schemas (39 actions, request and response).

The files are written by us from OCPP 1.6 edition 2 (+ errata) and "Improved security for OCPP 1.6-J" Ed. 3,
and must accept and reject exactly what the official OCA schemas do. These tests check the files themselves
(headers, keywords, shape) and a table of accept/reject samples; the engine's validator has its own tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import ValidationError
from jsonschema.validators import extend, validator_for

from engine.protocol.actions import ACTIONS, Profile

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"
DRAFT4 = "http://json-schema.org/draft-04/schema#"
DRAFT6 = "http://json-schema.org/draft-06/schema#"

SECURITY_ACTIONS = frozenset(name for name, spec in ACTIONS.items() if spec.profile is Profile.SECURITY)
SCHEMA_NAMES = sorted(action + suffix for action in ACTIONS for suffix in ("", "Response"))

# Every keyword the set uses. No minimum/maximum/pattern (the official set has none), no combinators.
ALLOWED_KEYWORDS = frozenset(
    {
        "$schema",
        "id",
        "$id",
        "title",
        "definitions",
        "$ref",
        "type",
        "properties",
        "additionalProperties",
        "required",
        "items",
        "minItems",
        "maxLength",
        "enum",
        "format",
        "multipleOf",
    }
)
FORBIDDEN_KEYWORDS = frozenset(
    {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "pattern", "minLength", "maxItems"}
)

# Where an array must have at least one element: the spec's 1..* fields, plus GetInstalledCertificateIds'
# certificateHashData (0..* in the whitepaper, but the OCA schema says "absent or non-empty").
MIN_ITEMS_PATHS = {
    "GetCompositeScheduleResponse": {"chargingSchedule.chargingSchedulePeriod"},
    "GetInstalledCertificateIdsResponse": {"certificateHashData"},
    "MeterValues": {"meterValue", "meterValue[].sampledValue"},
    "RemoteStartTransaction": {"chargingProfile.chargingSchedule.chargingSchedulePeriod"},
    "SetChargingProfile": {"csChargingProfiles.chargingSchedule.chargingSchedulePeriod"},
    "StopTransaction": {"transactionData[].sampledValue"},
}

# multipleOf 0.1 sits on the two decimals of every ChargingSchedule, and nowhere else.
MULTIPLE_OF_PATHS = {
    "GetCompositeScheduleResponse": {
        "chargingSchedule.chargingSchedulePeriod[].limit",
        "chargingSchedule.minChargingRate",
    },
    "RemoteStartTransaction": {
        "chargingProfile.chargingSchedule.chargingSchedulePeriod[].limit",
        "chargingProfile.chargingSchedule.minChargingRate",
    },
    "SetChargingProfile": {
        "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[].limit",
        "csChargingProfiles.chargingSchedule.minChargingRate",
    },
}


def _text(name: str) -> str:
    return (SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8")


@cache
def _schema(name: str) -> dict[str, Any]:
    schema = json.loads(_text(name))
    assert isinstance(schema, dict)
    return schema


def _walk(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every subschema with a readable path: ``a.b`` for properties, ``a[]`` for items."""
    yield path, node
    for key, sub in node.get("properties", {}).items():
        yield from _walk(sub, f"{path}.{key}" if path else key)
    if isinstance(node.get("items"), dict):
        yield from _walk(node["items"], f"{path}[]")
    for key, sub in node.get("definitions", {}).items():
        yield from _walk(sub, f"#/definitions/{key}")


def _exact_multiple_of(validator: Any, divisor: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """multipleOf computed in Decimal, so that 8.1 is a multiple of 0.1 (it is not in binary floats)."""
    if not validator.is_type(instance, "number"):
        return
    if Decimal(str(instance)) % Decimal(str(divisor)) != 0:
        yield ValidationError(f"{instance!r} is not a multiple of {divisor}")


@cache
def _validator(name: str) -> Any:
    schema = _schema(name)
    cls = extend(validator_for(schema), {"multipleOf": _exact_multiple_of})
    return cls(schema)


def _wire(payload: dict[str, Any]) -> Any:
    """The payload as the engine sees it: JSON text parsed with decimals as Decimal."""
    return json.loads(json.dumps(payload), parse_float=Decimal)


# ---------------------------------------------------------------------------------------------------------
# The files


def test_one_request_and_one_response_schema_per_action() -> None:
    assert len(ACTIONS) == 39
    assert len(SECURITY_ACTIONS) == 11
    on_disk = sorted(p.stem for p in SCHEMA_DIR.glob("*.json"))
    assert on_disk == SCHEMA_NAMES
    assert len(on_disk) == 78


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_header_and_meta_schema(name: str) -> None:
    schema = _schema(name)
    validator_for(schema).check_schema(schema)
    action = name.removesuffix("Response")
    kind = "Response" if name.endswith("Response") else "Request"
    assert schema["title"] == f"{action}{kind}"
    if action in SECURITY_ACTIONS:
        assert schema["$schema"] == DRAFT6
        suffix = "conf" if kind == "Response" else "req"
        assert schema["$id"] == f"urn:OCPP:Cp:1.6:2020:3:{action}.{suffix}"
        assert "id" not in schema
    else:
        assert schema["$schema"] == DRAFT4
        assert schema["id"] == f"urn:OCPP:1.6:2019:12:{action}{kind}"
        assert "$id" not in schema
        assert "definitions" not in schema
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert isinstance(schema["properties"], dict)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_pretty_printed_with_two_spaces_and_a_trailing_newline(name: str) -> None:
    text = _text(name)
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_keywords_and_closed_objects(name: str) -> None:
    for path, node in _walk(_schema(name)):
        where = f"{name}:{path or '<root>'}"
        assert not FORBIDDEN_KEYWORDS & node.keys(), where
        assert node.keys() <= ALLOWED_KEYWORDS, where
        if "$ref" in node:
            assert node.keys() == {"$ref"}, where
            assert name.removesuffix("Response") in SECURITY_ACTIONS, where
            continue
        kind = node.get("type")
        assert kind in {"object", "array", "string", "integer", "number", "boolean"}, where
        if kind == "object":
            assert node["additionalProperties"] is False, where
            assert set(node.get("required", [])) <= node["properties"].keys(), where
            assert len(node.get("required", [])) == len(set(node.get("required", []))), where
        else:
            assert "additionalProperties" not in node, where
        if "format" in node:
            assert kind == "string", where
            assert node["format"] in {"date-time", "uri"}, where
        if "maxLength" in node:
            assert kind == "string", where
        if "enum" in node:
            assert kind == "string", where
            assert len(node["enum"]) == len(set(node["enum"])), where
        if kind == "number":
            assert node.get("multipleOf") == 0.1, where


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_min_items_and_multiple_of_only_where_the_spec_puts_them(name: str) -> None:
    nodes = list(_walk(_schema(name)))
    assert {p for p, n in nodes if "minItems" in n} == MIN_ITEMS_PATHS.get(name, set())
    assert all(n["minItems"] == 1 for _, n in nodes if "minItems" in n)
    assert {p for p, n in nodes if "multipleOf" in n} == MULTIPLE_OF_PATHS.get(name, set())


@pytest.mark.parametrize(
    "name",
    [
        "ClearCache",
        "GetLocalListVersion",
        "Heartbeat",
        "DiagnosticsStatusNotificationResponse",
        "FirmwareStatusNotificationResponse",
        "MeterValuesResponse",
        "StatusNotificationResponse",
        "UpdateFirmwareResponse",
        "LogStatusNotificationResponse",
        "SecurityEventNotificationResponse",
        "SignedFirmwareStatusNotificationResponse",
    ],
)
def test_empty_payloads(name: str) -> None:
    schema = _schema(name)
    assert schema["properties"] == {}
    assert "required" not in schema
    assert _validator(name).is_valid({})
    assert not _validator(name).is_valid({"status": "Accepted"})


# ---------------------------------------------------------------------------------------------------------
# Accept / reject samples


def _a(n: int) -> str:
    return "A" * n


BOOT_FULL = {
    "chargePointVendor": _a(20),
    "chargePointModel": _a(20),
    "chargePointSerialNumber": _a(25),
    "chargeBoxSerialNumber": _a(25),
    "firmwareVersion": _a(50),
    "iccid": _a(20),
    "imsi": _a(20),
    "meterType": _a(25),
    "meterSerialNumber": _a(25),
}
TS = "2024-05-01T12:00:00Z"


def _meter_values(*, unit: str = "Wh", meter_value: Any = None, sampled: Any = None) -> dict[str, Any]:
    if sampled is None:
        sampled = [{"value": "1234.5", "unit": unit}]
    if meter_value is None:
        meter_value = [{"timestamp": TS, "sampledValue": sampled}]
    return {"connectorId": 1, "transactionId": 7, "meterValue": meter_value}


def _stop(**extra: Any) -> dict[str, Any]:
    return {"transactionId": 7, "meterStop": 2000, "timestamp": TS, **extra}


def _stop_with_unit(unit: str) -> dict[str, Any]:
    return _stop(transactionData=[{"timestamp": TS, "sampledValue": [{"value": "21.5", "unit": unit}]}])


def _schedule(*, limit: Any = 16, periods: Any = None, **extra: Any) -> dict[str, Any]:
    if periods is None:
        periods = [{"startPeriod": 0, "limit": limit, "numberPhases": 3}]
    return {"chargingRateUnit": "A", "chargingSchedulePeriod": periods, **extra}


def _set_profile(**schedule: Any) -> dict[str, Any]:
    return {
        "connectorId": 0,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Recurring",
            "recurrencyKind": "Daily",
            "validFrom": TS,
            "chargingSchedule": _schedule(**schedule),
        },
    }


def _hash_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "a" * 128,
        "issuerKeyHash": "B" * 128,
        "serialNumber": "F" * 40,
    }
    return {**data, **overrides}


def _firmware(**overrides: Any) -> dict[str, Any]:
    firmware = {
        "location": "https://fw.example.com/" + _a(512 - 23),
        "retrieveDateTime": TS,
        "installDateTime": TS,
        "signingCertificate": _a(5500),
        "signature": _a(800),
    }
    return {"requestId": 3, "retries": 2, "retryInterval": 60, "firmware": {**firmware, **overrides}}


def _get_log(**log: Any) -> dict[str, Any]:
    params = {"remoteLocation": "ftp://logs.example.com/" + _a(512 - 23), "oldestTimestamp": TS, **log}
    return {"logType": "SecurityLog", "requestId": 9, "retries": 1, "retryInterval": 30, "log": params}


ACCEPT = True
REJECT = False

SAMPLES: list[tuple[str, str, dict[str, Any], bool]] = [
    # --- Core -------------------------------------------------------------------------------------------
    ("boot-full-at-max-lengths", "BootNotification", BOOT_FULL, ACCEPT),
    ("boot-minimal", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}, ACCEPT),
    ("boot-vendor-21", "BootNotification", {**BOOT_FULL, "chargePointVendor": _a(21)}, REJECT),
    ("boot-model-21", "BootNotification", {**BOOT_FULL, "chargePointModel": _a(21)}, REJECT),
    ("boot-serial-26", "BootNotification", {**BOOT_FULL, "chargePointSerialNumber": _a(26)}, REJECT),
    ("boot-iccid-21", "BootNotification", {**BOOT_FULL, "iccid": _a(21)}, REJECT),
    ("boot-firmware-51", "BootNotification", {**BOOT_FULL, "firmwareVersion": _a(51)}, REJECT),
    ("boot-meter-serial-26", "BootNotification", {**BOOT_FULL, "meterSerialNumber": _a(26)}, REJECT),
    ("boot-no-model", "BootNotification", {"chargePointVendor": "V"}, REJECT),
    ("boot-extra-property", "BootNotification", {**BOOT_FULL, "colour": "red"}, REJECT),
    ("boot-vendor-number", "BootNotification", {**BOOT_FULL, "chargePointVendor": 5}, REJECT),
    (
        "boot-conf-pending",
        "BootNotificationResponse",
        {"status": "Pending", "currentTime": TS, "interval": 300},
        ACCEPT,
    ),
    (
        "boot-conf-interval-string",
        "BootNotificationResponse",
        {"status": "Accepted", "currentTime": TS, "interval": "300"},
        REJECT,
    ),
    ("boot-conf-no-interval", "BootNotificationResponse", {"status": "Accepted", "currentTime": TS}, REJECT),
    ("authorize-idtag-20", "Authorize", {"idTag": _a(20)}, ACCEPT),
    ("authorize-idtag-21", "Authorize", {"idTag": _a(21)}, REJECT),
    (
        "authorize-conf-full",
        "AuthorizeResponse",
        {"idTagInfo": {"status": "Blocked", "expiryDate": TS, "parentIdTag": _a(20)}},
        ACCEPT,
    ),
    ("authorize-conf-no-status", "AuthorizeResponse", {"idTagInfo": {"expiryDate": TS}}, REJECT),
    (
        "authorize-conf-nested-extra",
        "AuthorizeResponse",
        {"idTagInfo": {"status": "Accepted", "groupId": "G"}},
        REJECT,
    ),
    ("heartbeat-extra-property", "Heartbeat", {"x": 1}, REJECT),
    ("heartbeat-conf-no-time", "HeartbeatResponse", {}, REJECT),
    ("meter-values-celcius", "MeterValues", _meter_values(unit="Celcius"), ACCEPT),
    ("meter-values-celsius", "MeterValues", _meter_values(unit="Celsius"), ACCEPT),
    ("meter-values-hertz", "MeterValues", _meter_values(unit="Hertz"), ACCEPT),
    ("meter-values-unit-typo", "MeterValues", _meter_values(unit="Celsuis"), REJECT),
    ("meter-values-empty-meter-value", "MeterValues", _meter_values(meter_value=[]), REJECT),
    ("meter-values-empty-sampled-value", "MeterValues", _meter_values(sampled=[]), REJECT),
    ("meter-values-sample-without-value", "MeterValues", _meter_values(sampled=[{"unit": "Wh"}]), REJECT),
    (
        "meter-values-all-qualifiers",
        "MeterValues",
        _meter_values(
            sampled=[
                {
                    "value": "0A1B",
                    "context": "Interruption.Begin",
                    "format": "SignedData",
                    "measurand": "Power.Reactive.Import",
                    "phase": "L3-L1",
                    "location": "Body",
                    "unit": "kvarh",
                }
            ]
        ),
        ACCEPT,
    ),
    (
        "meter-values-unknown-measurand",
        "MeterValues",
        _meter_values(sampled=[{"value": "1", "measurand": "Energy.Active.Net"}]),
        REJECT,
    ),
    ("meter-values-no-connector", "MeterValues", {"meterValue": _meter_values()["meterValue"]}, REJECT),
    ("meter-values-transaction-id-string", "MeterValues", {**_meter_values(), "transactionId": "7"}, REJECT),
    ("stop-without-reason", "StopTransaction", _stop(), ACCEPT),
    ("stop-deauthorized-with-idtag", "StopTransaction", _stop(reason="DeAuthorized", idTag="TAG"), ACCEPT),
    ("stop-unknown-reason", "StopTransaction", _stop(reason="Unknown"), REJECT),
    ("stop-no-meter-stop", "StopTransaction", {"transactionId": 7, "timestamp": TS}, REJECT),
    ("stop-empty-transaction-data", "StopTransaction", _stop(transactionData=[]), ACCEPT),
    (
        "stop-empty-sampled-value",
        "StopTransaction",
        _stop(transactionData=[{"timestamp": TS, "sampledValue": []}]),
        REJECT,
    ),
    ("stop-celcius", "StopTransaction", _stop_with_unit("Celcius"), ACCEPT),
    ("stop-celsius", "StopTransaction", _stop_with_unit("Celsius"), ACCEPT),
    ("stop-hertz", "StopTransaction", _stop_with_unit("Hertz"), REJECT),
    ("stop-conf-empty", "StopTransactionResponse", {}, ACCEPT),
    (
        "start-full",
        "StartTransaction",
        {"connectorId": 1, "idTag": "TAG", "meterStart": 0, "reservationId": 4, "timestamp": TS},
        ACCEPT,
    ),
    ("start-no-timestamp", "StartTransaction", {"connectorId": 1, "idTag": "TAG", "meterStart": 0}, REJECT),
    (
        "start-conf-concurrent-tx",
        "StartTransactionResponse",
        {"idTagInfo": {"status": "ConcurrentTx"}, "transactionId": 42},
        ACCEPT,
    ),
    (
        "start-conf-no-transaction-id",
        "StartTransactionResponse",
        {"idTagInfo": {"status": "Accepted"}},
        REJECT,
    ),
    (
        "status-full",
        "StatusNotification",
        {
            "connectorId": 0,
            "errorCode": "LocalListConflict",
            "status": "Faulted",
            "info": _a(50),
            "timestamp": TS,
            "vendorId": _a(255),
            "vendorErrorCode": _a(50),
        },
        ACCEPT,
    ),
    (
        "status-occupied",
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Occupied"},
        REJECT,
    ),
    (
        "status-error-code",
        "StatusNotification",
        {"connectorId": 1, "errorCode": "Error", "status": "Available"},
        REJECT,
    ),
    (
        "status-info-51",
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Available", "info": _a(51)},
        REJECT,
    ),
    ("data-transfer-full", "DataTransfer", {"vendorId": _a(255), "messageId": _a(50), "data": "{}"}, ACCEPT),
    ("data-transfer-vendor-256", "DataTransfer", {"vendorId": _a(256)}, REJECT),
    ("data-transfer-message-id-51", "DataTransfer", {"vendorId": "V", "messageId": _a(51)}, REJECT),
    ("data-transfer-data-object", "DataTransfer", {"vendorId": "V", "data": {"a": 1}}, REJECT),
    ("data-transfer-conf-unknown-vendor", "DataTransferResponse", {"status": "UnknownVendorId"}, ACCEPT),
    ("change-config-value-500", "ChangeConfiguration", {"key": _a(50), "value": _a(500)}, ACCEPT),
    ("change-config-value-501", "ChangeConfiguration", {"key": "K", "value": _a(501)}, REJECT),
    ("change-config-key-51", "ChangeConfiguration", {"key": _a(51), "value": "v"}, REJECT),
    ("get-config-all-keys", "GetConfiguration", {}, ACCEPT),
    ("get-config-key-51", "GetConfiguration", {"key": [_a(51)]}, REJECT),
    (
        "get-config-conf-full",
        "GetConfigurationResponse",
        {"configurationKey": [{"key": "K", "readonly": True, "value": _a(500)}], "unknownKey": []},
        ACCEPT,
    ),
    (
        "get-config-conf-no-readonly",
        "GetConfigurationResponse",
        {"configurationKey": [{"key": "K", "value": "v"}]},
        REJECT,
    ),
    ("set-profile-limit-8.1", "SetChargingProfile", _set_profile(limit=8.1), ACCEPT),
    ("set-profile-limit-21.4", "SetChargingProfile", _set_profile(limit=21.4), ACCEPT),
    ("set-profile-limit-integer", "SetChargingProfile", _set_profile(limit=16), ACCEPT),
    ("set-profile-limit-8.15", "SetChargingProfile", _set_profile(limit=8.15), REJECT),
    ("set-profile-limit-string", "SetChargingProfile", _set_profile(limit="16"), REJECT),
    ("set-profile-min-rate-6.1", "SetChargingProfile", _set_profile(minChargingRate=6.1), ACCEPT),
    ("set-profile-min-rate-6.05", "SetChargingProfile", _set_profile(minChargingRate=6.05), REJECT),
    ("set-profile-no-periods", "SetChargingProfile", _set_profile(periods=[]), REJECT),
    ("set-profile-unit-kw", "SetChargingProfile", _set_profile(chargingRateUnit="kW"), REJECT),
    (
        "set-profile-period-without-limit",
        "SetChargingProfile",
        _set_profile(periods=[{"startPeriod": 0}]),
        REJECT,
    ),
    (
        "remote-start-with-profile",
        "RemoteStartTransaction",
        {
            "connectorId": 1,
            "idTag": "TAG",
            "chargingProfile": {
                "chargingProfileId": 5,
                "stackLevel": 1,
                "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Relative",
                "chargingSchedule": _schedule(limit=21.4, duration=3600),
            },
        },
        ACCEPT,
    ),
    ("remote-start-no-idtag", "RemoteStartTransaction", {"connectorId": 1}, REJECT),
    (
        "composite-conf-accepted",
        "GetCompositeScheduleResponse",
        {
            "status": "Accepted",
            "connectorId": 1,
            "scheduleStart": TS,
            "chargingSchedule": _schedule(limit=10.5),
        },
        ACCEPT,
    ),
    (
        "composite-conf-min-rate-0.05",
        "GetCompositeScheduleResponse",
        {"status": "Accepted", "chargingSchedule": _schedule(minChargingRate=0.05)},
        REJECT,
    ),
    ("composite-no-duration", "GetCompositeSchedule", {"connectorId": 0}, REJECT),
    ("clear-profile-no-filter", "ClearChargingProfile", {}, ACCEPT),
    ("clear-profile-conf-unknown", "ClearChargingProfileResponse", {"status": "Unknown"}, ACCEPT),
    (
        "send-list-full-empty",
        "SendLocalList",
        {"listVersion": 3, "updateType": "Full", "localAuthorizationList": []},
        ACCEPT,
    ),
    (
        "send-list-differential-delete",
        "SendLocalList",
        {"listVersion": 4, "updateType": "Differential", "localAuthorizationList": [{"idTag": "TAG"}]},
        ACCEPT,
    ),
    ("send-list-partial", "SendLocalList", {"listVersion": 4, "updateType": "Partial"}, REJECT),
    ("reserve-no-expiry", "ReserveNow", {"connectorId": 0, "idTag": "TAG", "reservationId": 1}, REJECT),
    ("reset-conf-scheduled", "ResetResponse", {"status": "Scheduled"}, REJECT),
    ("change-availability-conf-scheduled", "ChangeAvailabilityResponse", {"status": "Scheduled"}, ACCEPT),
    (
        "trigger-sign-certificate",
        "TriggerMessage",
        {"requestedMessage": "SignChargePointCertificate"},
        REJECT,
    ),
    (
        "trigger-diagnostics",
        "TriggerMessage",
        {"requestedMessage": "DiagnosticsStatusNotification", "connectorId": 1},
        ACCEPT,
    ),
    ("update-firmware-no-retrieve-date", "UpdateFirmware", {"location": "ftp://fw.example.com/f"}, REJECT),
    ("diagnostics-conf-file-name-256", "GetDiagnosticsResponse", {"fileName": _a(256)}, REJECT),
    # --- Security whitepaper ------------------------------------------------------------------------------
    ("sign-csr-5500", "SignCertificate", {"csr": _a(5500)}, ACCEPT),
    ("sign-csr-5501", "SignCertificate", {"csr": _a(5501)}, REJECT),
    ("sign-conf-pending", "SignCertificateResponse", {"status": "Pending"}, REJECT),
    ("signed-chain-10000", "CertificateSigned", {"certificateChain": _a(10000)}, ACCEPT),
    ("signed-chain-10001", "CertificateSigned", {"certificateChain": _a(10001)}, REJECT),
    (
        "install-5500",
        "InstallCertificate",
        {"certificateType": "CentralSystemRootCertificate", "certificate": _a(5500)},
        ACCEPT,
    ),
    (
        "install-5501",
        "InstallCertificate",
        {"certificateType": "ManufacturerRootCertificate", "certificate": _a(5501)},
        REJECT,
    ),
    (
        "install-v2g-root",
        "InstallCertificate",
        {"certificateType": "V2GRootCertificate", "certificate": "PEM"},
        REJECT,
    ),
    ("install-conf-failed", "InstallCertificateResponse", {"status": "Failed"}, ACCEPT),
    ("delete-full-hash-data", "DeleteCertificate", {"certificateHashData": _hash_data()}, ACCEPT),
    (
        "delete-serial-41",
        "DeleteCertificate",
        {"certificateHashData": _hash_data(serialNumber="F" * 41)},
        REJECT,
    ),
    (
        "delete-name-hash-129",
        "DeleteCertificate",
        {"certificateHashData": _hash_data(issuerNameHash="a" * 129)},
        REJECT,
    ),
    ("delete-sha1", "DeleteCertificate", {"certificateHashData": _hash_data(hashAlgorithm="SHA1")}, REJECT),
    ("delete-hash-extra", "DeleteCertificate", {"certificateHashData": _hash_data(extra="x")}, REJECT),
    (
        "delete-no-key-hash",
        "DeleteCertificate",
        {"certificateHashData": {k: v for k, v in _hash_data().items() if k != "issuerKeyHash"}},
        REJECT,
    ),
    ("delete-conf-accepted", "DeleteCertificateResponse", {"status": "Accepted"}, ACCEPT),
    ("delete-conf-success", "DeleteCertificateResponse", {"status": "Success"}, REJECT),
    (
        "installed-ids-request",
        "GetInstalledCertificateIds",
        {"certificateType": "ManufacturerRootCertificate"},
        ACCEPT,
    ),
    ("installed-ids-request-empty", "GetInstalledCertificateIds", {}, REJECT),
    ("installed-ids-conf-not-found", "GetInstalledCertificateIdsResponse", {"status": "NotFound"}, ACCEPT),
    (
        "installed-ids-conf-accepted",
        "GetInstalledCertificateIdsResponse",
        {"status": "Accepted", "certificateHashData": [_hash_data(hashAlgorithm="SHA512")]},
        ACCEPT,
    ),
    (
        "installed-ids-conf-empty-list",
        "GetInstalledCertificateIdsResponse",
        {"status": "Accepted", "certificateHashData": []},
        REJECT,
    ),
    ("get-log-full", "GetLog", _get_log(latestTimestamp=TS), ACCEPT),
    ("get-log-location-513", "GetLog", _get_log(remoteLocation=_a(513)), REJECT),
    ("get-log-no-location", "GetLog", {"logType": "DiagnosticsLog", "requestId": 1, "log": {}}, REJECT),
    ("get-log-no-log", "GetLog", {"logType": "DiagnosticsLog", "requestId": 1}, REJECT),
    ("get-log-audit", "GetLog", {**_get_log(), "logType": "AuditLog"}, REJECT),
    ("get-log-extra-in-log", "GetLog", _get_log(compression="gzip"), REJECT),
    (
        "get-log-conf-canceled",
        "GetLogResponse",
        {"status": "AcceptedCanceled", "filename": _a(255)},
        ACCEPT,
    ),
    ("get-log-conf-filename-256", "GetLogResponse", {"status": "Accepted", "filename": _a(256)}, REJECT),
    (
        "log-status-upload-failure",
        "LogStatusNotification",
        {"status": "UploadFailure", "requestId": 9},
        ACCEPT,
    ),
    ("log-status-idle-no-request-id", "LogStatusNotification", {"status": "Idle"}, ACCEPT),
    ("log-status-upload-failed", "LogStatusNotification", {"status": "UploadFailed"}, REJECT),
    (
        "security-event-free-text-50",
        "SecurityEventNotification",
        {"type": _a(50), "timestamp": TS, "techInfo": _a(255)},
        ACCEPT,
    ),
    ("security-event-type-51", "SecurityEventNotification", {"type": _a(51), "timestamp": TS}, REJECT),
    (
        "security-event-tech-info-256",
        "SecurityEventNotification",
        {"type": "InvalidMessages", "timestamp": TS, "techInfo": _a(256)},
        REJECT,
    ),
    ("security-event-no-timestamp", "SecurityEventNotification", {"type": "ResetOrReboot"}, REJECT),
    (
        "signed-fw-status-invalid-signature",
        "SignedFirmwareStatusNotification",
        {"status": "InvalidSignature", "requestId": 3},
        ACCEPT,
    ),
    ("signed-fw-status-unknown", "SignedFirmwareStatusNotification", {"status": "Unknown"}, REJECT),
    ("signed-update-full-at-max-lengths", "SignedUpdateFirmware", _firmware(), ACCEPT),
    ("signed-update-signature-801", "SignedUpdateFirmware", _firmware(signature=_a(801)), REJECT),
    ("signed-update-location-513", "SignedUpdateFirmware", _firmware(location=_a(513)), REJECT),
    (
        "signed-update-certificate-5501",
        "SignedUpdateFirmware",
        _firmware(signingCertificate=_a(5501)),
        REJECT,
    ),
    (
        "signed-update-no-signature",
        "SignedUpdateFirmware",
        {"requestId": 3, "firmware": {"location": "L", "retrieveDateTime": TS, "signingCertificate": "C"}},
        REJECT,
    ),
    (
        "signed-update-no-request-id",
        "SignedUpdateFirmware",
        {k: v for k, v in _firmware().items() if k != "requestId"},
        REJECT,
    ),
    (
        "signed-update-retry-interval-typo",
        "SignedUpdateFirmware",
        {**_firmware(), "retrypInterval": 60},
        REJECT,
    ),
    ("signed-update-conf-revoked", "SignedUpdateFirmwareResponse", {"status": "RevokedCertificate"}, ACCEPT),
    (
        "extended-trigger-sign-certificate",
        "ExtendedTriggerMessage",
        {"requestedMessage": "SignChargePointCertificate"},
        ACCEPT,
    ),
    (
        "extended-trigger-diagnostics",
        "ExtendedTriggerMessage",
        {"requestedMessage": "DiagnosticsStatusNotification"},
        REJECT,
    ),
    (
        "extended-trigger-conf-not-implemented",
        "ExtendedTriggerMessageResponse",
        {"status": "NotImplemented"},
        ACCEPT,
    ),
]


def test_samples_cover_many_messages() -> None:
    assert len(SAMPLES) >= 40
    assert len({sample_id for sample_id, *_ in SAMPLES}) == len(SAMPLES)
    assert len({name for _, name, *_ in SAMPLES}) >= 40
    assert len({name.removesuffix("Response") for _, name, *_ in SAMPLES} & SECURITY_ACTIONS) == 11


@pytest.mark.parametrize(
    ("name", "payload", "valid"),
    [pytest.param(name, payload, valid, id=sample_id) for sample_id, name, payload, valid in SAMPLES],
)
def test_sample(name: str, payload: dict[str, Any], valid: bool) -> None:
    errors = [e.message for e in _validator(name).iter_errors(_wire(payload))]
    if valid:
        assert errors == []
    else:
        assert errors, f"{name} accepted a payload it must reject"


def test_multiple_of_needs_decimal_parsing() -> None:
    """Why the samples are parsed as Decimal: with binary floats, jsonschema rejects a correct 8.1."""
    schema = _schema("SetChargingProfile")
    plain = validator_for(schema)(schema)
    assert not plain.is_valid(_set_profile(limit=8.1))
    assert _validator("SetChargingProfile").is_valid(_wire(_set_profile(limit=8.1)))
