"""The step vocabulary scenarios are written in. Steps are frozen data; :mod:`conformance.runner` executes
them.

Values that are only known at run time are written as references and resolved just before use:

- :class:`Cfg` — a value of the run configuration (``Cfg("id_tags.valid")``, ``Cfg("connector_id")``);
- :class:`Var` — a value captured from an earlier answer (``Var("transactionId")``);
- :class:`Now` — the wall-clock time as an OCPP timestamp, optionally shifted (``Now(-600)``: ten minutes
  ago, for offline transactions);
- :class:`Computed` — anything else, from a function of the :class:`Context`.

The steps:

=====================  ==============================================================================
:class:`Send`          the charger sends a CALL and expects a CALLRESULT passing ``checks`` (or a
                       CALLERROR with ``expect_error``); ``capture`` keeps answer fields for later steps
:class:`ExpectCall`    the CSMS must send a CALL of ``action`` within ``within`` seconds, passing
                       ``checks``; the charger answers ``answer``. ``trigger`` is the operator action that
                       makes the CSMS send it, performed *while* the step waits
:class:`OperatorStep`  an operator action on its own (set a boot policy, …), awaited before the next step
:class:`Wait`          time passes (the charger's ConnectionTimeOut, a boot retry interval); CSMS CALLs
                       arriving meanwhile stay queued for the next expect step
:class:`ExpectSilence` time passes and the CSMS must send nothing
:class:`Disconnect`,   the connection goes away / comes back (a new websocket; follow with the Booted
:class:`Reconnect`     steps for a reboot, or not for a network outage)
:class:`Expand`        steps computed at run time (one StatusNotification per connector)
=====================  ==============================================================================

Checks (:class:`Equals`, :class:`OneOf`, :class:`Present`, …) name a dotted path into a payload
(``idTagInfo.status``, ``configurationKey.0.key``) and explain themselves when they fail; wrap one in
:class:`Warn` to report without failing.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from engine.protocol.actions import ACTIONS, sent_by_charger, sent_by_csms
from engine.protocol.errors import ErrorCode
from engine.protocol.jsontext import dumps

if TYPE_CHECKING:
    from conformance.config import RunConfig


class ScenarioValueError(LookupError):
    """A reference could not be resolved (a value never captured, a config field that does not exist)."""


class StepFailure(Exception):
    """A step found the CSMS not doing what the case expects; ``reason`` says what it did instead. Raised
    by :class:`CustomStep` implementations (the runner's own steps raise a subclass)."""

    def __init__(self, reason: str, status: str = "fail"):
        self.reason = reason
        self.status = status
        super().__init__(reason)


@dataclass
class Context:
    """What a running case knows: the run configuration and the values captured so far."""

    config: RunConfig
    values: dict[str, Any] = field(default_factory=dict)
    #: transactions the charger started and has not stopped (the runner stops them after the case)
    open_transactions: dict[int, int] = field(default_factory=dict)

    @property
    def charger_id(self) -> str:
        return self.config.charger_id


# ---------------------------------------------------------------------------------------------- references


class Ref(abc.ABC):
    """A value resolved when the step runs."""

    @abc.abstractmethod
    def resolve(self, ctx: Context) -> Any: ...

    @abc.abstractmethod
    def describe(self) -> str: ...


@dataclass(frozen=True)
class Var(Ref):
    """A value captured earlier in the case (see ``capture=`` on :class:`Send` and :class:`ExpectCall`)."""

    name: str

    def resolve(self, ctx: Context) -> Any:
        if self.name not in ctx.values:
            raise ScenarioValueError(f"no value {self.name!r} was captured by an earlier step")
        return ctx.values[self.name]

    def describe(self) -> str:
        return f"<{self.name}>"


@dataclass(frozen=True)
class Cfg(Ref):
    """A run configuration value, by dotted attribute path (``id_tags.valid``)."""

    path: str

    def resolve(self, ctx: Context) -> Any:
        value: Any = ctx.config
        for part in self.path.split("."):
            if not hasattr(value, part):
                raise ScenarioValueError(f"the run configuration has no {self.path!r}")
            value = getattr(value, part)
        return value

    def describe(self) -> str:
        return f"<configured {self.path}>"


@dataclass(frozen=True)
class Now(Ref):
    """The current UTC time as an OCPP timestamp, shifted by ``offset`` seconds (negative: the past)."""

    offset: float = 0.0

    def resolve(self, ctx: Context) -> str:
        moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.offset)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def describe(self) -> str:
        if self.offset == 0:
            return "<now>"
        return f"<now {self.offset:+g} s>"


