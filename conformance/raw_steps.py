"""Robustness steps: what a broken or hostile charge point does, and the exact reaction expected.

Each step is a :class:`~conformance.steps.CustomStep` the runner executes like its own steps; each opens
its own raw connections (:mod:`conformance.probes`) as the case's charger identity and closes them before
it returns, so a row never leaves anything behind. The steps:

- :class:`HandshakeProbe` — an opening handshake with a chosen path, subprotocol offer and headers; the
  CSMS must refuse it with an HTTP status, or upgrade selecting exactly one subprotocol;
- :class:`HttpProbe` — a plain HTTP request on the OCPP path (no upgrade); the HTTP status expected;
- :class:`SlowHandshake` — a handshake trickled a byte at a time, never finished; the CSMS must close it
  at its handshake deadline;
- :class:`RawProbe` — upgrade, BootNotification (Accepted), then a script of :class:`ProbeAction`: raw
  text, binary or hand-made frames out; a CALLERROR code, a CALLRESULT, no reply or a close code
  expected back; operator actions in the background;
- :class:`DuplicateConnection` — a second connection for the identity while the first is open;
- :class:`ExpectOperatorRefusal` — on the runner's own connection: the operator asks for a CALL the
  CSMS must refuse to send; it must report an error and send the charger nothing.

"No reply" is proven by waiting ``robustness_silence`` (2 s by default; virtual time in-process) and
then a Heartbeat the CSMS must still answer on the same connection (:class:`ExpectAlive`).

Frame templates: ``$ID`` becomes a fresh message id of this run (so the CSMS's cache of
recent answers never interferes between rows), ``$CALLID`` the id of the CALL the CSMS sent last.
"""

from __future__ import annotations

import abc
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import trio

from conformance.config import RunConfig, configuration_answer
from conformance.operators import OperatorError, OperatorResult
from conformance.probes import (
    OPCODE_CONTINUATION,
    OPCODE_TEXT,
    HandshakeOutcome,
    Header,
    ProbeConnectError,
    StreamSource,
    Wire,
    WireClosed,
    WireSession,
    http_exchange,
    log_text,
    open_wire,
    stream_source,
    ws_frame,
)
from conformance.simulator import SUBPROTOCOL, Closed, FrameRecord, InboxItem, IncomingCall, ScenarioError
from conformance.steps import (
    Check,
    Context,
    CustomStep,
    PayloadSpec,
    ScenarioValueError,
    StepFailure,
    resolve,
    show,
)
from engine.protocol.errors import ErrorCode, RemoteOcppError
from engine.protocol.frames import (
    Call,
    CallError,
    CallResult,
    encode_call,
    encode_error,
    encode_result,
    parse_frame,
)

if TYPE_CHECKING:
    from conformance.operators import OperatorAdapter
    from conformance.simulator import ChargePoint, Transport
    from engine.protocol.validation import SchemaRegistry

#: what the report shows of a payload or frame
SHORT = 160
T = TypeVar("T")


class StepHost(Protocol):
    """What a robustness step uses of the runner's case run (``conformance.runner._CaseRun``)."""

    ctx: Context
    config: RunConfig
    operator: OperatorAdapter
    transport: Transport
    schemas: SchemaRegistry
    frames: list[FrameRecord]

    def connected(self) -> ChargePoint: ...


def _short(text: str, limit: int = SHORT) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


def describe_message(message: str | bytes) -> str:
    """A received message in a failure text: its kind, id and the gist of its content."""
    if isinstance(message, bytes):
        return f"a binary frame ({len(message)} bytes)"
    frame = parse_frame(message)
    if isinstance(frame, CallError):
        description = f" {frame.description!r}" if frame.description else ""
        return f"CALLERROR {frame.error_code}{_short(description, 80)} for id {frame.unique_id!r}"
    if isinstance(frame, CallResult):
        return f"CALLRESULT {_short(show(frame.payload))} for id {frame.unique_id!r}"
    if isinstance(frame, Call):
        return f"a CALL {frame.action} (id {frame.unique_id!r})"
    return f"an unusable frame {_short(message, 80)!r}"


def _fail(reason: str) -> StepFailure:
    return StepFailure(reason)


async def _guarded(body: Callable[[], Awaitable[T]]) -> tuple[T | None, BaseException | None]:
    """Run ``body`` and hand back its result or the failure it raised. Used inside nurseries (in-process
    streams run in one), whose exception groups the runner would not recognise."""
    try:
        return await body(), None
    except (StepFailure, ScenarioError, ScenarioValueError, OperatorError) as exc:
        return None, exc


def _reraise(failure: BaseException | None) -> None:
    if failure is not None:
        raise failure


# ---------------------------------------------------------------------------------------- probe run


