"""The runner: executes scenarios against a CSMS, one fresh connection per case, and records everything
the report needs.

Per case:

1. ``SETUP`` operator actions (e.g. set the charger's boot policy), then connect.
2. The reusable states of ``BEFORE`` (dependencies first), then ``STEPS``. The first failing step ends
   the case; later steps are listed as not run.
3. End of case: a CSMS CALL no step asked for, or a protocol violation that arrived after the last step,
   fails the case (unsolicited CALLs break OCTT runs, octt-csms-cases.md §4.5).
4. Clean-up, never blamed on the CSMS: transactions the case left open are stopped (so the next case
   starts clean), the connection is closed, and ``TEARDOWN`` operator actions run.

Timing: every CSMS answer must come within the response timeout (30 s), a CSMS-initiated CALL within its
step's window (30 s unless the step says otherwise), and the whole case within ``case_timeout``. All time
is ``trio.current_time()``, so a run under ``trio.testing.MockClock`` is exact and instantaneous.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import urllib.parse
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import h11
import trio
import trio.lowlevel
import wsproto.utilities

from conformance.config import RunConfig
from conformance.deviations import Deviations
from conformance.operators import OperatorAdapter, OperatorError, OperatorResult
from conformance.scenario import Scenario
from conformance.simulator import (
    SUBPROTOCOL,
    ChargePoint,
    Closed,
    ConnectError,
    FactoryTransport,
    FrameRecord,
    IncomingCall,
    ScenarioError,
    StreamTransport,
    Timing,
    Transport,
    UrlTransport,
    Violation,
    basic_auth_header,
    open_charge_point,
)
from conformance.steps import (
    MISSING,
    Context,
    CustomStep,
    Disconnect,
    Expand,
    ExpectCall,
    ExpectSilence,
    OperatorAction,
    OperatorBootPolicy,
    OperatorRequest,
    OperatorStep,
    Reconnect,
    Ref,
    ScenarioValueError,
    Send,
    Step,
    StepFailure,
    Wait,
    lookup,
    resolve,
    show,
)
from engine._version import __version__
from engine.protocol.errors import ErrorCode
from engine.protocol.validation import SchemaRegistry, default_registry

StepStatus = Literal["pass", "fail", "error", "not_run"]
CaseStatus = Literal["pass", "fail", "error", "deviation", "unexpected_pass"]

#: how long an operator adapter may take to report back after its CALL was answered
OPERATOR_GRACE = 5.0


# ---------------------------------------------------------------------------------------------- records


@dataclass
class StepResult:
    index: int
    #: "setup", a reusable state's name ("Booted"), "case", "end", "cleanup" or "teardown"
    phase: str
    description: str
    status: StepStatus
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    #: seconds since the case started
    started: float = 0.0
    seconds: float = 0.0
    timings: list[Timing] = field(default_factory=list)
    detail: str = ""


@dataclass
class CaseResult:
    scenario: Scenario
    status: CaseStatus
    reason: str
    seconds: float
    steps: list[StepResult]
    timings: list[Timing]
    frames: list[FrameRecord]
    warnings: list[str] = field(default_factory=list)
    #: the known-deviation reason when the case is listed
    deviation: str | None = None

    @property
    def ok(self) -> bool:
        """Counts as passed for the exit status (passed, or a listed deviation)."""
        return self.status in ("pass", "deviation", "unexpected_pass")

    @property
    def raw_passed(self) -> bool:
        """Passed, whatever the deviations file says."""
        return self.status in ("pass", "unexpected_pass")

    @property
    def expected(self) -> str:
        """The reaction the case expects, for cases that declare one (robustness rows); else ``""``."""
        return self.scenario.expected

    @property
    def actual(self) -> str:
        """What the CSMS did: the first failure, or the detail of the case's last step when it passed."""
        if not self.raw_passed:
            return self.reason
        details = [step.detail for step in self.steps if step.phase == "case" and step.detail]
        if len(details) > 1:
            return f"{len(details)} steps as expected; the last: {details[-1]}"
        return details[-1] if details else ""


