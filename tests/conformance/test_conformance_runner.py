"""The step engine and runner against a scripted fake CSMS, over memory streams in virtual time.

Every timing assertion is exact: the autojump clock only moves when every task waits.
"""

from __future__ import annotations

import types
from typing import Any

import pytest
import trio
import trio.testing
from fake_csms import FakeCsms, FakeOperator, never, raw_error, raw_result
from trio_websocket import wrap_client_stream

from conformance.config import RunConfig
from conformance.deviations import from_mapping
from conformance.operators import OperatorResult
from conformance.runner import CaseResult, InProcessTarget, RunResult, progress_line, run_case, run_suite
from conformance.scenario import Scenario, discover, load_scenario
from conformance.simulator import OpenedTransport
from conformance.states import BOOTED, boot_notification, status_all
from conformance.steps import (
    Equals,
    ExpectCall,
    ExpectSilence,
    Operator,
    Reconnect,
    Send,
    Var,
    Wait,
    id_tag_status,
)
from engine.protocol.frames import encode_call

SCENARIOS = {scenario.id: scenario for scenario in discover()}


def make_scenario(steps: list[Any], *, before: list[Any] | None = None, **extra: Any) -> Scenario:
    module = types.ModuleType("test_module")
    attributes = {"ID": "T_1", "TITLE": "test scenario", "PROFILE": "Core", "SECTION": "0", "STEPS": steps}
    attributes["BEFORE"] = before if before is not None else [BOOTED]
    for key, value in {**attributes, **extra}.items():
        setattr(module, key, value)
    return load_scenario(module)


async def run(
    scenario: Scenario | str,
    fake: FakeCsms | None = None,
    operator: Any = None,
    config: RunConfig | None = None,
    **kwargs: Any,
) -> CaseResult:
    config = config if config is not None else RunConfig()
    fake = fake if fake is not None else FakeCsms(config)
    operator = operator if operator is not None else FakeOperator(fake)
    if isinstance(scenario, str):
        scenario = SCENARIOS[scenario]
    return await run_case(scenario, target=InProcessTarget(fake), operator=operator, config=config, **kwargs)


def failed_step(case: CaseResult) -> Any:
    return next(step for step in case.steps if step.status in ("fail", "error"))


# ------------------------------------------------------------------------------------------- happy paths


async def test_every_core_and_aq1_case_passes_against_a_well_behaved_csms(
    autojump_clock: trio.testing.MockClock,
) -> None:
    config = RunConfig()
    fake = FakeCsms(config)
    lines: list[str] = []
    result = await run_suite(
        list(SCENARIOS.values()),
        target=InProcessTarget(fake),
        operator=FakeOperator(fake),
        config=config,
        progress=lambda case: lines.append(progress_line(case)),
    )
    assert [c.status for c in result.cases] == ["pass"] * 36, [line for line in lines if "PASS" not in line]
    assert result.ok and result.exit_status == 0
    assert fake.provisioned is config
    assert lines[0] == "PASS TC_001_CSMS Cold Boot Charge Point (0.00 s)"
    # Only the waits the cases ask for take (virtual) time: 2 × ConnectionTimeOut + 2 × boot interval.
    assert result.seconds == 2 * config.connection_timeout + 2 * fake.boot_interval
    assert all(not case.warnings for case in result.cases)