class ProbeRun:
    """The state of one probe on one connection: ids, the CALL the CSMS sent, operator results."""

    def __init__(self, host: StepHost, wire: Wire, warnings: list[str]):
        self.host = host
        self.ctx = host.ctx
        self.config = host.config
        self.wire = wire
        self.warnings = warnings
        self.ids = {"$ID": _new_id(), "$CALLID": ""}
        self.last_reply: str | None = None
        self.operator_results: list[OperatorResult] = []
        self.operator_done = trio.Event()
        self.nursery: trio.Nursery | None = None

    @property
    def id(self) -> str:
        return self.ids["$ID"]

    def fill(self, template: str) -> str:
        for name in ("$CALLID", "$ID"):
            template = template.replace(name, self.ids[name])
        return template

    async def next_message(
        self,
        timeout: float,  # noqa: ASYNC109 - a bound on the CSMS's answer, reported not raised
        waiting_for: str,
        *,
        calls_ok: bool = False,
    ) -> str | bytes | None:
        """The next message within ``timeout`` (None: none). A CSMS CALL nobody expects is answered
        NotSupported and fails the step (unless ``allow_unsolicited_calls``); the end of the connection
        fails it, naming what the step waited for."""
        deadline = trio.current_time() + timeout
        while True:
            try:
                message = await self.wire.receive(max(deadline - trio.current_time(), 0))
            except WireClosed as closed:
                raise _fail(
                    f"expected {waiting_for}; the CSMS ended the connection: {closed.info.describe()}"
                ) from None
            if message is None or calls_ok or not isinstance(message, str):
                return message
            frame = parse_frame(message)
            if not isinstance(frame, Call):
                return message
            await self.send(encode_error(frame.unique_id, ErrorCode.NOT_SUPPORTED, "not expected", {}))
            if not self.config.allow_unsolicited_calls:
                raise _fail(f"expected {waiting_for}; the CSMS sent an unsolicited CALL {frame.action}")
            self.warnings.append(f"unsolicited CALL {frame.action} answered NotSupported")

    async def send(self, text: str, *, logged: str | None = None) -> None:
        """Send a text frame. A connection the CSMS already ended is not a failure here: the CSMS may
        close while a large frame is still going out (1009), so the next expectation judges the close."""
        try:
            await self.wire.send_text(text, logged=logged)
        except WireClosed:
            pass

    async def request(self, action: str, payload: Mapping[str, Any], *, why: str = "") -> dict[str, Any]:
        """A well-formed CALL and its CALLRESULT (schema-checked); anything else fails the step."""
        unique_id = _new_id()
        await self.send(encode_call(unique_id, action, dict(payload)))
        timeout = self.config.response_timeout
        waiting = f"{action}.conf" + (f" ({why})" if why else "")
        message = await self.next_message(timeout, waiting)
        if message is None:
            raise _fail(f"expected {waiting}, got no reply within {timeout:g} s")
        frame = parse_frame(message) if isinstance(message, str) else None
        if not isinstance(frame, CallResult) or frame.unique_id != unique_id:
            raise _fail(f"expected {waiting}, got {describe_message(message)}")
        payload_in = frame.payload
        if not isinstance(payload_in, dict):
            raise _fail(f"{action}.conf payload is not a JSON object")
        try:
            self.host.schemas.validate_response(action, payload_in)
        except RemoteOcppError as exc:
            raise _fail(f"{action}.conf fails the {action}Response schema: {exc.description}") from None
        return payload_in

    async def boot(self) -> None:
        """BootNotification, which must be Accepted: the rows probe an accepted charger."""
        config = self.config
        answer = await self.request(
            "BootNotification",
            {
                "chargePointVendor": config.vendor,
                "chargePointModel": config.model,
                "chargePointSerialNumber": config.serial_number,
                "firmwareVersion": config.firmware_version,
            },
            why="the probe boots first",
        )
        if answer.get("status") != "Accepted":
            raise _fail(
                f"BootNotification answered {answer.get('status')!r}; the robustness rows need the charger "
                f"{self.ctx.charger_id} Accepted (reset its boot policy)"
            )

    async def operate(self, action: str, payload: dict[str, Any]) -> None:
        try:
            result = await self.host.operator.request(self.ctx.charger_id, action, payload)
        except OperatorError as exc:
            result = OperatorResult(error="operator_unavailable", reason=str(exc))
        self.operator_results.append(result)
        self.operator_done.set()


def _new_id() -> str:
    return "rb-" + uuid.uuid4().hex[:20]


# ------------------------------------------------------------------------------------------- actions


class ProbeAction(abc.ABC):
    """One line of a :class:`RawProbe` script."""

    @abc.abstractmethod
    def describe(self) -> str: ...

    @abc.abstractmethod
    async def run(self, probe: ProbeRun) -> str:
        """Do it; returns what the report shows ("" for nothing), raises StepFailure."""

    def expectation(self) -> str:
        """The expected reaction in words ("" for an action that only sends)."""
        return ""


FrameSpec = str | Callable[[RunConfig], str]


@dataclass(frozen=True)
class SendText(ProbeAction):
    """A text frame: ``frame`` is a template (``$ID``…) or a function of the run configuration; ``label``
    replaces it in descriptions and the frame log (for huge frames)."""

    frame: FrameSpec
    label: str = ""

    def describe(self) -> str:
        return f"CP sends {self.label or _short(str(self.frame), 100)}"

    async def run(self, probe: ProbeRun) -> str:
        text = self.frame(probe.config) if callable(self.frame) else self.frame
        await probe.send(probe.fill(text), logged=self.label or None)
        return ""


@dataclass(frozen=True)
class SendBinary(ProbeAction):
    data: bytes

    def describe(self) -> str:
        return f"CP sends a binary frame of {len(self.data)} bytes"

    async def run(self, probe: ProbeRun) -> str:
        try:
            await probe.wire.send_binary(self.data)
        except WireClosed:
            pass  # the next expectation judges the close
        return ""


