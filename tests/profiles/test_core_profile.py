"""Core profile behaviour, handler by handler, through the same door the shell uses (handle_incoming)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from profile_context import FakeContext

from engine.policy import BootPolicy, CsmsPolicy
from engine.profiles import RefusedByStateError, after_outgoing, before_outgoing, handle_incoming
from engine.profiles.base import ChargerContext
from engine.protocol.errors import ErrorCode, RemoteOcppError
from engine.store import IdTagRecord, StopOutcome

BOOT = {"chargePointVendor": "Acme", "chargePointModel": "Fast"}
NOW = "2026-03-01T12:00:00.000Z"


async def booted(policy: CsmsPolicy | None = None) -> FakeContext:
    ctx = FakeContext(policy=policy)
    answer = await handle_incoming(ctx, "BootNotification", BOOT)
    assert answer["status"] == "Accepted"
    return ctx


async def start(ctx: FakeContext, id_tag: str = "TAG1", connector: int = 1, meter: int = 0) -> dict[str, Any]:
    payload = {"connectorId": connector, "idTag": id_tag, "meterStart": meter, "timestamp": NOW}
    return await handle_incoming(ctx, "StartTransaction", payload)


def put_tag(ctx: FakeContext, tag: str, status: str = "Accepted", **extra: Any) -> None:
    ctx.store.put_id_tag(IdTagRecord(tag, status, extra.get("expiry"), extra.get("parent")))


# ---------------------------------------------------------------- registration


async def test_boot_accepted_is_persisted_with_interval_and_utc_time() -> None:
    ctx = FakeContext()
    answer = await handle_incoming(ctx, "BootNotification", BOOT)
    assert answer == {"status": "Accepted", "currentTime": NOW, "interval": 300}
    record = ctx.store.get_charger("CP-1")
    assert record is not None
    assert record.registration_status == "Accepted"
    assert record.boot_info == BOOT


@pytest.mark.parametrize("status", ["Pending", "Rejected"])
async def test_boot_policy_pending_or_rejected_answers_with_the_retry_interval(status: str) -> None:
    ctx = FakeContext(policy=CsmsPolicy(boot=BootPolicy(status), boot_retry_interval=45))
    answer = await handle_incoming(ctx, "BootNotification", BOOT)
    assert (answer["status"], answer["interval"]) == (status, 45)
    assert ctx.charger.registration == status


@pytest.mark.parametrize(("policy", "first"), [("PendingOnce", "Pending"), ("RejectedOnce", "Rejected")])
async def test_once_policies_answer_first_boot_then_accept(policy: str, first: str) -> None:
    ctx = FakeContext(policy=CsmsPolicy(boot=BootPolicy(policy)))
    assert (await handle_incoming(ctx, "BootNotification", BOOT))["status"] == first
    assert (await handle_incoming(ctx, "BootNotification", BOOT))["status"] == "Accepted"


async def test_per_charger_policy_overrides_the_default() -> None:
    ctx = FakeContext()
    ctx.charger.boot_policy = BootPolicy.REJECTED
    assert (await handle_incoming(ctx, "BootNotification", BOOT))["status"] == "Rejected"


@pytest.mark.parametrize("registration", [None, "Pending", "Rejected"])
async def test_calls_before_acceptance_get_security_error_without_side_effects(
    registration: str | None,
) -> None:
    ctx = FakeContext()
    ctx.charger.registration = registration
    payload = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    with pytest.raises(RemoteOcppError) as caught:
        await handle_incoming(ctx, "StatusNotification", payload)
    assert caught.value.code is ErrorCode.SECURITY_ERROR
    assert ctx.store.get_connectors("CP-1") == []


async def test_pending_charger_may_send_what_we_triggered_within_the_window() -> None:
    ctx = FakeContext(policy=CsmsPolicy(boot=BootPolicy.PENDING))
    await handle_incoming(ctx, "BootNotification", BOOT)
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    trigger = {"requestedMessage": "StatusNotification"}
    before_outgoing(ctx.charger, "TriggerMessage", trigger, ctx.utc_now())
    await after_outgoing(ctx, "TriggerMessage", trigger, {"status": "Accepted"})
    assert await handle_incoming(ctx, "StatusNotification", status) == {}
    assert await handle_incoming(ctx, "StatusNotification", {**status, "connectorId": 0}) == {}
    with pytest.raises(RemoteOcppError):  # only what was triggered
        await handle_incoming(ctx, "Heartbeat", {})
    ctx.clock.advance(121)
    with pytest.raises(RemoteOcppError):
        await handle_incoming(ctx, "StatusNotification", status)


async def test_a_rejected_trigger_opens_no_window() -> None:
    ctx = FakeContext(policy=CsmsPolicy(boot=BootPolicy.PENDING))
    await handle_incoming(ctx, "BootNotification", BOOT)
    trigger = {"requestedMessage": "Heartbeat"}
    before_outgoing(ctx.charger, "TriggerMessage", trigger, ctx.utc_now())
    await after_outgoing(ctx, "TriggerMessage", trigger, {"status": "Rejected"})
    with pytest.raises(RemoteOcppError):
        await handle_incoming(ctx, "Heartbeat", {})


async def test_operator_calls_are_refused_by_registration_state() -> None:
    ctx = FakeContext(policy=CsmsPolicy(boot=BootPolicy.PENDING))
    with pytest.raises(RefusedByStateError, match="not registered"):
        before_outgoing(ctx.charger, "GetConfiguration", {}, ctx.utc_now())
    await handle_incoming(ctx, "BootNotification", BOOT)
    before_outgoing(ctx.charger, "GetConfiguration", {}, ctx.utc_now())
    before_outgoing(ctx.charger, "ChangeConfiguration", {"key": "k", "value": "v"}, ctx.utc_now())
    with pytest.raises(RefusedByStateError, match="Pending"):
        before_outgoing(ctx.charger, "RemoteStartTransaction", {"idTag": "T"}, ctx.utc_now())
    ctx.charger.registration = "Rejected"
    with pytest.raises(RefusedByStateError, match="Rejected"):
        before_outgoing(ctx.charger, "GetConfiguration", {}, ctx.utc_now())


async def test_heartbeat_answers_current_time() -> None:
    ctx = await booted()
    assert await handle_incoming(ctx, "Heartbeat", {}) == {"currentTime": NOW}


async def test_unhandled_known_action_is_not_supported() -> None:
    ctx = await booted()
    with pytest.raises(RemoteOcppError) as caught:
        await handle_incoming(ctx, "DiagnosticsStatusNotification", {"status": "Idle"})
    assert caught.value.code is ErrorCode.NOT_SUPPORTED


# ---------------------------------------------------------------- authorization


@pytest.mark.parametrize(
    ("stored", "expected"),
    [("Accepted", "Accepted"), ("Blocked", "Blocked"), ("Expired", "Expired"), ("Invalid", "Invalid")],
)
async def test_authorize_answers_the_stored_status(stored: str, expected: str) -> None:
    ctx = await booted()
    put_tag(ctx, "TAG1", stored)
    assert (await handle_incoming(ctx, "Authorize", {"idTag": "TAG1"}))["idTagInfo"]["status"] == expected


async def test_unknown_tag_is_invalid_unless_policy_accepts_unknown() -> None:
    ctx = await booted()
    assert (await handle_incoming(ctx, "Authorize", {"idTag": "NOPE"}))["idTagInfo"] == {"status": "Invalid"}
    ctx.policy.accept_unknown_id_tags = True
    assert (await handle_incoming(ctx, "Authorize", {"idTag": "NOPE"}))["idTagInfo"] == {"status": "Accepted"}


async def test_id_tags_match_case_insensitively_with_parent_and_expiry() -> None:
    ctx = await booted()
    put_tag(ctx, "abc123", parent="GROUP1", expiry="2026-12-31T00:00:00Z")
    info = (await handle_incoming(ctx, "Authorize", {"idTag": "ABC123"}))["idTagInfo"]
    assert info == {"status": "Accepted", "parentIdTag": "GROUP1", "expiryDate": "2026-12-31T00:00:00.000Z"}


async def test_accepted_tag_past_its_expiry_is_expired() -> None:
    ctx = await booted()
    put_tag(ctx, "OLD", expiry="2026-02-01T00:00:00Z")
    assert (await handle_incoming(ctx, "Authorize", {"idTag": "OLD"}))["idTagInfo"]["status"] == "Expired"


async def test_cache_ttl_bounds_the_expiry_date() -> None:
    ctx = await booted(CsmsPolicy(id_tag_cache_ttl=3600))
    put_tag(ctx, "T")
    info = (await handle_incoming(ctx, "Authorize", {"idTag": "T"}))["idTagInfo"]
    assert info["expiryDate"] == "2026-03-01T13:00:00.000Z"


# ---------------------------------------------------------------- transactions


async def test_start_gives_a_positive_id_and_a_retry_gets_the_same() -> None:
    ctx = await booted()
    put_tag(ctx, "TAG1")
    first = await start(ctx)
    assert first["transactionId"] > 0
    assert first["idTagInfo"]["status"] == "Accepted"
    assert await start(ctx) == first


@pytest.mark.parametrize("status", ["Blocked", "Expired", "Invalid"])
async def test_start_with_a_bad_tag_still_gets_a_real_transaction(status: str) -> None:
    ctx = await booted()
    put_tag(ctx, "TAG1", status)
    answer = await start(ctx)
    assert answer["transactionId"] > 0
    assert answer["idTagInfo"]["status"] == status
    assert ctx.store.get_transaction(answer["transactionId"]) is not None


async def test_second_start_with_a_busy_tag_is_concurrent_tx_with_its_own_id() -> None:
    ctx = await booted()
    put_tag(ctx, "TAG1")
    first = await start(ctx, connector=1)
    second = await start(ctx, connector=2)
    assert second["idTagInfo"]["status"] == "ConcurrentTx"
    assert second["transactionId"] not in (0, first["transactionId"])


async def test_stop_is_always_answered_and_stored() -> None:
    ctx = await booted()
    put_tag(ctx, "TAG1")
    tx = (await start(ctx))["transactionId"]
    stop = {"transactionId": tx, "meterStop": 500, "timestamp": NOW, "idTag": "TAG1"}
    assert await handle_incoming(ctx, "StopTransaction", stop) == {"idTagInfo": {"status": "Accepted"}}
    record = ctx.store.get_transaction(tx)
    assert record is not None
    assert (record.meter_stop, record.stop_reason) == (500, "Local")
    # a replay is answered the same and changes nothing
    assert await handle_incoming(ctx, "StopTransaction", stop) == {"idTagInfo": {"status": "Accepted"}}


@pytest.mark.parametrize("tx", [-1, 0, 987654])
async def test_stop_for_unknown_ids_is_answered_and_kept_as_orphan(tx: int) -> None:
    ctx = await booted()
    stop = {"transactionId": tx, "meterStop": 5, "timestamp": NOW}
    assert await handle_incoming(ctx, "StopTransaction", stop) == {}
    orphans = ctx.store.list_orphan_stops("CP-1")
    assert len(orphans) == 1
    outcome = ctx.store.stop_transaction(
        "CP-1",
        tx,
        meter_stop=5,
        timestamp=NOW,
        reason=None,
        id_tag=None,
        transaction_data=None,
        received_at=NOW,
    )
    assert outcome is StopOutcome.ORPHAN


async def test_meter_values_are_stored_as_sent() -> None:
    ctx = await booted()
    sample = {"value": "21.40", "measurand": "Energy.Active.Import.Register", "unit": "Celcius"}
    payload = {
        "connectorId": 1,
        "transactionId": 2**40,
        "meterValue": [{"timestamp": NOW, "sampledValue": [sample]}],
    }
    assert await handle_incoming(ctx, "MeterValues", payload) == {}
    [stored] = ctx.store.list_meter_values(charger_id="CP-1")
    assert stored.sampled_values == [sample]


# ---------------------------------------------------------------- connectors, data transfer


async def test_status_history_is_kept_and_older_news_does_not_regress() -> None:
    ctx = await booted()
    newer = {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": "Charging",
        "timestamp": "2026-03-01T12:00:00Z",
    }
    older = {**newer, "status": "Preparing", "timestamp": "2026-03-01T11:59:00Z"}
    await handle_incoming(ctx, "StatusNotification", newer)
    await handle_incoming(ctx, "StatusNotification", older)
    [connector] = ctx.store.get_connectors("CP-1")
    assert connector.status == "Charging"
    assert len(ctx.store.status_history("CP-1", 1)) == 2


async def test_status_without_timestamp_uses_the_time_of_receipt() -> None:
    ctx = await booted()
    await handle_incoming(
        ctx, "StatusNotification", {"connectorId": 0, "errorCode": "NoError", "status": "Available"}
    )
    [connector] = ctx.store.get_connectors("CP-1")
    assert connector.status_timestamp == NOW


async def test_data_transfer_unknown_vendor_is_a_normal_answer() -> None:
    ctx = await booted()
    answer = await handle_incoming(ctx, "DataTransfer", {"vendorId": "nobody", "messageId": "m", "data": "x"})
    assert answer == {"status": "UnknownVendorId"}


async def test_data_transfer_goes_to_the_vendor_handler() -> None:
    async def vendor(ctx: ChargerContext, message_id: str | None, data: str | None) -> tuple[str, str | None]:
        return ("Accepted", f"echo:{data}") if message_id == "ping" else ("UnknownMessageId", None)

    ctx = FakeContext(vendors={"acme": vendor})
    await handle_incoming(ctx, "BootNotification", BOOT)
    assert await handle_incoming(
        ctx, "DataTransfer", {"vendorId": "acme", "messageId": "ping", "data": "1"}
    ) == {
        "status": "Accepted",
        "data": "echo:1",
    }
    assert await handle_incoming(ctx, "DataTransfer", {"vendorId": "acme", "messageId": "x"}) == {
        "status": "UnknownMessageId"
    }


async def test_configuration_snapshot_never_keeps_the_authorization_key() -> None:
    ctx = await booted()
    answer = {
        "configurationKey": [
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            {"key": "AuthorizationKey", "readonly": False, "value": "secret-secret-secret"},
        ]
    }
    await after_outgoing(ctx, "GetConfiguration", {}, answer)
    record = ctx.store.get_charger("CP-1")
    assert record is not None
    assert record.configuration == {"HeartbeatInterval": "300", "AuthorizationKey": "<redacted>"}
    await after_outgoing(
        ctx,
        "GetConfiguration",
        {"key": ["MeterValueSampleInterval"]},
        {"configurationKey": [{"key": "MeterValueSampleInterval", "readonly": False, "value": "60"}]},
    )
    record = ctx.store.get_charger("CP-1")
    assert record is not None
    assert record.configuration["MeterValueSampleInterval"] == "60"
    assert record.configuration["HeartbeatInterval"] == "300"


def test_fixed_clock_is_utc() -> None:
    assert FakeContext().utc_now().tzinfo is dt.UTC


async def test_a_once_policy_set_again_applies_to_a_charger_that_booted_before() -> None:
    ctx = await booted()
    ctx.charger.boot_policy = BootPolicy.PENDING_ONCE
    assert (await handle_incoming(ctx, "BootNotification", BOOT))["status"] == "Accepted"  # not armed
    ctx.charger.boot_policy_armed = True  # what the operator API does when it sets the policy
    assert (await handle_incoming(ctx, "BootNotification", BOOT))["status"] == "Pending"
    assert (await handle_incoming(ctx, "BootNotification", BOOT))["status"] == "Accepted"