@dataclass(frozen=True)
class Computed(Ref):
    """A value computed from the context by ``function``; ``text`` describes it in reports."""

    function: Callable[[Context], Any]
    text: str

    def resolve(self, ctx: Context) -> Any:
        return self.function(ctx)

    def describe(self) -> str:
        return f"<{self.text}>"


def resolve(value: Any, ctx: Context) -> Any:
    """``value`` with every :class:`Ref` inside it (dicts and lists included) resolved."""
    if isinstance(value, Ref):
        return value.resolve(ctx)
    if isinstance(value, Mapping):
        return {key: resolve(item, ctx) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(item, ctx) for item in value]
    return value


def show(value: Any) -> str:
    """A value as it would appear in a frame (references described), for step descriptions."""
    if isinstance(value, Ref):
        return value.describe()
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {show(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(item) for item in value) + "]"
    try:
        return dumps(value)
    except (TypeError, ValueError):  # pragma: no cover - scenario values are JSON
        return repr(value)


# ---------------------------------------------------------------------------------------------- checks

MISSING: Final[Any] = type("Missing", (), {"__repr__": lambda self: "missing"})()


def lookup(payload: Any, path: str) -> Any:
    """The value at a dotted path (``idTagInfo.status``, ``configurationKey.0.key``), or :data:`MISSING`."""
    value = payload
    if not path:
        return value
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def _shown(value: Any) -> str:
    if value is MISSING:
        return "missing"
    return show(value)


class Check(abc.ABC):
    """A predicate on a payload that explains its failure."""

    path: str
    #: a failed warning check is reported but does not fail the step
    warning: bool = False

    @abc.abstractmethod
    def problem(self, payload: Any, ctx: Context) -> str | None:
        """None when the payload passes, else what is wrong (resolved values, human wording)."""

    @abc.abstractmethod
    def describe(self) -> str: ...


@dataclass(frozen=True)
class Equals(Check):
    path: str
    expected: Any

    def problem(self, payload: Any, ctx: Context) -> str | None:
        expected = resolve(self.expected, ctx)
        value = lookup(payload, self.path)
        if value is not MISSING and value == expected and type(value) is type(expected):
            return None
        return f"{self.path} is {_shown(value)}, expected {show(expected)}"

    def describe(self) -> str:
        return f"{self.path} = {show(self.expected)}"


@dataclass(frozen=True)
class OneOf(Check):
    path: str
    allowed: Sequence[Any]

    def problem(self, payload: Any, ctx: Context) -> str | None:
        allowed = [resolve(item, ctx) for item in self.allowed]
        value = lookup(payload, self.path)
        if value is not MISSING and value in allowed:
            return None
        return f"{self.path} is {_shown(value)}, expected one of {', '.join(show(a) for a in allowed)}"

    def describe(self) -> str:
        return f"{self.path} ∈ {{{', '.join(show(a) for a in self.allowed)}}}"


@dataclass(frozen=True)
class Present(Check):
    path: str

    def problem(self, payload: Any, ctx: Context) -> str | None:
        return None if lookup(payload, self.path) is not MISSING else f"{self.path} is missing"

    def describe(self) -> str:
        return f"{self.path} present"


@dataclass(frozen=True)
class EmptyOrAbsent(Check):
    """The field is missing, or an empty list/object/string (GetConfiguration ``key`` in TC_019_1)."""

    path: str

    def problem(self, payload: Any, ctx: Context) -> str | None:
        value = lookup(payload, self.path)
        if value is MISSING or value in ([], {}, ""):
            return None
        return f"{self.path} is {_shown(value)}, expected it empty or omitted"

    def describe(self) -> str:
        return f"{self.path} empty or omitted"


@dataclass(frozen=True)
class AtLeast(Check):
    path: str
    minimum: float

    def problem(self, payload: Any, ctx: Context) -> str | None:
        value = lookup(payload, self.path)
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool) and value >= self.minimum:
            return None
        return f"{self.path} is {_shown(value)}, expected at least {self.minimum:g}"

    def describe(self) -> str:
        return f"{self.path} ≥ {self.minimum:g}"


@dataclass(frozen=True)
class IfPresent(Check):
    """When the field is there it must equal ``expected`` (StopTransaction.conf idTagInfo, TC_005_1)."""

    path: str
    expected: Any

    def problem(self, payload: Any, ctx: Context) -> str | None:
        if lookup(payload, self.path) is MISSING:
            return None
        return Equals(self.path, self.expected).problem(payload, ctx)

    def describe(self) -> str:
        return f"{self.path} = {show(self.expected)} if present"