@dataclass(frozen=True)
class SendWire(ProbeAction):
    """Bytes written to the socket as they are (a hand-made websocket frame)."""

    data: bytes | Callable[[RunConfig], bytes]
    label: str

    def describe(self) -> str:
        return f"CP writes {self.label}"

    async def run(self, probe: ProbeRun) -> str:
        data = self.data(probe.config) if callable(self.data) else self.data
        try:
            await probe.wire.send_raw(data, logged=f"<{self.label}>")
        except WireClosed:
            pass  # the next expectation judges the close
        return ""


@dataclass(frozen=True)
class Repeat(ProbeAction):
    """``action`` ``times`` times (a number, or a function of the run configuration)."""

    action: ProbeAction
    times: int | Callable[[RunConfig], int]
    text: str = ""

    def describe(self) -> str:
        count = self.text or (str(self.times) if isinstance(self.times, int) else "n")
        return f"{count} × ({self.action.describe()})"

    async def run(self, probe: ProbeRun) -> str:
        times = self.times(probe.config) if callable(self.times) else self.times
        for _ in range(times):
            await self.action.run(probe)
        return ""


@dataclass(frozen=True)
class ExpectError(ProbeAction):
    """A CALLERROR with ``code`` for ``unique_id`` (a template; ``$ID`` by default)."""

    code: str
    unique_id: str = "$ID"

    def expectation(self) -> str:
        return f"CALLERROR {self.code}"

    def describe(self) -> str:
        echo = "" if self.unique_id == "$ID" else f" for id {_short(self.unique_id, 40)!r}"
        return f"expect CALLERROR {self.code}{echo}"

    async def run(self, probe: ProbeRun) -> str:
        expected_id = probe.fill(self.unique_id)
        timeout = probe.config.response_timeout
        what = f"CALLERROR {self.code}"
        message = await probe.next_message(timeout, what)
        if message is None:
            raise _fail(f"expected {what}, got no reply within {timeout:g} s")
        frame = parse_frame(message) if isinstance(message, str) else None
        if isinstance(frame, CallError) and frame.unique_id == expected_id and frame.error_code == self.code:
            description = f" {_short(frame.description, 80)!r}" if frame.description else ""
            return f"CALLERROR {frame.error_code}{description}"
        id_text = "" if self.unique_id == "$ID" else f" for id {_short(expected_id, 40)!r}"
        raise _fail(f"expected {what}{id_text}, got {describe_message(message)}")


@dataclass(frozen=True)
class ExpectResult(ProbeAction):
    """A CALLRESULT for ``unique_id`` that passes the response schema of ``action`` and ``checks``."""

    action: str
    checks: Sequence[Check] = ()
    unique_id: str = "$ID"

    def expectation(self) -> str:
        checks = ", ".join(check.describe() for check in self.checks)
        return f"{self.action}.conf" + (f" with {checks}" if checks else "")

    def describe(self) -> str:
        return f"expect {self.expectation()}"

    async def run(self, probe: ProbeRun) -> str:
        expected_id = probe.fill(self.unique_id)
        timeout = probe.config.response_timeout
        what = f"{self.action}.conf"
        message = await probe.next_message(timeout, what)
        if message is None:
            raise _fail(f"expected {what}, got no reply within {timeout:g} s")
        frame = parse_frame(message) if isinstance(message, str) else None
        if not isinstance(frame, CallResult) or frame.unique_id != expected_id:
            raise _fail(f"expected {what}, got {describe_message(message)}")
        if not isinstance(frame.payload, dict):
            raise _fail(f"{what} payload is not a JSON object")
        try:
            probe.host.schemas.validate_response(self.action, frame.payload)
        except RemoteOcppError as exc:
            raise _fail(f"{what} fails the {self.action}Response schema: {exc.description}") from None
        problems = []
        for check in self.checks:
            problem = check.problem(frame.payload, probe.ctx)
            if problem is None:
                continue
            if check.warning:
                probe.warnings.append(f"{what}: {problem}")
            else:
                problems.append(problem)
        if problems:
            raise _fail(f"{what}: " + "; ".join(problems))
        assert isinstance(message, str)
        probe.last_reply = message
        return f"{what} {_short(show(frame.payload))}"


@dataclass(frozen=True)
class ExpectSameReply(ProbeAction):
    """The next message is exactly the answer kept by the last :class:`ExpectResult` (a resent cached
    answer; a re-executed CALL would answer anew)."""

    def expectation(self) -> str:
        return "the same answer again (cached, not re-executed)"

    def describe(self) -> str:
        return f"expect {self.expectation()}"

    async def run(self, probe: ProbeRun) -> str:
        if probe.last_reply is None:  # pragma: no cover - a declaration error
            raise ScenarioError("ExpectSameReply needs an ExpectResult before it")
        timeout = probe.config.response_timeout
        message = await probe.next_message(timeout, "the cached answer")
        if message is None:
            raise _fail(f"expected the cached answer again, got no reply within {timeout:g} s")
        if message != probe.last_reply:
            raise _fail(
                f"expected the identical cached answer {_short(probe.last_reply, 100)}, "
                f"got {describe_message(message)} (executed again?)"
            )
        return "the identical answer again (cached)"


