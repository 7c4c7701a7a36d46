"""Reusable states (octt-csms-cases.md §4.3) and the charge-point messages scenarios are built from.

A :class:`State` is a named precondition: a list of steps plus the states it needs first. A scenario
lists the state it starts from in ``BEFORE`` (``BEFORE = [CHARGING]`` runs Booted, Authorized and
Charging, in that order); the runner reports those steps under the state's name.

=========== ====================================================================== ===================
State       Steps (CP = the simulated charger)                                      [V] on the CSMS
=========== ====================================================================== ===================
Booted      BootNotification (configured vendor/model); StatusNotification          status Accepted
            Available for connectorId 0 and each connector
Authorized  Authorize with the configured valid idTag                               Accepted
Charging    StatusNotification Preparing; StartTransaction (same idTag, the         Accepted, and a
            configured connector); StatusNotification Charging                      transactionId
=========== ====================================================================== ===================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from conformance.steps import (
    Cfg,
    Check,
    Context,
    Expand,
    IfPresent,
    Now,
    Present,
    Reconnect,
    Ref,
    Send,
    Step,
    Var,
    id_tag_status,
    status_is,
)

#: references most steps use
VALID_ID_TAG = Cfg("id_tags.valid")
CONNECTOR = Cfg("connector_id")
NOW = Now()
TRANSACTION_ID = Var("transactionId")

#: meter readings of the simulated charger (Wh)
METER_START = 0
METER_STOP = 1500


@dataclass(frozen=True)
class State:
    """A reusable precondition: ``steps``, run after the states in ``requires``."""

    name: str
    steps: tuple[Step, ...]
    requires: tuple[State, ...] = ()
    #: where the OCTT document defines it
    source: str = ""


def expand_states(states: Sequence[State]) -> list[State]:
    """Every state needed, dependencies first, each once."""
    ordered: list[State] = []

    def visit(state: State) -> None:
        for needed in state.requires:
            visit(needed)
        if state not in ordered:
            ordered.append(state)

    for state in states:
        visit(state)
    return ordered


# ------------------------------------------------------------------------------------ charger messages


def boot_notification(
    expected: str = "Accepted", *, checks: Sequence[Check] = (), capture_as: str = "bootInterval"
) -> Send:
    """BootNotification with the configured vendor/model/serial; the answer's ``interval`` is captured."""
    return Send(
        "BootNotification",
        {
            "chargePointVendor": Cfg("vendor"),
            "chargePointModel": Cfg("model"),
            "chargePointSerialNumber": Cfg("serial_number"),
            "firmwareVersion": Cfg("firmware_version"),
        },
        checks=(status_is(expected), *checks),
        capture={capture_as: "interval"},
    )


def status(
    connector_status: str,
    *,
    connector: int | Ref = CONNECTOR,
    error_code: str = "NoError",
    note: str = "",
) -> Send:
    """StatusNotification for one connector (the configured one by default)."""
    return Send(
        "StatusNotification",
        {"connectorId": connector, "errorCode": error_code, "status": connector_status, "timestamp": Now()},
        note=note,
    )


def status_all(connector_status: str = "Available", *, busy_status: str | None = None) -> Expand:
    """StatusNotification for connectorId 0 and every connector. With ``busy_status`` the configured
    connector reports that status instead (TC_032_1: Finishing on the connector that was charging)."""

    def steps(ctx: Context) -> list[Step]:
        result: list[Step] = []
        for connector in [0, *ctx.config.connector_ids]:
            value = connector_status
            if busy_status is not None and connector == ctx.config.connector_id:
                value = busy_status
            result.append(status(value, connector=connector))
        return result

    text = f"StatusNotification {connector_status} for connectorId 0 and every connector"
    if busy_status is not None:
        text += f" ({busy_status} for the configured connector)"
    return Expand(steps, text)


def heartbeat() -> Send:
    return Send("Heartbeat", {}, checks=(Present("currentTime"),))


def authorize(id_tag: str | Ref = VALID_ID_TAG, expected: str = "Accepted") -> Send:
    return Send("Authorize", {"idTag": id_tag}, checks=(id_tag_status(expected),))


def start_transaction(
    id_tag: str | Ref = VALID_ID_TAG,
    expected: str = "Accepted",
    *,
    timestamp: Ref = NOW,
    connector: int | Ref = CONNECTOR,
    reservation_id: int | Ref | None = None,
    note: str = "",
) -> Send:
    """StartTransaction; the answer's transactionId is captured as ``transactionId``."""
    payload: dict[str, Any] = {
        "connectorId": connector,
        "idTag": id_tag,
        "meterStart": METER_START,
        "timestamp": timestamp,
    }
    if reservation_id is not None:
        payload["reservationId"] = reservation_id
    return Send(
        "StartTransaction",
        payload,
        checks=(id_tag_status(expected), Present("transactionId")),
        capture={"transactionId": "transactionId"},
        note=note,
    )


def stop_transaction(
    reason: str,
    *,
    transaction: int | Ref = TRANSACTION_ID,
    id_tag: str | Ref | None = VALID_ID_TAG,
    timestamp: Ref = NOW,
    meter_stop: int = METER_STOP,
    note: str = "",
) -> Send:
    """StopTransaction with ``reason``; a returned idTagInfo must say Accepted (S3 asserts it)."""
    payload: dict[str, Any] = {
        "transactionId": transaction,
        "meterStop": meter_stop,
        "timestamp": timestamp,
        "reason": reason,
    }
    checks: tuple[Check, ...] = ()
    if id_tag is not None:
        payload["idTag"] = id_tag
        checks = (IfPresent("idTagInfo.status", "Accepted"),)
    return Send("StopTransaction", payload, checks=checks, note=note)


def reboot(
    expected: str = "Accepted", *, busy_status: str | None = None, reason: str = "reboot"
) -> list[Step]:
    """The charger restarts: a new connection, BootNotification, StatusNotification for every connector."""
    return [Reconnect(reason), boot_notification(expected), status_all("Available", busy_status=busy_status)]


# ------------------------------------------------------------------------------------------- the states

BOOTED = State(
    "Booted",
    (boot_notification(), status_all("Available")),
    source="Table 199",
)

AUTHORIZED = State("Authorized", (authorize(),), requires=(BOOTED,), source="Table 200")

CHARGING = State(
    "Charging",
    (status("Preparing"), start_transaction(), status("Charging")),
    requires=(AUTHORIZED,),
    source="Table 201",
)