@dataclass(frozen=True)
class Satisfies(Check):
    """A free predicate on the value at ``path``; ``text`` says what is expected."""

    path: str
    predicate: Callable[[Any, Context], bool]
    text: str

    def problem(self, payload: Any, ctx: Context) -> str | None:
        value = lookup(payload, self.path)
        if self.predicate(value, ctx):
            return None
        return f"{self.path or 'payload'} is {_shown(value)}, expected {self.text}"

    def describe(self) -> str:
        return f"{self.path or 'payload'}: {self.text}"


@dataclass(frozen=True)
class Warn(Check):
    """Report ``check``'s failure as a warning; the step still passes (TC_064: Accepted draws a warning)."""

    check: Check
    warning: bool = True

    @property
    def path(self) -> str:  # type: ignore[override]
        return self.check.path

    def problem(self, payload: Any, ctx: Context) -> str | None:
        return self.check.problem(payload, ctx)

    def describe(self) -> str:
        return f"(warning) {self.check.describe()}"


def status_is(expected: str | Ref) -> Check:
    """``status = expected`` (BootNotification.conf, RemoteStartTransaction.conf, …)."""
    return Equals("status", expected)


def id_tag_status(expected: str | Ref) -> Check:
    """``idTagInfo.status = expected`` (Authorize.conf, StartTransaction.conf)."""
    return Equals("idTagInfo.status", expected)


# ---------------------------------------------------------------------------------------------- steps

PayloadSpec = Mapping[str, Any] | Ref
#: an answer to a CSMS CALL: a payload (references allowed) or a function of the CALL's payload
AnswerSpec = Mapping[str, Any] | Ref | Callable[[dict[str, Any], Context], dict[str, Any]]


class Step(abc.ABC):
    """One line of a scenario."""

    @abc.abstractmethod
    def describe(self) -> str:
        """What the step does, for progress output and reports."""

    def definition_problems(self) -> list[str]:
        """Mistakes visible without running (wrong direction, unknown action); checked at discovery."""
        return []


def _payload_text(payload: Any) -> str:
    return show(payload) if not callable(payload) else "<computed>"


@dataclass(frozen=True)
class Send(Step):
    """The charger sends ``action`` with ``payload``; the CSMS must answer within the response timeout
    (and within ``max_seconds`` when given) with a CALLRESULT passing ``checks`` — or, when
    ``expect_error`` is set, with a CALLERROR of that code (``"*"``: any code)."""

    action: str
    payload: PayloadSpec = field(default_factory=dict)
    checks: Sequence[Check] = ()
    expect_error: str | None = None
    capture: Mapping[str, str] = field(default_factory=dict)
    max_seconds: float | None = None
    note: str = ""

    def describe(self) -> str:
        text = f"CP→CS {self.action}.req {_payload_text(self.payload)}"
        if self.expect_error is not None:
            text += f"; expect CALLERROR {self.expect_error}"
        elif self.checks:
            text += "; expect " + ", ".join(check.describe() for check in self.checks)
        return text + (f" ({self.note})" if self.note else "")

    def definition_problems(self) -> list[str]:
        if self.action not in ACTIONS:
            return [f"Send: unknown action {self.action!r}"]
        if not sent_by_charger(self.action):
            return [f"Send: {self.action} is sent by the CSMS, not by a charge point"]
        if self.expect_error not in (None, "*") and self.expect_error not in {c.value for c in ErrorCode}:
            return [f"Send: {self.expect_error!r} is not an OCPP-J 1.6 error code"]
        return []


@dataclass(frozen=True)
class OperatorRequest:
    """Make the CSMS send ``action`` with ``payload`` through the operator adapter."""

    action: str
    payload: PayloadSpec = field(default_factory=dict)

    def describe(self) -> str:
        return f"OP: make the CSMS send {self.action} {_payload_text(self.payload)}"


@dataclass(frozen=True)
class OperatorBootPolicy:
    """Set (or with None: reset to the CSMS default) the boot policy of the run's charger (AQ-1)."""

    policy: str | None

    def describe(self) -> str:
        return f"OP: set the charger's boot policy to {self.policy or 'the default'}"


OperatorAction = OperatorRequest | OperatorBootPolicy


class Operator:
    """Constructors for operator actions: ``Operator.request("Reset", {"type": "Hard"})``."""

    @staticmethod
    def request(action: str, payload: PayloadSpec | None = None) -> OperatorRequest:
        return OperatorRequest(action, payload if payload is not None else {})

    @staticmethod
    def set_boot_policy(policy: str | None) -> OperatorBootPolicy:
        return OperatorBootPolicy(policy)


