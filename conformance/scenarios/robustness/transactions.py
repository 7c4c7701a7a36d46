"""Robustness group 5 — transaction and data faults (ocpp16-rules.md §10.5; design.md decision 7):
answered normally, never with a CALLERROR, because a CALLERROR makes the charger retry and finally drop
billing data.

Transactions a row leaves open are stopped by the runner after the row, as for every case.

Not here: 94, 95 (security-extension messages).
"""

from typing import Any

from conformance.scenarios.robustness._rows import TRANSACTIONS, group_check, row
from conformance.states import (
    BOOTED,
    CHARGING,
    CONNECTOR,
    NOW,
    TRANSACTION_ID,
    VALID_ID_TAG,
)
from conformance.steps import (
    MISSING,
    Cfg,
    Check,
    Computed,
    Context,
    Equals,
    Now,
    Reconnect,
    Satisfies,
    Send,
    Var,
)

S = "10.5"
SUFFIX = TRANSACTIONS

#: a transaction id no CSMS has handed out (int32, far above any sequence a test run reaches)
UNKNOWN_TRANSACTION = 2_147_480_000


def stamp(name: str, offset: float = 0) -> Computed:
    """A timestamp taken once per case and reused (a replay must repeat it exactly)."""

    def resolve(ctx: Context) -> Any:
        return ctx.values.setdefault(f"stamp:{name}", Now(offset).resolve(ctx))

    return Computed(resolve, f"{name} time")


def _real_id(other: str | None = None) -> Satisfies:
    def ok(value: Any, ctx: Context) -> bool:
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            return False
        return other is None or value != ctx.values.get(other)

    text = "a real transaction id (> 0)" + (f", not <{other}>" if other else "")
    return Satisfies("transactionId", ok, text)


def start(
    *,
    id_tag: Any = VALID_ID_TAG,
    status: str = "Accepted",
    connector: Any = CONNECTOR,
    meter_start: int = 0,
    timestamp: Any = NOW,
    capture: str = "transactionId",
    other: str | None = None,
    extra: dict[str, Any] | None = None,
    same_as: str | None = None,
    note: str = "",
) -> Send:
    payload = {"connectorId": connector, "idTag": id_tag, "meterStart": meter_start, "timestamp": timestamp}
    checks: tuple[Check, ...] = (Equals("idTagInfo.status", status), _real_id(other))
    if same_as is not None:
        checks += (Equals("transactionId", Var(same_as)),)
    return Send(
        "StartTransaction",
        {**payload, **(extra or {})},
        checks=checks,
        capture={capture: "transactionId"},
        note=note,
    )


def stop(
    transaction: Any,
    *,
    id_tag: Any = VALID_ID_TAG,
    meter_stop: int = 1500,
    timestamp: Any = NOW,
    reason: str | None = "Local",
    checks: tuple[Any, ...] = (),
    capture: dict[str, str] | None = None,
    note: str = "",
) -> Send:
    payload: dict[str, Any] = {"transactionId": transaction, "meterStop": meter_stop, "timestamp": timestamp}
    if reason is not None:
        payload["reason"] = reason
    if id_tag is not None:
        payload["idTag"] = id_tag
    return Send("StopTransaction", payload, checks=checks, capture=capture or {}, note=note)


def meter_values(
    transaction: Any = None, *, connector: Any = CONNECTOR, value: str = "1500", **sample: str
) -> Send:
    payload: dict[str, Any] = {
        "connectorId": connector,
        "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": value, **sample}]}],
    }
    if transaction is not None:
        payload["transactionId"] = transaction
    return Send("MeterValues", payload)


def status_at(connector: Any, connector_status: str, timestamp: Any) -> Send:
    return Send(
        "StatusNotification",
        {
            "connectorId": connector,
            "errorCode": "NoError",
            "status": connector_status,
            "timestamp": timestamp,
        },
    )