@dataclass(frozen=True)
class ExpectProcessedOnce(ProbeAction):
    """After a CALL was sent twice under one id without waiting: one CALLRESULT with ``path`` =
    ``value``; a copy that arrived after the answer may get the identical cached answer; a second,
    different answer means it was executed twice."""

    action: str
    path: str
    value: str

    def expectation(self) -> str:
        return f"processed once: one {self.action}.conf ({self.path} {self.value}), the copy dropped"

    def describe(self) -> str:
        return f"expect {self.expectation()} (or the identical cached answer)"

    async def run(self, probe: ProbeRun) -> str:
        window = probe.config.response_timeout
        replies: list[str | bytes] = []
        first = await probe.next_message(window, f"{self.action}.conf")
        if first is None:
            raise _fail(f"expected one {self.action}.conf, got no reply within {window:g} s")
        replies.append(first)
        second = await probe.next_message(probe.config.robustness_silence, "nothing more")
        if second is not None:
            replies.append(second)
        frame = parse_frame(first) if isinstance(first, str) else None
        if not isinstance(frame, CallResult) or frame.unique_id != probe.id:
            raise _fail(f"expected {self.action}.conf, got {describe_message(first)}")
        got = frame.payload.get(self.path) if isinstance(frame.payload, dict) else None
        if got != self.value:
            raise _fail(f"{self.action}.conf {self.path} is {got!r}, expected {self.value!r}")
        if second is None:
            return f"one {self.action}.conf ({self.path} {got}); the copy was dropped"
        if second == first:
            return f"one {self.action}.conf ({self.path} {got}); the copy got the identical cached answer"
        raise _fail(f"processed twice: after {describe_message(first)} came {describe_message(second)}")


@dataclass(frozen=True)
class Burst(ProbeAction):
    """``count`` CALLs of ``action`` sent in one write, without waiting (ocpp16-rules.md #66: process
    them and answer each; a bounded queue; only beyond its bound may the CSMS close with 1008). Every
    CALL must get its own schema-valid CALLRESULT, none twice, none a CALLERROR — or the connection is
    closed with 1008 once the CSMS's bound is passed."""

    count: int
    action: str = "Heartbeat"
    payload: str = "{}"

    def expectation(self) -> str:
        each = f"{self.count} × {self.action}.conf, one per CALL"
        return f"{each} (beyond the CSMS's bound: close 1008), no CALLERROR"

    def describe(self) -> str:
        return f"CP sends {self.count} {self.action} CALLs in one write; expect {self.expectation()}"

    async def run(self, probe: ProbeRun) -> str:
        ids = [f"{probe.id}-{index}" for index in range(self.count)]
        frames = [f'[2,"{unique_id}","{self.action}",{self.payload}]' for unique_id in ids]
        logged = f"<{self.count} × {frames[0]} (ids …-0 to …-{self.count - 1})>"
        try:
            await probe.wire.send_texts(frames, logged=logged)
        except WireClosed:
            pass  # judged below
        waiting = set(ids)
        timeout = probe.config.response_timeout
        deadline = trio.current_time() + timeout
        while waiting:
            answered = self.count - len(waiting)
            try:
                message = await probe.wire.receive(max(deadline - trio.current_time(), 0))
            except WireClosed as closed:
                if closed.info.code == 1008 and not closed.info.invalid_frame:
                    return f"{answered} answered, then {closed.info.describe()} (beyond its bound)"
                raise _fail(
                    f"after {answered} answers the CSMS ended the connection: {closed.info.describe()}"
                ) from None
            if message is None:
                raise _fail(f"{len(waiting)} of {self.count} CALLs unanswered after {timeout:g} s")
            frame = parse_frame(message) if isinstance(message, str) else None
            if not isinstance(frame, CallResult) or frame.unique_id not in waiting:
                raise _fail(
                    f"after {answered} answers, expected {self.action}.conf, got {describe_message(message)}"
                )
            if not isinstance(frame.payload, dict):
                raise _fail(f"{self.action}.conf payload is not a JSON object")
            try:
                probe.host.schemas.validate_response(self.action, frame.payload)
            except RemoteOcppError as exc:
                raise _fail(f"{self.action}.conf fails the schema: {exc.description}") from None
            waiting.discard(frame.unique_id)
        return f"all {self.count} answered with {self.action}.conf"


@dataclass(frozen=True)
class ExpectNoReply(ProbeAction):
    """Nothing at all within ``window`` (default ``robustness_silence``), connection kept open."""

    window: float | None = None

    def expectation(self) -> str:
        return "no reply"

    def describe(self) -> str:
        amount = f"{self.window:g} s" if self.window is not None else "the silence window"
        return f"expect no reply for {amount}"

    async def run(self, probe: ProbeRun) -> str:
        window = self.window if self.window is not None else probe.config.robustness_silence
        message = await probe.next_message(window, "no reply and the connection kept open")
        if message is not None:
            raise _fail(f"expected no reply, got {describe_message(message)}")
        return f"no reply within {window:g} s"