@dataclass
class RunResult:
    cases: list[CaseResult]
    target: str
    operator: str
    config: RunConfig
    started_at: str
    seconds: float
    tool: str = field(default_factory=lambda: f"ocpp-trio conformance {__version__}")

    @property
    def ok(self) -> bool:
        return all(case.ok for case in self.cases)

    @property
    def exit_status(self) -> int:
        return 0 if self.ok else 1


# ----------------------------------------------------------------------------------------------- targets


class Target(Protocol):
    """Where the CSMS under test is: builds a transport for each fresh connection."""

    def transport(self, config: RunConfig) -> Transport: ...

    def describe(self) -> str: ...


@dataclass
class UrlTarget:
    """A CSMS at a ws:// or wss:// URL; chargers connect to ``<url>/<charger id>``."""

    csms_url: str
    password: str | None = None
    ssl_context: Any = None
    connect_timeout: float = 10.0

    def transport(self, config: RunConfig) -> Transport:
        return UrlTransport(
            self.csms_url,
            config.charger_id,
            password=self.password,
            ssl_context=self.ssl_context,
            connect_timeout=self.connect_timeout,
        )

    def describe(self) -> str:
        return self.csms_url


@dataclass
class InProcessTarget:
    """An ocpp-trio ``Csms`` in this process, reached over memory streams (virtual time works).

    Uses ``csms.open_memory_connection(path, subprotocols, extra_headers)`` when the CSMS has it, else
    serves a memory stream pair with ``csms.serve_stream``.
    """

    csms: Any
    password: str | None = None
    path_prefix: str | None = None

    def transport(self, config: RunConfig) -> Transport:
        prefix = self.path_prefix
        if prefix is None:
            prefix = self.csms.config.server.path_prefix
        path = f"{prefix}/{urllib.parse.quote(config.charger_id, safe='')}"
        headers = [basic_auth_header(config.charger_id, self.password)] if self.password is not None else None
        opener = getattr(self.csms, "open_memory_connection", None)
        if opener is not None:
            return FactoryTransport(opener, path, extra_headers=headers)
        return StreamTransport(self.csms.serve_stream, path, extra_headers=headers)

    def describe(self) -> str:
        return "in-process ocpp-trio"


# ------------------------------------------------------------------------------------------------ running


class _StepFailed(StepFailure):
    def __init__(self, reason: str, status: StepStatus = "fail"):
        super().__init__(reason, status)