async def test_values_captured_from_answers_are_reused(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()
    fake._next_transaction = 4711
    operator = FakeOperator(fake)
    case = await run("TC_012_CSMS", fake, operator)
    assert case.status == "pass"
    assert operator.requests == [("CP-1", "RemoteStopTransaction", {"transactionId": 4711})]
    stops = [payload for action, payload in fake.received if action == "StopTransaction"]
    assert [(s["transactionId"], s["reason"]) for s in stops] == [(4711, "Remote")]


async def test_a_transaction_left_open_is_stopped_after_the_case(
    autojump_clock: trio.testing.MockClock,
) -> None:
    fake = FakeCsms()
    case = await run("TC_028_CSMS", fake)  # remote stop rejected: the transaction stays open
    assert case.status == "pass"
    assert [s.phase for s in case.steps][-2:] == ["cleanup", "cleanup"]
    assert [a for a, _ in fake.received][-2:] == ["StopTransaction", "StatusNotification"]


async def test_reboot_reconnects_and_boots_again(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()
    case = await run("TC_013_CSMS", fake)
    assert case.status == "pass"
    assert fake.connections == 2
    assert [a for a, _ in fake.received].count("BootNotification") == 2


async def test_aq1_pending_case_sets_and_resets_the_boot_policy(
    autojump_clock: trio.testing.MockClock,
) -> None:
    fake = FakeCsms()
    operator = FakeOperator(fake)
    start = trio.current_time()
    case = await run("R-01", fake, operator)
    assert case.status == "pass"
    assert operator.policies == ["PendingOnce", None]
    assert case.steps[0].phase == "setup"
    assert case.steps[-1].phase == "teardown"
    # The second boot came exactly one Pending interval after the first answer.
    assert trio.current_time() - start == fake.boot_interval
    boots = [i for i, (a, _) in enumerate(fake.received) if a == "BootNotification"]
    assert len(boots) == 2


# -------------------------------------------------------------------------------------- CSMS answers


async def test_an_answer_failing_the_response_schema_fails_the_step(
    autojump_clock: trio.testing.MockClock,
) -> None:
    fake = FakeCsms()
    fake.overrides["Authorize"] = raw_result({"idTagInfo": {"status": "Maybe"}})
    case = await run("TC_023_1_CSMS", fake)
    assert case.status == "fail"
    step = failed_step(case)
    assert step.description.startswith("CP→CS Authorize.req")
    assert "fails AuthorizeResponse schema" in step.reason
    assert "'Maybe' is not an allowed value" in step.reason
    assert case.timings[-1].outcome == "invalid"


async def test_a_wrong_status_names_the_field_and_both_values(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()
    fake.overrides["Authorize"] = raw_result({"idTagInfo": {"status": "Accepted"}})
    case = await run("TC_023_3_CSMS", fake)
    assert case.status == "fail"
    assert case.reason == 'step 5 (case): Authorize: idTagInfo.status is "Accepted", expected "Blocked"'


async def test_a_missing_answer_times_out_after_exactly_30_seconds(
    autojump_clock: trio.testing.MockClock,
) -> None:
    fake = FakeCsms()
    fake.overrides["Heartbeat"] = never()
    case = await run("TC_001_CSMS", fake)
    assert case.status == "fail"
    step = failed_step(case)
    assert step.reason == "no answer to Heartbeat within 30 s"
    assert step.seconds == 30.0
    assert case.seconds == 30.0
    assert case.timings[-1].outcome == "timeout" and case.timings[-1].seconds is None


async def test_a_callerror_instead_of_a_result_fails(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()
    fake.overrides["DataTransfer"] = raw_error("NotImplemented", "no DataTransfer here")
    case = await run("TC_064_CSMS", fake)
    assert case.status == "fail"
    assert (
        failed_step(case).reason
        == "CSMS answered DataTransfer with CALLERROR NotImplemented: no DataTransfer here"
    )


async def test_a_callerror_code_outside_the_16_table_is_a_violation(
    autojump_clock: trio.testing.MockClock,
) -> None:
    scenario = make_scenario([Send("Heartbeat", {}, expect_error="*")])
    fake = FakeCsms()
    fake.overrides["Heartbeat"] = raw_error("FormatViolation")
    case = await run(scenario, fake)
    assert case.status == "fail"
    assert "'FormatViolation' is not one of the ten OCPP-J 1.6 codes" in failed_step(case).reason


async def test_expecting_a_callerror(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()
    fake.overrides["Heartbeat"] = raw_error("SecurityError")
    assert (
        await run(make_scenario([Send("Heartbeat", {}, expect_error="SecurityError")]), fake)
    ).status == "pass"
    case = await run(make_scenario([Send("Heartbeat", {}, expect_error="ProtocolError")]), fake)
    assert (
        failed_step(case).reason == "Heartbeat: expected CALLERROR ProtocolError, got CALLERROR SecurityError"
    )
    case = await run(make_scenario([Send("Authorize", {"idTag": "X"}, expect_error="*")]))
    assert failed_step(case).reason == "Authorize: expected CALLERROR *, got a CALLRESULT"


async def test_a_warning_check_reports_without_failing(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()
    fake.overrides["DataTransfer"] = raw_result({"status": "Accepted"})
    case = await run("TC_064_CSMS", fake)
    assert case.status == "pass"
    assert case.warnings == [
        'DataTransfer: status is "Accepted", expected one of "Rejected", "UnknownMessageId", '
        '"UnknownVendorId"'
    ]


async def test_response_times_are_measured_per_call(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()
    fake.answer_delay["Authorize"] = 0.25
    fake.answer_delay["BootNotification"] = 1.5
    case = await run("TC_003_CSMS", fake)
    assert case.status == "pass"
    seconds = {t.action: t.seconds for t in case.timings}
    assert seconds["Authorize"] == 0.25
    assert seconds["BootNotification"] == 1.5
    assert seconds["StartTransaction"] == 0.0
    assert all(t.outcome == "result" for t in case.timings)


async def test_a_tighter_bound_than_the_response_timeout(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()
    fake.answer_delay["Heartbeat"] = 2.0
    case = await run(make_scenario([Send("Heartbeat", {}, max_seconds=1.0)]), fake)
    assert failed_step(case).reason == "Heartbeat: answered after 2.000 s; the case allows 1 s"


# ------------------------------------------------------------------------------------ CSMS-initiated


async def test_a_csms_call_failing_the_schema_fails_the_step(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()

    def drop_id_tag(action: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in payload.items() if k != "idTag"}

    case = await run("TC_026_CSMS", fake, FakeOperator(fake, mangle=drop_id_tag))
    assert case.status == "fail"
    step = failed_step(case)
    assert step.description.startswith("OP: make the CSMS send RemoteStartTransaction")
    assert "CSMS sent RemoteStartTransaction CALL that fails the schema" in step.reason
    assert "$.idTag is required" in step.reason
    assert step.seconds == 0.0  # no waiting for a CALL that already came and was refused
    # The charger answered the invalid CALL the way a charge point does.
    assert [code for _, code in fake.errors_received] == ["ProtocolError"]


async def test_a_csms_call_with_a_wrong_field_value_fails_its_check(
    autojump_clock: trio.testing.MockClock,
) -> None:
    fake = FakeCsms()
    case = await run("TC_013_CSMS", fake, FakeOperator(fake, mangle=lambda a, p: {"type": "Soft"}))
    assert case.status == "fail"
    assert failed_step(case).reason == 'Reset.req: type is "Soft", expected "Hard"'


async def test_an_operator_step_nobody_performs_times_out_with_a_clear_message(
    autojump_clock: trio.testing.MockClock,
) -> None:
    class Idle(FakeOperator):
        async def request(self, charger_id: str, action: str, payload: dict[str, Any]) -> OperatorResult:
            await trio.sleep_forever()

    fake = FakeCsms()
    case = await run("TC_010_CSMS", fake, Idle(fake))
    assert case.status == "fail"
    step = failed_step(case)
    assert step.reason == "operator did not make the CSMS send RemoteStartTransaction within 30 s"
    assert step.seconds == 30.0


async def test_an_operator_error_fails_without_waiting_the_window(
    autojump_clock: trio.testing.MockClock,
) -> None:
    class Refusing(FakeOperator):
        async def request(self, charger_id: str, action: str, payload: dict[str, Any]) -> OperatorResult:
            return OperatorResult(error="refused_by_state", reason="HTTP 409 charger is Pending")

    fake = FakeCsms()
    case = await run("TC_061_CSMS", fake, Refusing(fake))
    step = failed_step(case)
    assert step.reason == (
        "operator did not make the CSMS send ClearCache: refused_by_state: HTTP 409 charger is Pending"
    )
    assert step.seconds == 1.0


async def test_an_expected_call_window_is_enforced(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()
    fake.after_boot.append((12.0, "ClearCache", {}))
    scenario = make_scenario(
        [boot_notification(), ExpectCall("ClearCache", within=10, answer={"status": "Accepted"})], before=[]
    )
    case = await run(scenario, fake)
    assert failed_step(case).reason == "the CSMS did not send ClearCache within 10 s"
    fake = FakeCsms()
    fake.after_boot.append((8.0, "ClearCache", {}))
    case = await run(scenario, fake)
    assert case.status == "pass"
    assert case.steps[-2].detail == "ClearCache.req {} after 8.000 s"


async def test_an_unexpected_action_fails_the_expect_step(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()
    case = await run("TC_061_CSMS", fake, FakeOperator(fake, mangle=lambda a, p: p))
    assert case.status == "pass"
    fake = FakeCsms()
    fake.after_boot.append((0.0, "GetConfiguration", {}))
    case = await run("TC_061_CSMS", fake, FakeOperator(fake))
    assert failed_step(case).reason == "expected ClearCache from the CSMS, it sent GetConfiguration"


async def test_an_unsolicited_call_fails_the_case(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()
    fake.after_boot.append((0.0, "GetConfiguration", {}))
    case = await run("TC_001_CSMS", fake)
    assert case.status == "fail"
    step = failed_step(case)
    assert step.phase == "end"
    assert step.reason.startswith("the CSMS sent CALLs no step expected: GetConfiguration")
    # … unless the run allows them: then it is a warning.
    fake = FakeCsms()
    fake.after_boot.append((0.0, "GetConfiguration", {}))
    case = await run("TC_001_CSMS", fake, config=RunConfig(allow_unsolicited_calls=True))
    assert case.status == "pass"
    assert case.warnings == ["unsolicited CALLs answered NotSupported: GetConfiguration"]


async def test_a_malformed_frame_fails_the_running_step(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()
    fake.overrides["Heartbeat"] = lambda unique_id, payload: "[3, not json"
    case = await run("TC_001_CSMS", fake)
    step = failed_step(case)
    assert step.description.startswith("CP→CS Heartbeat")
    assert step.reason.startswith("CSMS sent a frame that is not OCPP-J: ")
    assert step.seconds == 0.0  # the step fails when the bad frame arrives, not after the timeout


async def test_a_call_of_a_charger_action_is_a_violation(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()

    def heartbeat_from_the_csms(unique_id: str, payload: dict[str, Any]) -> str:
        return encode_call("x1", "Heartbeat", {})

    fake.overrides["Heartbeat"] = heartbeat_from_the_csms
    case = await run(make_scenario([Send("Heartbeat", {}, max_seconds=30)]), fake)
    assert "CSMS sent Heartbeat CALL that fails the schema/direction rules" in failed_step(case).reason
    assert ("x1", "NotSupported") in fake.errors_received


async def test_silence_and_a_tolerated_close(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()
    fake.after_boot.append((3.0, "ClearCache", {}))
    scenario = make_scenario([ExpectSilence(5, "quiet please")], before=[BOOTED])
    case = await run(scenario, fake)
    assert failed_step(case).reason == "the CSMS sent ClearCache where it must send nothing"

    class Closing(FakeCsms):
        def respond(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
            if action == "BootNotification" and self.connections == 1:
                assert self.ws is not None
                trio.lowlevel.spawn_system_task(self.ws.aclose, 1000, "rejected")
            return super().respond(action, payload)

    fake = Closing()
    fake.boot_queue = ["Rejected"]
    scenario = make_scenario(
        [
            boot_notification("Rejected"),
            ExpectSilence(10, tolerate_close=True),
            Reconnect(only_if_closed=True),
            boot_notification(),
            status_all(),
        ],
        before=[],
    )
    case = await run(scenario, fake)
    assert case.status == "pass", case.reason
    assert "the CSMS closed the connection" in case.steps[2].detail
    assert fake.connections == 2


async def test_a_close_during_a_wait_fails(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()
    fake.after_boot.append((1.0, "ClearCache", {}))
    scenario = make_scenario([Wait(5), ExpectCall("ClearCache", answer={"status": "Accepted"})])
    assert (await run(scenario, fake)).status == "pass"  # a CALL arriving during a wait stays queued

    class Hangup(FakeCsms):
        async def _later(self, delay: float, action: str, payload: dict[str, Any]) -> None:
            await trio.sleep(delay)
            assert self.ws is not None
            await self.ws.aclose(1001, "going away")

    fake = Hangup()
    fake.after_boot.append((1.0, "ClearCache", {}))
    case = await run(make_scenario([Wait(5)]), fake)
    assert (
        failed_step(case).reason == "the CSMS closed the connection during the wait (code 1001 'going away')"
    )


async def test_a_suite_bug_is_an_error_not_a_failure(autojump_clock: trio.testing.MockClock) -> None:
    case = await run(make_scenario([Send("StatusNotification", {"connectorId": 1})]))
    assert case.status == "error"
    assert "suite error: the suite built an invalid StatusNotification.req" in case.reason
    case = await run(make_scenario([Send("Authorize", {"idTag": Var("nothing")})]))
    assert case.status == "error"
    assert "no value 'nothing' was captured" in case.reason


async def test_the_whole_case_is_bounded(autojump_clock: trio.testing.MockClock) -> None:
    case = await run(make_scenario([Wait(50)]), config=RunConfig(case_timeout=40))
    assert case.status == "fail"
    assert case.reason.endswith("the case did not finish within 40 s")
    assert case.seconds == 40.0


async def test_a_refused_connection_fails_the_case(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms(password="secret")
    case = await run("TC_001_CSMS", fake)
    assert case.status == "fail"
    assert case.reason == "step 1 (setup): in-process handshake for /ocpp/CP-1 failed: HTTP 401 unauthorized"
    target = InProcessTarget(fake, password="secret")
    case = await run_case(
        SCENARIOS["TC_001_CSMS"], target=target, operator=FakeOperator(fake), config=RunConfig()
    )
    assert case.status == "pass"


# ------------------------------------------------------------------------------------------ deviations


async def test_known_deviations_and_unexpected_passes(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()
    fake.overrides["Authorize"] = raw_result({"idTagInfo": {"status": "Invalid"}})
    deviations = from_mapping({"TC_023_2": "expired tags answer Invalid (#12)", "TC_023_1": "fixed already?"})
    result: RunResult = await run_suite(
        [SCENARIOS[i] for i in ("TC_023_1_CSMS", "TC_023_2_CSMS", "TC_023_3_CSMS")],
        target=InProcessTarget(fake),
        operator=FakeOperator(fake),
        config=RunConfig(),
        deviations=deviations,
    )
    assert [c.status for c in result.cases] == ["unexpected_pass", "deviation", "fail"]
    assert result.exit_status == 1
    assert progress_line(result.cases[1]).startswith("DEVIATION TC_023_2_CSMS")
    assert progress_line(result.cases[1]).endswith("[known deviation: expired tags answer Invalid (#12)]")
    result.cases.pop()
    assert result.exit_status == 0


@pytest.mark.parametrize("status", ["Accepted", "Rejected"])
async def test_check_helpers(status: str) -> None:
    from conformance.steps import Context

    ctx = Context(RunConfig(), {"transactionId": 7})
    assert id_tag_status("Accepted").problem({"idTagInfo": {"status": status}}, ctx) == (
        None if status == "Accepted" else 'idTagInfo.status is "Rejected", expected "Accepted"'
    )
    assert Equals("transactionId", Var("transactionId")).problem({"transactionId": 7}, ctx) is None
    assert (
        Equals("transactionId", Var("transactionId")).problem({}, ctx)
        == "transactionId is missing, expected 7"
    )
    assert Equals("x", 1).problem({"x": True}, ctx) == "x is true, expected 1"
    assert (
        Operator.request("Reset", {"type": "Hard"}).describe()
        == 'OP: make the CSMS send Reset {type: "Hard"}'
    )


async def test_an_already_open_connection_can_be_used_once(autojump_clock: trio.testing.MockClock) -> None:
    fake = FakeCsms()
    server_stream, client_stream = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(fake.serve_stream, server_stream)
        ws = await wrap_client_stream(
            nursery,
            client_stream,  # type: ignore[arg-type]
            "localhost",
            "/ocpp/CP-1",
            subprotocols=["ocpp1.6"],
        )

        class Opened:
            def __init__(self) -> None:
                self.opened = OpenedTransport(ws)

            def transport(self, config: RunConfig) -> OpenedTransport:
                return self.opened

            def describe(self) -> str:
                return "given connection"

        target = Opened()
        case = await run_case(
            SCENARIOS["TC_001_CSMS"], target=target, operator=FakeOperator(fake), config=RunConfig()
        )
        assert case.status == "pass", case.reason
        case = await run_case(
            SCENARIOS["TC_001_CSMS"], target=target, operator=FakeOperator(fake), config=RunConfig()
        )
        assert case.reason == "step 1 (setup): this run was given one open connection and cannot reconnect"
        nursery.cancel_scope.cancel()