@dataclass(frozen=True)
class ExpectAlive(ProbeAction):
    """The connection still works: a Heartbeat is answered."""

    def expectation(self) -> str:
        return "connection still usable"

    def describe(self) -> str:
        return "CP sends Heartbeat; expect Heartbeat.conf (the connection still works)"

    async def run(self, probe: ProbeRun) -> str:
        answer = await probe.request("Heartbeat", {}, why="the connection must still work")
        if "currentTime" not in answer:  # pragma: no cover - the schema requires it
            raise _fail("Heartbeat.conf without currentTime")
        return "Heartbeat still answered"


@dataclass(frozen=True)
class ExpectClose(ProbeAction):
    """The CSMS closes the connection with ``code`` (within the response timeout), replying nothing
    before."""

    code: int

    def expectation(self) -> str:
        return f"close {self.code}"

    def describe(self) -> str:
        return f"expect the CSMS to close with {self.code}, replying nothing"

    async def run(self, probe: ProbeRun) -> str:
        timeout = probe.config.response_timeout
        try:
            message = await probe.wire.receive(timeout)
        except WireClosed as closed:
            info = closed.info
        else:
            if message is None:
                raise _fail(f"expected close {self.code}; the connection stayed open for {timeout:g} s")
            raise _fail(f"expected close {self.code}, got {describe_message(message)}")
        if info.code != self.code or info.invalid_frame:
            raise _fail(f"expected close {self.code}, got {info.describe()}")
        return info.describe()


@dataclass(frozen=True)
class Operate(ProbeAction):
    """The operator asks the CSMS to send ``action`` to this charger, in the background."""

    action: str
    payload: PayloadSpec = field(default_factory=dict)

    def describe(self) -> str:
        return f"OP: make the CSMS send {self.action} {show(self.payload)}"

    async def run(self, probe: ProbeRun) -> str:
        assert probe.nursery is not None
        probe.nursery.start_soon(probe.operate, self.action, resolve(self.payload, probe.ctx))
        return ""


@dataclass(frozen=True)
class ExpectIncoming(ProbeAction):
    """The CSMS sends a CALL ``action`` (within the call window); its id becomes ``$CALLID``."""

    action: str

    def describe(self) -> str:
        return f"expect CS→CP {self.action}.req"

    async def run(self, probe: ProbeRun) -> str:
        window = probe.config.call_window
        what = f"{self.action}.req from the CSMS"
        message = await probe.next_message(window, what, calls_ok=True)
        if message is None:
            problem = ""
            if probe.operator_results and not probe.operator_results[0].ok:
                problem = f" (operator: {probe.operator_results[0].describe()})"
            raise _fail(f"the CSMS did not send {self.action} within {window:g} s{problem}")
        frame = parse_frame(message) if isinstance(message, str) else None
        if not isinstance(frame, Call) or frame.action != self.action:
            raise _fail(f"expected {what}, got {describe_message(message)}")
        probe.ids["$CALLID"] = frame.unique_id
        return f"{self.action}.req received"


@dataclass(frozen=True)
class ExpectOperator(ProbeAction):
    """The background operator action ends with success (``ok``) or an error."""

    ok: bool

    def expectation(self) -> str:
        return "the operator's request succeeds" if self.ok else "the operator's request fails"

    def describe(self) -> str:
        return f"expect the operator to report {'success' if self.ok else 'an error'}"

    async def run(self, probe: ProbeRun) -> str:
        if not probe.host.operator.waits_for_result:
            return "operator outcome not observable with this operator"
        limit = probe.config.call_window + probe.config.response_timeout
        with trio.move_on_after(limit):
            await probe.operator_done.wait()
        if not probe.operator_results:
            raise _fail(f"the operator did not finish within {limit:g} s")
        result = probe.operator_results[0]
        if result.ok != self.ok:
            wanted = "success" if self.ok else "an error"
            raise _fail(f"expected the operator to report {wanted}, got {result.describe()}")
        return f"operator: {_short(result.describe(), 100)}"


# -------------------------------------------------------------------------------------------- steps


class RobustnessStep(CustomStep):
    """A robustness step: it also says, in words, the reaction it expects (the row's "expected")."""

    @abc.abstractmethod
    def expectation(self) -> str: ...

    @abc.abstractmethod
    async def execute(self, host: StepHost, warnings: list[str]) -> str: ...


def _identity_path(host: StepHost, source: StreamSource, segment: str | None) -> str:
    return source.identity_path(host.ctx.charger_id) if segment is None else source.path(segment)


def _source(host: StepHost) -> StreamSource:
    return stream_source(host.transport)


@dataclass(frozen=True)
class RawProbe(RobustnessStep):
    """Connect as the case's charger (offering ocpp1.6), boot (must be Accepted, unless ``boot`` is
    off), then run ``actions`` in order. The report's detail lists what each expectation saw."""

    actions: tuple[ProbeAction, ...]
    boot: bool = True

    def describe(self) -> str:
        steps = [action.describe() for action in self.actions]
        if self.boot:
            steps.insert(0, "CP connects and boots (Accepted)")
        return "; ".join(steps)

    def expectation(self) -> str:
        return "; ".join(text for action in self.actions if (text := action.expectation()))

    async def execute(self, host: StepHost, warnings: list[str]) -> str:
        source = _source(host)
        path = source.identity_path(host.ctx.charger_id)
        result: Any = ""
        failure: BaseException | None = None
        try:
            async with open_wire(source, path, host.frames, timeout=host.config.response_timeout) as session:
                result, failure = await _guarded(lambda: self._run(host, session, warnings))
        except ProbeConnectError as exc:
            raise _fail(str(exc)) from None
        _reraise(failure)
        return str(result)

    async def _run(self, host: StepHost, session: WireSession, warnings: list[str]) -> str:
        if not session.outcome.upgraded:
            raise _fail(f"the CSMS refused the connection: {session.outcome.describe()}")
        probe = ProbeRun(host, session.wire, warnings)
        details: list[str] = []
        failure: BaseException | None = None
        async with trio.open_nursery() as nursery:
            probe.nursery = nursery

            async def script() -> None:
                if self.boot:
                    await probe.boot()
                for action in self.actions:
                    detail = await action.run(probe)
                    if detail:
                        details.append(detail)

            _, failure = await _guarded(script)
            nursery.cancel_scope.cancel()
        _reraise(failure)
        return "; ".join(details)