class _CaseRun:
    def __init__(
        self,
        scenario: Scenario,
        target: Target,
        operator: OperatorAdapter,
        config: RunConfig,
        schemas: SchemaRegistry,
    ):
        self.scenario = scenario
        self.operator = operator
        if scenario.charger_suffix:
            # Robustness rows run as an identity of their own, so they cannot disturb other cases.
            config = dataclasses.replace(config, charger_id=config.charger_id + scenario.charger_suffix)
        self.config = config
        self.schemas = schemas
        self.transport = target.transport(config)
        self.ctx = Context(config)
        self.cp: ChargePoint | None = None
        self._stack: AsyncExitStack | None = None
        self.steps: list[StepResult] = []
        self.timings: list[Timing] = []
        self.frames: list[FrameRecord] = []
        self.warnings: list[str] = []
        self.t0 = 0.0

    # ------------------------------------------------------------------------------------ connection

    async def connect(self) -> None:
        stack = AsyncExitStack()
        try:
            try:
                self.cp = await stack.enter_async_context(
                    open_charge_point(
                        self.transport, schemas=self.schemas, response_timeout=self.config.response_timeout
                    )
                )
            except* (h11.LocalProtocolError, wsproto.utilities.LocalProtocolError) as group:
                # trio-websocket cannot even reject an invalid handshake answer (a subprotocol we did
                # not offer, a bad accept token): its reader fails inside its nursery. A broken CSMS
                # fails the step; it must not crash the run.
                where = self.transport.describe()
                reason = _protocol_error(group)
                raise ConnectError(f"websocket handshake with {where} failed: {reason}") from None
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        selected = self.cp.ws.subprotocol
        if selected != SUBPROTOCOL:
            # The CSMS must select one of the offered subprotocols (RFC 6455 §4.1, OCPP-J §3.1); with
            # none selected this is not an OCPP 1.6 connection.
            what = "no subprotocol" if selected is None else f"subprotocol {selected!r}"
            raise _StepFailed(f"the CSMS selected {what}; the charger offered only {SUBPROTOCOL}")

    async def disconnect(self) -> None:
        stack, cp = self._stack, self.cp
        self._stack, self.cp = None, None
        if stack is None or cp is None:
            return
        try:
            await stack.aclose()
        finally:
            self.timings.extend(cp.timings)
            self.frames.extend(cp.frames)

    def connected(self) -> ChargePoint:
        cp = self.cp
        if cp is None:
            raise _StepFailed("the charger is not connected (an earlier step closed the connection)")
        if cp.closed is not None:
            raise _StepFailed(f"the CSMS closed the connection earlier ({cp.closed.reason})")
        return cp

    # ------------------------------------------------------------------------------------------ case

    async def run(self) -> tuple[str, str]:
        """Run the case; returns (raw status, reason of the first failure)."""
        self.t0 = trio.current_time()
        try:
            # Connections are opened and closed inside this scope and outside any other: their nurseries
            # must nest properly with every cancel scope (so no shield or deadline around the clean-up).
            with trio.fail_after(self.config.case_timeout):
                try:
                    await self._run_case_steps()
                    await self._stop_open_transactions()
                finally:
                    await self._disconnect_quietly()
        except trio.TooSlowError:
            self.steps.append(
                StepResult(
                    len(self.steps) + 1,
                    "case",
                    "the whole case",
                    "fail",
                    f"the case did not finish within {self.config.case_timeout:g} s",
                    started=trio.current_time() - self.t0,
                )
            )
        await self._run_operator_actions(self.scenario.teardown, "teardown")
        for step in self.steps:
            if step.phase in ("cleanup", "teardown") and step.status in ("fail", "error"):
                self.warnings.append(f"{step.phase}: {step.description}: {step.reason}")
        for step in self.steps:
            if step.status in ("fail", "error") and step.phase not in ("cleanup", "teardown"):
                where = f"step {step.index} ({step.phase})"
                return step.status, f"{where}: {step.reason}"
        return "pass", ""

    async def _run_case_steps(self) -> None:
        ok = await self._run_operator_actions(self.scenario.setup, "setup")
        if ok and self.scenario.connect:
            ok = await self._run_steps([_Connect()], "setup")
        for state in self.scenario.states:
            if ok:
                ok = await self._run_steps(list(state.steps), state.name)
        if ok:
            ok = await self._run_steps(list(self.scenario.steps), "case")
        if ok:
            await self._run_steps([_EndOfCase()], "end")

    async def _stop_open_transactions(self) -> None:
        """Stop transactions the case left open, so the next case starts clean (never a verdict)."""
        cp = self.cp
        if cp is None or cp.closed is not None:
            return
        for transaction_id, connector in list(self.ctx.open_transactions.items()):
            stop = {
                "transactionId": transaction_id,
                "meterStop": 1500,
                "timestamp": _now(),
                "reason": "Local",
            }
            available = {
                "connectorId": connector,
                "errorCode": "NoError",
                "status": "Available",
                "timestamp": _now(),
            }
            steps: list[Step] = [
                Send("StopTransaction", stop, note="clean-up: stop the transaction the case left open"),
                Send("StatusNotification", available, note="clean-up"),
            ]
            await self._run_steps(steps, "cleanup")

    async def _disconnect_quietly(self) -> None:
        try:
            await self.disconnect()
        except Exception as exc:  # closing never matters to the verdict
            self.warnings.append(f"closing the connection failed: {exc!r}")

    async def _run_operator_actions(self, actions: Sequence[OperatorAction], phase: str) -> bool:
        return await self._run_steps([OperatorStep(action) for action in actions], phase)

    async def _run_steps(self, steps: Sequence[Step], phase: str) -> bool:
        for step in steps:
            if isinstance(step, Expand):
                try:
                    expanded = list(step.function(self.ctx))
                except ScenarioValueError as exc:
                    self._record(step, phase, "error", str(exc), trio.current_time())
                    return False
                if not await self._run_steps(expanded, phase):
                    return False
                continue
            if not await self._run_one(step, phase):
                return False
        return True

    def _record(self, step: Step, phase: str, status: StepStatus, reason: str, started: float) -> StepResult:
        result = StepResult(
            index=len(self.steps) + 1,
            phase=phase,
            description=step.describe(),
            status=status,
            reason=reason,
            started=started - self.t0,
            seconds=trio.current_time() - started,
        )
        self.steps.append(result)
        return result

    async def _run_one(self, step: Step, phase: str) -> bool:
        started = trio.current_time()
        cp_before = self.cp
        timings_before = len(cp_before.timings) if cp_before is not None else 0
        warnings: list[str] = []
        detail = ""
        status: StepStatus = "pass"
        reason = ""
        try:
            detail = await self._execute(step, warnings)
        except StepFailure as exc:
            status, reason = ("error" if exc.status == "error" else "fail"), exc.reason
        except (ScenarioError, ScenarioValueError) as exc:
            status, reason = "error", f"suite error: {exc}"
        except ConnectError as exc:
            status, reason = "fail", str(exc)
        except OperatorError as exc:
            status, reason = "error", f"operator adapter: {exc}"
        # Whatever invalid thing the CSMS sent while this step ran fails this step.
        violations = self.cp.inbox.take_violations() if self.cp is not None else []
        extra = [v.message for v in violations if v.message not in reason]
        if extra:
            status = "fail" if status == "pass" else status
            reason = "; ".join([reason, *extra] if reason else extra)
        result = self._record(step, phase, status, reason, started)
        result.warnings = warnings
        result.detail = detail
        if cp_before is not None and cp_before is self.cp:
            result.timings = list(cp_before.timings[timings_before:])
        return status == "pass"

    # ---------------------------------------------------------------------------------------- steps

    async def _execute(self, step: Step, warnings: list[str]) -> str:
        if isinstance(step, Send):
            return await self._send(step, warnings)
        if isinstance(step, ExpectCall):
            return await self._expect_call(step, warnings)
        if isinstance(step, OperatorStep):
            return await self._operator_step(step)
        if isinstance(step, Wait):
            return await self._wait(step)
        if isinstance(step, ExpectSilence):
            return await self._silence(step)
        if isinstance(step, Disconnect):
            await self.disconnect()
            return ""
        if isinstance(step, Reconnect):
            if step.only_if_closed and self.cp is not None and self.cp.closed is None:
                return "connection still open"
            await self.disconnect()
            await self.connect()
            return ""
        if isinstance(step, _Connect):
            await self.connect()
            return f"connected to {self.transport.describe()}"
        if isinstance(step, _EndOfCase):
            return await self._end_of_case(warnings)
        if isinstance(step, CustomStep):
            return await step.execute(self, warnings)
        raise ScenarioError(f"unknown step type {type(step).__name__}")  # pragma: no cover

    async def _send(self, step: Send, warnings: list[str]) -> str:
        cp = self.connected()
        payload = resolve(step.payload, self.ctx)
        outcome = await cp.call(step.action, payload)
        timeout = cp.response_timeout
        if step.expect_error is not None:
            if outcome.kind != "error":
                got = "a CALLRESULT" if outcome.kind in ("result", "invalid") else outcome.describe(timeout)
                raise _StepFailed(f"{step.action}: expected CALLERROR {step.expect_error}, got {got}")
            if step.expect_error not in ("*", outcome.error_code):
                expected = f"expected CALLERROR {step.expect_error}"
                raise _StepFailed(f"{step.action}: {expected}, got CALLERROR {outcome.error_code}")
            return f"CALLERROR {outcome.error_code} after {outcome.seconds or 0:.3f} s"
        if outcome.kind != "result" or outcome.payload is None:
            raise _StepFailed(outcome.describe(timeout))
        answer = outcome.payload
        if (
            step.max_seconds is not None
            and outcome.seconds is not None
            and outcome.seconds > step.max_seconds
        ):
            raise _StepFailed(
                f"{step.action}: answered after {outcome.seconds:.3f} s; "
                f"the case allows {step.max_seconds:g} s"
            )
        self._track_transactions(step.action, payload, answer)
        problems = self._checks(step.checks, answer, warnings, step.action)
        self._capture(step.capture, answer)
        if problems:
            raise _StepFailed(f"{step.action}: " + "; ".join(problems))
        return f"{step.action}.conf {show(answer)} after {outcome.seconds or 0:.3f} s"

    def _track_transactions(self, action: str, request: dict[str, Any], answer: dict[str, Any]) -> None:
        if action == "StartTransaction" and isinstance(answer.get("transactionId"), int):
            self.ctx.open_transactions[answer["transactionId"]] = int(request["connectorId"])
        elif action == "StopTransaction":
            self.ctx.open_transactions.pop(request.get("transactionId"), None)  # type: ignore[arg-type]

    def _checks(
        self, checks: Sequence[Any], payload: dict[str, Any], warnings: list[str], action: str
    ) -> list[str]:
        problems: list[str] = []
        for check in checks:
            problem = check.problem(payload, self.ctx)
            if problem is None:
                continue
            if check.warning:
                warnings.append(f"{action}: {problem}")
            else:
                problems.append(problem)
        return problems

    def _capture(self, capture: Any, payload: dict[str, Any]) -> None:
        for name, path in capture.items():
            value = lookup(payload, path)
            if value is not MISSING:
                self.ctx.values[name] = value

    async def _expect_call(self, step: ExpectCall, warnings: list[str]) -> str:
        cp = self.connected()
        window = self._seconds(step.within) if step.within is not None else self.config.call_window
        trigger_payload = resolve(step.trigger.payload, self.ctx) if step.trigger is not None else None
        operator_result: list[OperatorResult] = []
        operator_done = trio.Event()
        received = False
        start = trio.current_time()
        wait_scope = trio.CancelScope(deadline=start + window)

        async def operate(trigger: OperatorRequest, payload: dict[str, Any]) -> None:
            try:
                result = await self.operator.request(self.ctx.charger_id, trigger.action, payload)
            except OperatorError as exc:
                result = OperatorResult(error="operator_unavailable", reason=str(exc))
            operator_result.append(result)
            operator_done.set()
            if not result.ok and self.operator.waits_for_result:
                # The CSMS reports a failure before its CALL reached us: it will not come. A moment's
                # grace covers a CALL that is already on its way.
                await trio.sleep(1.0)
                if not received:
                    wait_scope.cancel()

        call: IncomingCall | None = None
        problems: list[str] = []
        failure: Exception | None = None
        # Nothing may raise out of the nursery body (it would arrive wrapped in an exception group).
        async with trio.open_nursery() as nursery:
            if step.trigger is not None and trigger_payload is not None:
                nursery.start_soon(operate, step.trigger, trigger_payload)
            try:
                with wait_scope:
                    call = await self._next_call(cp, step.action, warnings)
                    received = True
                if call is not None:
                    problems = self._checks(step.checks, call.payload, warnings, step.action)
                    self._capture(step.capture, call.payload)
                    await self._answer(cp, call, step)
            except (_StepFailed, ScenarioError, ScenarioValueError) as exc:
                failure = exc
            if step.trigger is not None and call is not None and self.operator.waits_for_result:
                with trio.move_on_after(OPERATOR_GRACE):
                    await operator_done.wait()
            nursery.cancel_scope.cancel()
        if failure is not None:
            raise failure
        op_text = f"operator: {operator_result[0].describe()}" if operator_result else ""
        if call is None:
            if step.trigger is None:
                raise _StepFailed(f"the CSMS did not send {step.action} within {window:g} s")
            if operator_result and not operator_result[0].ok:
                raise _StepFailed(
                    f"operator did not make the CSMS send {step.action}: {operator_result[0].describe()}"
                )
            raise _StepFailed(f"operator did not make the CSMS send {step.action} within {window:g} s")
        if problems:
            raise _StepFailed(f"{step.action}.req: " + "; ".join(problems))
        if operator_result and not operator_result[0].ok:
            warnings.append(
                f"the operator reported an error after the CALL was answered: {operator_result[0].describe()}"
            )
        text = f"{step.action}.req {show(call.payload)} after {max(call.received_at - start, 0.0):.3f} s"
        return f"{text}; {op_text}" if op_text else text

    async def _next_call(self, cp: ChargePoint, action: str, warnings: list[str]) -> IncomingCall:
        while True:
            item = await cp.inbox.get()
            if isinstance(item, IncomingCall):
                if item.action == action:
                    return item
                await cp.answer_error(item, ErrorCode.NOT_SUPPORTED, "not expected by this test case")
                if self.config.allow_unsolicited_calls:
                    warnings.append(
                        f"CSMS sent {item.action} while the case waited for {action}; answered NotSupported"
                    )
                    continue
                raise _StepFailed(f"expected {action} from the CSMS, it sent {item.action}")
            if isinstance(item, Violation):
                raise _StepFailed(item.message)
            if isinstance(item, Closed):
                cp.inbox.put(item)  # later steps must see it too
                raise _StepFailed(
                    f"the CSMS closed the connection ({item.reason}) while the case waited for {action}"
                )

    async def _answer(self, cp: ChargePoint, call: IncomingCall, step: ExpectCall) -> None:
        if step.answer_error is not None:
            await cp.answer_error(call, step.answer_error[0], step.answer_error[1])
            return
        if callable(step.answer) and not isinstance(step.answer, Ref):
            payload = step.answer(call.payload, self.ctx)
        else:
            payload = resolve(step.answer, self.ctx)
        await cp.answer(call, payload)

    async def _operator_step(self, step: OperatorStep) -> str:
        action = step.action
        limit = self.config.call_window + self.config.response_timeout
        with trio.move_on_after(limit) as scope:
            if isinstance(action, OperatorBootPolicy):
                result = await self.operator.set_boot_policy(self.ctx.charger_id, action.policy)
            else:
                payload = resolve(action.payload, self.ctx)
                result = await self.operator.request(self.ctx.charger_id, action.action, payload)
        if scope.cancelled_caught:
            raise _StepFailed(f"the operator did not finish within {limit:g} s")
        if not result.ok:
            raise _StepFailed(f"operator: {result.describe()}")
        return f"operator: {result.describe()}"

    def _seconds(self, value: float | Ref, cap: float | Ref | None = None) -> float:
        seconds = float(resolve(value, self.ctx))
        if cap is not None:
            seconds = min(seconds, float(resolve(cap, self.ctx)))
        return max(seconds, 0.0)

    async def _wait(self, step: Wait) -> str:
        cp = self.cp
        seconds = self._seconds(step.seconds, step.cap)
        was_open = cp is not None and cp.closed is None
        await trio.sleep(seconds)
        if was_open and cp is not None and cp.closed is not None:
            raise _StepFailed(f"the CSMS closed the connection during the wait ({cp.closed.reason})")
        return f"waited {seconds:g} s"

    async def _silence(self, step: ExpectSilence) -> str:
        cp = self.connected()
        seconds = self._seconds(step.seconds, step.cap)
        closed_note = ""
        with trio.move_on_after(seconds):
            while True:
                item = await cp.inbox.get()
                if isinstance(item, IncomingCall):
                    await cp.answer_error(item, ErrorCode.NOT_SUPPORTED, "not expected by this test case")
                    raise _StepFailed(f"the CSMS sent {item.action} where it must send nothing")
                if isinstance(item, Violation):
                    raise _StepFailed(item.message)
                if step.tolerate_close:
                    closed_note = f"; the CSMS closed the connection ({item.reason})"
                    await trio.sleep_forever()
                raise _StepFailed(f"the CSMS closed the connection ({item.reason})")
        return f"silent for {seconds:g} s{closed_note}"

    async def _end_of_case(self, warnings: list[str]) -> str:
        cp = self.cp
        if cp is None or cp.closed is not None:
            return "connection closed"
        await trio.lowlevel.checkpoint()  # let frames already received be dispatched
        calls = cp.inbox.take_calls()
        for call in calls:
            await cp.answer_error(call, ErrorCode.NOT_SUPPORTED, "not expected by this test case")
        if calls:
            names = ", ".join(call.action for call in calls)
            if not self.config.allow_unsolicited_calls:
                raise _StepFailed(
                    f"the CSMS sent CALLs no step expected: {names} (unsolicited CALLs break OCTT runs)"
                )
            warnings.append(f"unsolicited CALLs answered NotSupported: {names}")
        return "no unsolicited CALLs"