@dataclass(frozen=True)
class OperatorStep(Step):
    """An operator action on its own; the case fails when the operator reports an error."""

    action: OperatorAction

    def describe(self) -> str:
        return self.action.describe()

    def definition_problems(self) -> list[str]:
        if isinstance(self.action, OperatorRequest) and not sent_by_csms(self.action.action):
            return [f"Operator: {self.action.action} is not sent by a CSMS"]
        return []


@dataclass(frozen=True)
class ExpectCall(Step):
    """The CSMS must send ``action`` within ``within`` seconds (default: the run's call window, 30 s).

    ``trigger`` runs concurrently with the wait (the OCTT prompts the tester and waits). The CALL must
    pass ``checks``; it is answered with ``answer`` (or a CALLERROR when ``answer_error`` is set).
    ``capture`` keeps request fields for later steps.
    """

    action: str
    answer: AnswerSpec = field(default_factory=dict)
    checks: Sequence[Check] = ()
    trigger: OperatorRequest | None = None
    within: float | Ref | None = None
    capture: Mapping[str, str] = field(default_factory=dict)
    answer_error: tuple[ErrorCode, str] | None = None

    def describe(self) -> str:
        text = f"CS→CP {self.action}.req"
        if self.checks:
            text += " with " + ", ".join(check.describe() for check in self.checks)
        if self.answer_error is not None:
            text += f"; CP answers CALLERROR {self.answer_error[0].value}"
        else:
            text += f"; CP answers {_payload_text(self.answer)}"
        if self.trigger is not None:
            text = f"{self.trigger.describe()}, then " + text
        return text

    def definition_problems(self) -> list[str]:
        problems = []
        if not sent_by_csms(self.action):
            problems.append(f"ExpectCall: {self.action} is not sent by a CSMS")
        if self.trigger is not None and not sent_by_csms(self.trigger.action):
            problems.append(f"ExpectCall trigger: {self.trigger.action} is not sent by a CSMS")
        return problems


@dataclass(frozen=True)
class Wait(Step):
    """Let ``seconds`` pass (a reference resolves at run time); CSMS CALLs arriving meanwhile stay queued
    for the next :class:`ExpectCall`. ``cap`` bounds a resolved value (a CSMS-chosen interval)."""

    seconds: float | Ref
    reason: str = ""
    cap: float | Ref | None = None

    def describe(self) -> str:
        amount = show(self.seconds) if isinstance(self.seconds, Ref) else f"{self.seconds:g} s"
        return f"wait {amount}" + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True)
class ExpectSilence(Step):
    """Let ``seconds`` pass; any CALL from the CSMS fails the step. With ``tolerate_close`` the CSMS may
    close the connection meanwhile (a Rejected charger's channel, C §4.2)."""

    seconds: float | Ref
    reason: str = ""
    tolerate_close: bool = False
    cap: float | Ref | None = None

    def describe(self) -> str:
        amount = show(self.seconds) if isinstance(self.seconds, Ref) else f"{self.seconds:g} s"
        return f"for {amount} the CSMS sends nothing" + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True)
class Disconnect(Step):
    """The charger closes its websocket (normal closure)."""

    reason: str = ""

    def describe(self) -> str:
        return "CP closes the connection" + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True)
class Reconnect(Step):
    """The charger opens a new websocket (closing the old one first if it is still open). With
    ``only_if_closed`` an open connection is kept."""

    reason: str = ""
    only_if_closed: bool = False

    def describe(self) -> str:
        what = "CP reconnects if the CSMS closed the connection" if self.only_if_closed else "CP reconnects"
        return what + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True)
class Expand(Step):
    """Steps computed when the case runs (e.g. one per configured connector)."""

    function: Callable[[Context], Sequence[Step]]
    text: str

    def describe(self) -> str:
        return self.text


class CustomStep(Step):
    """A step that runs itself (the robustness probes of :mod:`conformance.raw_steps`): the runner calls
    :meth:`execute` with itself as ``host`` (see ``conformance.raw_steps.StepHost`` for what a host
    offers). It returns the detail the report shows, raises :class:`StepFailure` when the CSMS does not
    do what it expects, and never leaves a connection open."""

    @abc.abstractmethod
    async def execute(self, host: Any, warnings: list[str]) -> str: ...


def flatten(items: Sequence[Step | Sequence[Step]]) -> list[Step]:
    """Scenarios may nest step lists (``[*BOOT, status("Preparing")]`` or ``[BOOT, status(...)]``)."""
    flat: list[Step] = []
    for item in items:
        if isinstance(item, Step):
            flat.append(item)
        elif isinstance(item, list | tuple):
            flat.extend(flatten(item))
        else:
            raise TypeError(f"{item!r} is not a step")
    return flat