@dataclass(frozen=True)
class HandshakeProbe(RobustnessStep):
    """An opening handshake for ``segment`` (a raw, already percent-encoded identity; None: the case's
    identity) offering ``offer`` (empty: no Sec-WebSocket-Protocol header at all).

    ``status`` is what the CSMS must answer: an HTTP status (no upgrade), or 101 with exactly
    ``subprotocol`` selected, after which a BootNotification must be Accepted over the connection.
    ``tolerated`` statuses pass with a warning (the catalogue allows them); with ``close_ok`` a CSMS that
    closes the connection without any HTTP answer passes too."""

    segment: str | None = None
    offer: tuple[str, ...] = (SUBPROTOCOL,)
    status: int = 101
    tolerated: tuple[int, ...] = ()
    subprotocol: str = SUBPROTOCOL
    headers: tuple[Header, ...] = ()
    label: str = ""
    close_ok: bool = False

    def expectation(self) -> str:
        if self.status == 101:
            return f"101 upgrade with exactly Sec-WebSocket-Protocol: {self.subprotocol}"
        text = f"HTTP {self.status}, no upgrade"
        if self.tolerated:
            text += f" ({', '.join(str(s) for s in self.tolerated)} tolerated)"
        if self.close_ok:
            text += " (or closed without an answer)"
        return text

    def describe(self) -> str:
        offer = ", ".join(self.offer) if self.offer else "no Sec-WebSocket-Protocol header"
        where = self.label or (f"/{self.segment}" if self.segment is not None else "its own path")
        return f"CP upgrades on {where} offering {offer}; expect {self.expectation()}"

    async def execute(self, host: StepHost, warnings: list[str]) -> str:
        source = _source(host)
        path = _identity_path(host, source, self.segment)
        headers = [*source.headers, *self.headers]
        result: Any = ""
        failure: BaseException | None = None
        try:
            async with open_wire(
                source,
                path,
                host.frames,
                subprotocols=self.offer,
                headers=headers,
                timeout=host.config.response_timeout,
            ) as session:
                result, failure = await _guarded(lambda: self._judge(host, session, warnings))
        except ProbeConnectError as exc:
            raise _fail(str(exc)) from None
        _reraise(failure)
        return str(result)

    async def _judge(self, host: StepHost, session: WireSession, warnings: list[str]) -> str:
        outcome: HandshakeOutcome = session.outcome
        if self.status != 101:
            if outcome.status == self.status:
                return outcome.describe()
            if outcome.status is not None and outcome.status in self.tolerated:
                warnings.append(f"HTTP {outcome.status} instead of {self.status} (tolerated)")
                return outcome.describe()
            if outcome.status is None and self.close_ok and "closed" in outcome.problem:
                return outcome.problem
            raise _fail(f"expected {self.expectation()}, got {outcome.describe()}")
        if not outcome.upgraded:
            raise _fail(f"expected {self.expectation()}, got {outcome.describe()}")
        # wsproto refuses a 101 whose Sec-WebSocket-Protocol is not one of the offered tokens, so what is
        # left to check is that the CSMS selected exactly this one.
        if outcome.subprotocol != self.subprotocol:
            shown = outcome.subprotocol or "no header"
            raise _fail(
                f"101 upgrade with Sec-WebSocket-Protocol {shown}, expected exactly {self.subprotocol}"
            )
        probe = ProbeRun(host, session.wire, warnings)
        await probe.boot()
        return f"101 upgrade, Sec-WebSocket-Protocol: {self.subprotocol}; BootNotification Accepted"


@dataclass(frozen=True)
class HttpProbe(RobustnessStep):
    """A plain HTTP request on the case's path (``$PATH``, ``$HOST`` filled in); the CSMS must answer
    one of ``statuses``."""

    request: str
    statuses: tuple[int, ...]
    label: str

    def expectation(self) -> str:
        return "HTTP " + " or ".join(str(s) for s in self.statuses) + ", no upgrade"

    def describe(self) -> str:
        return f"CP sends {self.label}; expect {self.expectation()}"

    async def execute(self, host: StepHost, warnings: list[str]) -> str:
        source = _source(host)
        path = source.identity_path(host.ctx.charger_id)
        text = self.request.replace("$PATH", path).replace("$HOST", source.host)
        host.frames.append(FrameRecord(trio.current_time(), "sent", log_text(text)))
        try:
            async with source.open() as stream:
                answer, failure = await _guarded(
                    lambda: http_exchange(
                        stream, text.encode("latin-1"), timeout=host.config.response_timeout
                    )
                )
        except ProbeConnectError as exc:
            raise _fail(str(exc)) from None
        _reraise(failure)
        assert answer is not None
        status, line = answer
        line = line.strip()
        host.frames.append(FrameRecord(trio.current_time(), "received", line))
        if status in self.statuses:
            return line
        raise _fail(f"expected {self.expectation()}, got {line}")