class _Connect(Step):
    def describe(self) -> str:
        return "CP opens the websocket connection (subprotocol ocpp1.6)"


class _EndOfCase(Step):
    def describe(self) -> str:
        return "no unexpected CALLs or invalid frames from the CSMS"


def _protocol_error(group: BaseExceptionGroup[Exception]) -> str:
    """Why the websocket library could not even reject a handshake answer: wsproto's complaint
    ("unrecognized subprotocol ocpp2.0.1") is the context of the error trio-websocket then ran into."""
    error: BaseException = group.exceptions[0]
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, wsproto.utilities.RemoteProtocolError):
            return f"invalid handshake answer: {seen}"
        seen = seen.__context__
    return f"invalid handshake answer: {error}"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ------------------------------------------------------------------------------------------------- public


async def run_case(
    scenario: Scenario,
    *,
    target: Target,
    operator: OperatorAdapter,
    config: RunConfig,
    deviations: Deviations | None = None,
    schemas: SchemaRegistry | None = None,
) -> CaseResult:
    """Run one scenario on a fresh connection and judge it (deviations applied)."""
    run = _CaseRun(scenario, target, operator, config, schemas if schemas is not None else default_registry())
    raw, reason = await run.run()
    seconds = trio.current_time() - run.t0
    deviation = deviations.reason(scenario.id) if deviations is not None else None
    status: CaseStatus
    if deviation is not None:
        status = "unexpected_pass" if raw == "pass" else "deviation"
    else:
        status = "pass" if raw == "pass" else ("error" if raw == "error" else "fail")
    warnings = [w for step in run.steps for w in step.warnings] + run.warnings
    return CaseResult(
        scenario=scenario,
        status=status,
        reason=reason,
        seconds=seconds,
        steps=run.steps,
        timings=run.timings,
        frames=run.frames,
        warnings=warnings,
        deviation=deviation,
    )


