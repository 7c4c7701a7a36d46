"""What the simulated chargers send in each scenario, and the payloads (every one valid against the OCPP
1.6 JSON schemas; ``tests/conformance/test_bench_smoke.py`` checks them against ``schemas/``).

Scenarios (``ocpp-trio bench --scenario NAME``):

``idle``
    connect and BootNotification at the ramp rate, then stay connected (answering pings) for
    ``--duration`` seconds. With ``--server-pid`` the report gives server RSS per charger.
``heartbeat``
    closed loop: each charger keeps exactly one Heartbeat CALL outstanding, the next sent as soon as the
    answer arrives. Measures the most messages per second the CSMS can turn round.
``session``
    closed loop over a charging session: StatusNotification(Preparing), Authorize, StartTransaction,
    10 × MeterValues (10 sampled values each: energy, power, 3 currents, 3 voltages, temperature, SoC),
    StopTransaction, and again. Every charger has its own idTag, so no ConcurrentTx.
``steady``
    open loop: each charger sends ``--rate`` CALLs per second on a fixed schedule (random phase), from
    the session sequence (``--mix session``, default) or Heartbeats (``--mix heartbeat``). Latency is
    measured from the *scheduled* send time, so a CSMS that falls behind is not hidden by the generator
    waiting for it (no coordinated omission).
``storm``
    no ramp: every charger connects and boots at the same instant, as after a CSMS restart. Reports the
    time from that instant until the last one is Accepted, connect-time percentiles and failures.
    ``--duration`` is the time limit.
"""

from __future__ import annotations

import time
from typing import Any

Payload = dict[str, Any]

SCENARIOS = ("idle", "heartbeat", "session", "steady", "storm")
MIXES = ("session", "heartbeat")

BOOT: Payload = {
    "chargePointVendor": "ocpp-trio-bench",
    "chargePointModel": "LoadGen",
    "firmwareVersion": "1.0.0",
}

#: (measurand, unit, phase, location) of the 10 sampled values in each MeterValues
MEASURANDS: tuple[tuple[str, str, str | None, str], ...] = (
    ("Energy.Active.Import.Register", "Wh", None, "Outlet"),
    ("Power.Active.Import", "W", None, "Outlet"),
    ("Current.Import", "A", "L1", "Outlet"),
    ("Current.Import", "A", "L2", "Outlet"),
    ("Current.Import", "A", "L3", "Outlet"),
    ("Voltage", "V", "L1-N", "Outlet"),
    ("Voltage", "V", "L2-N", "Outlet"),
    ("Voltage", "V", "L3-N", "Outlet"),
    ("Temperature", "Celsius", None, "Body"),
    ("SoC", "Percent", None, "EV"),
)

#: the session sequence: 1 + 1 + 1 + 10 + 1 CALLs
METER_VALUES_PER_SESSION = 10
SESSION_LENGTH = 3 + METER_VALUES_PER_SESSION + 1
#: energy added between two MeterValues (Wh)
ENERGY_STEP = 250

_timestamp_cache: list[Any] = [0, ""]


def now_timestamp() -> str:
    """UTC now as OCPP wants it (second resolution; cached for the second)."""
    second = int(time.time())
    if second != _timestamp_cache[0]:
        _timestamp_cache[0] = second
        _timestamp_cache[1] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
    return str(_timestamp_cache[1])


def sampled_values(energy: int, step: int) -> list[Payload]:
    readings = (
        str(energy),
        "11040",
        "16.0",
        "16.1",
        "15.9",
        "230.1",
        "229.8",
        "230.4",
        f"{31 + step % 5}",
        f"{min(100, 20 + step)}",
    )
    values = []
    for (measurand, unit, phase, location), reading in zip(MEASURANDS, readings, strict=True):
        value: Payload = {
            "value": reading,
            "context": "Sample.Periodic",
            "format": "Raw",
            "measurand": measurand,
            "location": location,
            "unit": unit,
        }
        if phase is not None:
            value["phase"] = phase
        values.append(value)
    return values


def id_tag_for(index: int) -> str:
    """A distinct idTag per charger (CiString20)."""
    return f"BT{index:07d}"


class SessionSteps:
    """One charger's position in the session sequence: :meth:`next_call` gives the next CALL,
    :meth:`answered` moves on (and keeps the transactionId the CSMS gave)."""

    __slots__ = ("energy", "id_tag", "step", "transaction_id")

    def __init__(self, index: int):
        self.id_tag = id_tag_for(index)
        self.step = 0
        self.energy = 1000 * (index % 50)
        self.transaction_id = 0

    def next_call(self) -> tuple[str, Payload]:
        step = self.step
        if step == 0:
            return "StatusNotification", {
                "connectorId": 1,
                "errorCode": "NoError",
                "status": "Preparing",
                "timestamp": now_timestamp(),
            }
        if step == 1:
            return "Authorize", {"idTag": self.id_tag}
        if step == 2:
            return "StartTransaction", {
                "connectorId": 1,
                "idTag": self.id_tag,
                "meterStart": self.energy,
                "timestamp": now_timestamp(),
            }
        if step < SESSION_LENGTH - 1:
            self.energy += ENERGY_STEP
            timestamp = now_timestamp()
            return "MeterValues", {
                "connectorId": 1,
                "transactionId": self.transaction_id,
                "meterValue": [{"timestamp": timestamp, "sampledValue": sampled_values(self.energy, step)}],
            }
        return "StopTransaction", {
            "transactionId": self.transaction_id,
            "idTag": self.id_tag,
            "meterStop": self.energy,
            "timestamp": now_timestamp(),
            "reason": "Local",
        }

    def answered(self, action: str, payload: Any) -> None:
        if action == "StartTransaction" and isinstance(payload, dict):
            transaction_id = payload.get("transactionId")
            if isinstance(transaction_id, int):
                self.transaction_id = transaction_id
        self.step = (self.step + 1) % SESSION_LENGTH