@dataclass(frozen=True)
class SlowHandshake(RobustnessStep):
    """The opening request trickled a byte at a time and never finished (slowloris): the CSMS must close
    the connection by its handshake deadline (``robustness_handshake_timeout``, plus a grace of 10 %,
    at least 1 s), answering with at most an HTTP error."""

    def expectation(self) -> str:
        return "connection closed at the handshake deadline, no upgrade"

    def describe(self) -> str:
        return "CP opens a connection and trickles its upgrade request, never finishing it; expect " + (
            self.expectation()
        )

    async def execute(self, host: StepHost, warnings: list[str]) -> str:
        source = _source(host)
        path = source.identity_path(host.ctx.charger_id)
        deadline = host.config.robustness_handshake_timeout
        limit = deadline + max(1.0, deadline / 10)
        interval = deadline / 5
        try:
            async with source.open() as stream:
                result, failure = await _guarded(
                    lambda: self._trickle(host, stream, path, source.host, limit=limit, interval=interval)
                )
        except ProbeConnectError as exc:
            raise _fail(str(exc)) from None
        _reraise(failure)
        assert result is not None
        closed_after, answer = result
        if closed_after is None:
            raise _fail(
                f"the CSMS kept the unfinished handshake open for {limit:g} s (deadline {deadline:g} s)"
            )
        if answer.startswith(("HTTP/1.1 101", "HTTP/1.0 101")):
            raise _fail("the CSMS upgraded an unfinished request")
        shown = f" after answering {answer!r}" if answer else ""
        return f"closed after {closed_after:.1f} s{shown}"

    async def _trickle(
        self, host: StepHost, stream: Any, path: str, host_header: str, *, limit: float, interval: float
    ) -> tuple[float | None, str]:
        start = trio.current_time()
        first = f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUpgrade: websocket\r\n"
        trickle = f"{log_text(first)} (then one byte every {interval:g} s)"
        host.frames.append(FrameRecord(start, "sent", trickle))
        received = b""
        closed_at: float | None = None
        try:
            await stream.send_all(first.encode())
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return trio.current_time() - start, ""
        next_byte = start + interval
        while trio.current_time() < start + limit:
            data: bytes | None = None
            with trio.move_on_at(min(next_byte, start + limit)):
                try:
                    data = bytes(await stream.receive_some(65536))
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    data = b""
            if data == b"":
                closed_at = trio.current_time()
                break
            if data:
                received += data
                continue
            if trio.current_time() >= next_byte:
                next_byte += interval
                try:
                    await stream.send_all(b"X")
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    closed_at = trio.current_time()
                    break
        answer = received.split(b"\r\n", 1)[0].decode("latin-1")
        if closed_at is not None:
            host.frames.append(FrameRecord(closed_at, "received", f"<connection closed> {answer}".strip()))
            return closed_at - start, answer
        return None, answer


@dataclass(frozen=True)
class DuplicateConnection(RobustnessStep):
    """A second connection for the identity while the first is open (decision 9): the first is closed
    with 1000, the second works, and the operator reaches the charger on the second."""

    def expectation(self) -> str:
        return "old connection closed 1000; the new one works and the operator reaches it"

    def describe(self) -> str:
        return (
            "CP connects and boots; CP opens a second connection with the same identity; expect "
            + self.expectation()
        )

    async def execute(self, host: StepHost, warnings: list[str]) -> str:
        source = _source(host)
        path = source.identity_path(host.ctx.charger_id)
        timeout = host.config.response_timeout
        result: Any = ""
        failure: BaseException | None = None
        try:
            async with open_wire(source, path, host.frames, timeout=timeout) as first:
                result, failure = await _guarded(lambda: self._second(host, source, path, first, warnings))
        except ProbeConnectError as exc:
            raise _fail(str(exc)) from None
        _reraise(failure)
        return str(result)

    async def _second(
        self, host: StepHost, source: StreamSource, path: str, first: WireSession, warnings: list[str]
    ) -> str:
        if not first.outcome.upgraded:
            raise _fail(f"the CSMS refused the first connection: {first.outcome.describe()}")
        await ProbeRun(host, first.wire, warnings).boot()
        result: Any = ""
        failure: BaseException | None = None
        timeout = host.config.response_timeout
        async with open_wire(source, path, host.frames, timeout=timeout) as second:
            result, failure = await _guarded(lambda: self._judge(host, first, second, warnings))
        _reraise(failure)
        return str(result)

    async def _judge(
        self, host: StepHost, first: WireSession, second: WireSession, warnings: list[str]
    ) -> str:
        if not second.outcome.upgraded:
            raise _fail(f"the CSMS refused the second connection: {second.outcome.describe()}")
        timeout = host.config.response_timeout
        info = await first.wire.wait_closed(timeout)
        if info is None:
            raise _fail(f"the first connection was still open {timeout:g} s after the second one opened")
        if info.code != 1000 or info.invalid_frame:
            raise _fail(f"expected the first connection closed with 1000, got {info.describe()}")
        probe = ProbeRun(host, second.wire, warnings)
        await probe.request("Heartbeat", {}, why="on the new connection")
        failure: BaseException | None = None
        async with trio.open_nursery() as nursery:
            probe.nursery = nursery

            async def reach() -> None:
                await Operate("GetConfiguration", {"key": ["HeartbeatInterval"]}).run(probe)
                await ExpectIncoming("GetConfiguration").run(probe)
                await probe.send(
                    encode_result(probe.ids["$CALLID"], configuration_answer(["HeartbeatInterval"]))
                )
                await ExpectOperator(ok=True).run(probe)

            _, failure = await _guarded(reach)
            nursery.cancel_scope.cancel()
        _reraise(failure)
        return (
            f"first connection: {info.describe()}; the second answered Heartbeat and got the operator's CALL"
        )