PROGRESS_WORDS: dict[str, str] = {
    "pass": "PASS",
    "fail": "FAIL",
    "error": "ERROR",
    "deviation": "DEVIATION",
    "unexpected_pass": "UNEXPECTED PASS",
}


def progress_line(case: CaseResult) -> str:
    """``PASS TC_001_CSMS Cold Boot Charge Point (0.41 s)``, plus the reason when it did not pass."""
    line = f"{PROGRESS_WORDS[case.status]} {case.scenario.id} {case.scenario.title} ({case.seconds:.2f} s)"
    if case.expected:
        line += f" — expected: {case.expected}; got: {case.actual or '-'}"
    elif case.status in ("fail", "error", "deviation") and case.reason:
        line += f" — {case.reason}"
    if case.status in ("deviation", "unexpected_pass") and case.deviation:
        line += f" [known deviation: {case.deviation}]"
    return line


async def run_suite(
    scenarios: Sequence[Scenario],
    *,
    target: Target,
    operator: OperatorAdapter,
    config: RunConfig,
    deviations: Deviations | None = None,
    progress: Callable[[CaseResult], None] | None = None,
    provision: bool = True,
    schemas: SchemaRegistry | None = None,
) -> RunResult:
    """Provision the CSMS through the operator (raises :class:`OperatorError` when that fails), then run
    the scenarios one after the other."""
    started_at = _now()
    t0 = trio.current_time()
    if provision:
        await operator.provision(config)
    cases: list[CaseResult] = []
    for scenario in scenarios:
        case = await run_case(
            scenario, target=target, operator=operator, config=config, deviations=deviations, schemas=schemas
        )
        cases.append(case)
        if progress is not None:
            progress(case)
    return RunResult(
        cases=cases,
        target=target.describe(),
        operator=operator.name,
        config=config,
        started_at=started_at,
        seconds=trio.current_time() - t0,
    )