ACCEPTED = (Equals("idTagInfo.status", "Accepted"),)
OTHER_CONNECTOR = Computed(lambda ctx: ctx.config.connector_id + 1, "another connector")


def _tx(case_id: str, title: str, steps: list[Any], *, source: str, expected: str, **extra: Any) -> Any:
    extra.setdefault("before", [BOOTED])
    return row(
        __name__, case_id, title, steps, suffix=SUFFIX, section=S, source=source, expected=expected, **extra
    )


SCENARIOS = [
    _tx(
        "RB-76",
        "StartTransaction replayed (same connector, idTag, meterStart, timestamp)",
        [
            start(timestamp=stamp("start"), capture="first"),
            start(timestamp=stamp("start"), capture="replayed", same_as="first", note="the replay"),
        ],
        source="#76; design decision 7",
        expected="the same transactionId and status for the replay",
    ),
    _tx(
        "RB-77",
        "StartTransaction with a Blocked idTag (offline start), then stopped DeAuthorized",
        [
            start(id_tag=Cfg("id_tags.blocked"), status="Blocked"),
            stop(TRANSACTION_ID, id_tag=None, reason="DeAuthorized"),
        ],
        source="#77; C §3.5.4",
        expected="a real transactionId with status Blocked; the StopTransaction answered",
    ),
    _tx(
        "RB-78",
        "StartTransaction for an idTag already in an active transaction",
        [start(connector=OTHER_CONNECTOR, status="ConcurrentTx", capture="second", other="transactionId")],
        source="#78",
        expected="ConcurrentTx with a real transactionId, not the first transaction's",
        before=[CHARGING],
    ),
    _tx(
        "RB-79",
        "StartTransaction with connectorId 0",
        [start(connector=0)],
        source="#79 (recommended: accept and flag)",
        expected="StartTransaction.conf with a real transactionId",
    ),
    _tx(
        "RB-80",
        "StartTransaction with an unknown reservationId",
        [start(extra={"reservationId": 987_654_321})],
        source="#80",
        expected="StartTransaction.conf Accepted with a real transactionId",
    ),
    _tx(
        "RB-81",
        "StartTransaction on a connector whose transaction never got a Stop",
        [
            start(
                meter_start=2000,
                capture="second",
                other="transactionId",
                note="the Stop of the first was lost",
            )
        ],
        source="#81",
        expected="StartTransaction.conf Accepted with a new transactionId",
        before=[CHARGING],
    ),
    _tx(
        "RB-82",
        "StopTransaction for an unknown transactionId",
        [stop(UNKNOWN_TRANSACTION, checks=ACCEPTED)],
        source="#82; design decision 7",
        expected="StopTransaction.conf with idTagInfo (Accepted)",
    ),
    _tx(
        "RB-83A",
        "StopTransaction with transactionId -1",
        [stop(-1, checks=ACCEPTED)],
        source="#83; design decision 7",
        expected="StopTransaction.conf with idTagInfo (Accepted)",
    ),
    _tx(
        "RB-83B",
        "StopTransaction with transactionId 0",
        [stop(0, checks=ACCEPTED)],
        source="#83",
        expected="StopTransaction.conf with idTagInfo (Accepted)",
    ),
    _tx(
        "RB-84",
        "StopTransaction replayed for a stopped transaction",
        [
            stop(TRANSACTION_ID, timestamp=stamp("stop"), capture={"firstStop": ""}),
            stop(
                TRANSACTION_ID,
                timestamp=stamp("stop"),
                checks=(
                    Satisfies(
                        "", lambda v, ctx: v == ctx.values["firstStop"], "the same answer as the first"
                    ),
                ),
                note="the replay",
            ),
        ],
        source="#84",
        expected="the same StopTransaction.conf again",
        before=[CHARGING],
    ),
    _tx(
        "RB-85A",
        "StopTransaction with meterStop below meterStart",
        [start(meter_start=5000), stop(TRANSACTION_ID, meter_stop=1000, checks=ACCEPTED)],
        source="#85",
        expected="StopTransaction.conf",
    ),
    _tx(
        "RB-85B",
        "StopTransaction timestamped before the start",
        [start(timestamp=Now(-600)), stop(TRANSACTION_ID, timestamp=Now(-1200), checks=ACCEPTED)],
        source="#85",
        expected="StopTransaction.conf",
    ),
    _tx(
        "RB-85C",
        "StopTransaction timestamped in the future",
        [start(), stop(TRANSACTION_ID, timestamp=Now(86_400), checks=ACCEPTED)],
        source="#85",
        expected="StopTransaction.conf",
    ),
    _tx(
        "RB-86",
        "StopTransaction without a reason",
        [start(), stop(TRANSACTION_ID, reason=None, checks=ACCEPTED)],
        source="#86",
        expected="StopTransaction.conf",
    ),
    _tx(
        "RB-87",
        "StopTransaction with an idTag outside the start idTag's group",
        [
            start(),
            stop(
                TRANSACTION_ID, id_tag=Cfg("id_tags.invalid"), checks=(Equals("idTagInfo.status", "Invalid"),)
            ),
        ],
        source="#87; C §4.10",
        expected="StopTransaction.conf with idTagInfo for that idTag (Invalid)",
    ),
    _tx(
        "RB-88A",
        "MeterValues with an unknown transactionId",
        [meter_values(UNKNOWN_TRANSACTION)],
        source="#88",
        expected="MeterValues.conf",
    ),
    _tx(
        "RB-88B",
        "MeterValues for connectorId 0 (main meter)",
        [meter_values(connector=0)],
        source="#88",
        expected="MeterValues.conf",
    ),
    _tx(
        "RB-89",
        "MeterValues with transactionId 9223372036854775807",
        [meter_values(9_223_372_036_854_775_807)],
        source="#89",
        expected="MeterValues.conf",
    ),
    _tx(
        "RB-90",
        'SampledValue "abc" with format Raw',
        [meter_values(TRANSACTION_ID, value="abc", format="Raw")],
        source="#90",
        expected="MeterValues.conf",
        before=[CHARGING],
    ),
    _tx(
        "RB-91A",
        "StatusNotification Charging for connectorId 0",
        [status_at(0, "Charging", NOW)],
        source="#91",
        expected="StatusNotification.conf",
    ),
    _tx(
        "RB-91B",
        "StatusNotification for connectorId 99",
        [status_at(99, "Available", NOW)],
        source="#91",
        expected="StatusNotification.conf",
    ),
    _tx(
        "RB-92",
        "StatusNotification older than the current one",
        [status_at(CONNECTOR, "Available", NOW), status_at(CONNECTOR, "Unavailable", Now(-3600))],
        source="#92",
        expected="StatusNotification.conf",
    ),
    _tx(
        "RB-93",
        "DataTransfer with an unknown vendorId",
        [
            Send(
                "DataTransfer",
                {"vendorId": Cfg("data_transfer_vendor_id"), "messageId": "RB", "data": "x"},
                checks=(
                    Equals("status", "UnknownVendorId"),
                    Satisfies("data", lambda value, _ctx: value is MISSING, "absent"),
                ),
            )
        ],
        source="#93; C §4.3; TC_064",
        expected="DataTransfer.conf UnknownVendorId, no data",
    ),
    _tx(
        "RB-96",
        "Hours-old queued StartTransaction and StopTransaction after a reconnect",
        [
            Reconnect("back online after hours; no reboot"),
            start(timestamp=Now(-3 * 3600), note="queued 3 h ago"),
            stop(TRANSACTION_ID, timestamp=Now(-2 * 3600), checks=ACCEPTED, note="queued 2 h ago"),
        ],
        source="#96; C §3.7",
        expected="both answered normally (Accepted, a real transactionId)",
    ),
    group_check(__name__, "RB-96-OK", "Transaction data", suffix=SUFFIX, section=S),
]