@dataclass(frozen=True)
class ExpectOperatorRefusal(RobustnessStep):
    """On the runner's connection: the operator asks for ``action``; the CSMS must refuse (the operator
    reports an error) and send the charger nothing. A CALL that arrives anyway is answered ``answer``."""

    action: str
    payload: PayloadSpec
    answer: Mapping[str, Any] = field(default_factory=lambda: {"status": "Rejected"})

    def expectation(self) -> str:
        return f"the CSMS refuses to send {self.action} (operator error) and sends the charger nothing"

    def describe(self) -> str:
        return f"OP: make the CSMS send {self.action} {show(self.payload)}; expect {self.expectation()}"

    async def execute(self, host: StepHost, warnings: list[str]) -> str:
        cp = host.connected()
        payload = resolve(self.payload, host.ctx)
        results: list[OperatorResult] = []
        arrived: list[IncomingCall] = []
        others: list[InboxItem] = []
        failure: BaseException | None = None
        window = host.config.call_window

        async def operate(cancel: trio.CancelScope) -> None:
            try:
                result = await host.operator.request(host.ctx.charger_id, self.action, payload)
            except OperatorError as exc:
                result = OperatorResult(error="operator_unavailable", reason=str(exc))
            results.append(result)
            # Grace for a CALL that is already on its way, then stop waiting.
            await trio.sleep(min(1.0, host.config.robustness_silence))
            cancel.cancel()

        async def watch() -> None:
            while True:
                item = await cp.inbox.get()
                if isinstance(item, IncomingCall):
                    arrived.append(item)
                    await cp.answer(item, dict(self.answer))
                    return
                others.append(item)  # violations and the close: back to the runner afterwards
                if isinstance(item, Closed):
                    return

        async with trio.open_nursery() as nursery:
            nursery.cancel_scope.deadline = trio.current_time() + window
            nursery.start_soon(operate, nursery.cancel_scope)
            _, failure = await _guarded(watch)
            nursery.cancel_scope.cancel()
        for item in others:
            cp.inbox.put(item)
        _reraise(failure)
        if arrived:
            raise _fail(f"the CSMS sent {arrived[0].action} to the charger")
        if not results:
            if host.operator.waits_for_result:
                raise _fail(f"the operator did not finish within {window:g} s")
            return f"nothing sent within {window:g} s"
        if results[0].ok:
            raise _fail(f"the operator reported success: {results[0].describe()}")
        quiet = host.config.robustness_silence
        with trio.move_on_after(quiet):
            while True:
                item = await cp.inbox.get()
                if isinstance(item, IncomingCall):
                    await cp.answer(item, dict(self.answer))
                    raise _fail(f"the operator reported an error, but the CSMS sent {item.action} anyway")
                cp.inbox.put(item)
                raise _fail(f"after refusing, the CSMS closed the connection or sent bad frames: {item}")
        return f"refused: {_short(results[0].describe(), 120)}; nothing sent within {quiet:g} s"


# ----------------------------------------------------------------------------------- frame builders


def oversized(extra: int) -> Callable[[RunConfig], str]:
    """A DataTransfer CALL of exactly ``robustness_max_message_size + extra`` characters."""

    def build(config: RunConfig) -> str:
        head = '[2,"$ID","DataTransfer",{"vendorId":"org.example.robustness","data":"'
        tail = '"}]'
        # $ID becomes 23 characters ("rb-" + 20 hex digits), 3 more than its placeholder.
        size = config.robustness_max_message_size + extra - len(head) - len(tail) - (23 - 3)
        return head + "a" * max(size, 0) + tail

    return build


def fragment_flood(config: RunConfig) -> bytes:
    """A text message begun and continued in fragments of up to 64 KiB until its size is one character
    past ``robustness_max_message_size``, never finished (no fin bit). Exactly one past: a CSMS that stops
    reading at the limit then has nothing unread, so closing its socket cannot reset the connection (a
    TCP RST would destroy the close frame before the charger reads it)."""
    first = b'[2,"rb-fragments","Heartbeat",'
    remaining = config.robustness_max_message_size + 1 - len(first)
    frames = [ws_frame(OPCODE_TEXT, first, fin=False)]
    while remaining > 0:
        size = min(remaining, 65536)
        frames.append(ws_frame(OPCODE_CONTINUATION, b" " * size, fin=False))
        remaining -= size
    return b"".join(frames)
