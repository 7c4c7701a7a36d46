"""Operator adapters: how the suite makes the CSMS under test do things (octt-csms-cases.md §4.2).

The OCTT prompts a person ("Manual Action") whenever the Central System must send something. Here the
same step goes through an adapter with one interface, :class:`OperatorAdapter`:

- :class:`InProcessOperator` — calls ocpp-trio's Python operator API (``engine.api.operator``) directly;
  used when the CSMS runs in the same process (virtual-time runs, tests).
- :class:`OcppTrioOperator` — drives ocpp-trio's HTTP operator API (``--operator ocpp-trio[:URL]``).
- :class:`ExecOperator` — runs a vendor's command for every action (``--operator exec:COMMAND``): the
  request goes to its stdin as one JSON object, the answer comes back on stdout as one JSON object. See
  ``conformance/examples/operator_example.py`` for the protocol and a working bridge.
- :class:`PromptOperator` — tells a person what to do on stderr (``--operator prompt``); the expect
  step's window (30 s by default) still applies.

``request`` never raises for what the CSMS does: an error comes back as an :class:`OperatorResult` with
``error`` set, and the expect step that triggered it reports it if the CALL never arrives. Only a broken
adapter (API unreachable, command missing) raises :class:`OperatorError`.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TextIO

import trio

from conformance.config import RunConfig

if TYPE_CHECKING:
    from engine.api.operator import OperatorApi

DEFAULT_API_URL = "http://127.0.0.1:9001"
#: the same environment variables as ``ocpp-trio``'s own API commands: the API URL and its token (keeps
#: the token off the command line)
API_ENV = "OCPP_TRIO_API"
TOKEN_ENV = "OCPP_TRIO_TOKEN"


class OperatorError(Exception):
    """The adapter cannot work at all (API unreachable, bad command, provisioning refused)."""


@dataclass(frozen=True)
class OperatorResult:
    """What an operator action gave: the charger's answer (``result``) or why it failed (``error`` is a
    short kind such as ``charger_offline``, ``timeout``, ``call_error``; ``reason`` explains)."""

    result: dict[str, Any] | None = None
    error: str | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    def describe(self) -> str:
        if self.error is None:
            return "ok" if self.result is None else f"result {json.dumps(self.result, default=str)}"
        return f"{self.error}: {self.reason}" if self.reason else self.error


class OperatorAdapter(Protocol):
    """One interface for every way of operating the CSMS under test."""

    @property
    def name(self) -> str: ...

    @property
    def waits_for_result(self) -> bool:
        """True when ``request`` returns once the CSMS got the charger's answer (an API); False when it
        cannot know (a person): the runner then stops waiting as soon as the CALL has arrived."""
        ...

    async def request(self, charger_id: str, action: str, payload: dict[str, Any]) -> OperatorResult:
        """Make the CSMS send ``action`` with ``payload`` to ``charger_id``."""
        ...

    async def provision(self, config: RunConfig) -> None:
        """Create what the run needs in the CSMS (idTags, charger settings); raises OperatorError."""
        ...

    async def set_boot_policy(self, charger_id: str, policy: str | None) -> OperatorResult:
        """Make the CSMS answer the charger's next BootNotification per ``policy`` (``PendingOnce``,
        ``RejectedOnce``, …); None restores the CSMS default."""
        ...


# ------------------------------------------------------------------------------------------- in-process


class InProcessOperator:
    """The operator API of an ocpp-trio :class:`~engine.server.csms.Csms` in this process."""

    name = "in-process"
    waits_for_result = True

    def __init__(self, api: OperatorApi, *, heartbeat_interval: int | None = None):
        self.api = api
        self.heartbeat_interval = heartbeat_interval

    async def request(self, charger_id: str, action: str, payload: dict[str, Any]) -> OperatorResult:
        try:
            result = await self.api.call(charger_id, action, payload)
        except Exception as exc:  # every failure becomes a result; the step reports it
            return OperatorResult(error=_error_kind(exc), reason=str(exc))
        return OperatorResult(result=result)

    async def provision(self, config: RunConfig) -> None:
        from engine.store import IdTagRecord

        self.heartbeat_interval = config.heartbeat_interval
        for tag in config.id_tags.provisioning():
            await self.api.put_id_tag(
                IdTagRecord(
                    id_tag=str(tag["idTag"]),
                    status=str(tag["status"]),
                    expiry_date=tag["expiryDate"],
                    parent_id_tag=tag["parentIdTag"],
                )
            )
        if config.heartbeat_interval is not None:
            await self.api.set_charger_policy(
                config.charger_id, boot_policy=None, heartbeat_interval=config.heartbeat_interval
            )

    async def set_boot_policy(self, charger_id: str, policy: str | None) -> OperatorResult:
        try:
            await self.api.set_charger_policy(
                charger_id, boot_policy=policy, heartbeat_interval=self.heartbeat_interval
            )
        except Exception as exc:
            return OperatorResult(error=_error_kind(exc), reason=str(exc))
        return OperatorResult()


_ERROR_KINDS = {
    "ChargerOfflineError": "charger_offline",
    "RefusedByStateError": "refused_by_state",
    "CallTimeoutError": "timeout",
    "CallErrorResponse": "call_error",
    "ResponseInvalidError": "response_invalid",
    "CallQueueFullError": "queue_full",
    "LocalOcppError": "invalid_request",
}


def _error_kind(exc: BaseException) -> str:
    for cls in type(exc).__mro__:
        if cls.__name__ in _ERROR_KINDS:
            return _ERROR_KINDS[cls.__name__]
    return type(exc).__name__


# ------------------------------------------------------------------------------------------------- HTTP


class OcppTrioOperator:
    """ocpp-trio's HTTP operator API (``ocpp-trio serve`` exposes it, by default on
    ``http://127.0.0.1:9001``). Blocking ``urllib`` calls run in a worker thread."""

    name = "ocpp-trio"
    waits_for_result = True

    def __init__(self, base_url: str = DEFAULT_API_URL, token: str | None = None, *, timeout: float = 75.0):
        scheme = urllib.parse.urlsplit(base_url).scheme
        if scheme not in ("http", "https"):
            raise OperatorError(f"the ocpp-trio API URL must be http(s)://…, not {base_url!r}")
        # ``ocpp-trio serve`` prints the API as http://HOST:PORT/api; accept that form as well.
        self.base_url = base_url.rstrip("/").removesuffix("/api")
        self.token = token
        self.timeout = timeout
        self.heartbeat_interval: int | None = None

    async def request(self, charger_id: str, action: str, payload: dict[str, Any]) -> OperatorResult:
        path = f"/api/chargers/{_segment(charger_id)}/call/{_segment(action)}"
        status, body = await self._http("POST", path, payload)
        if 200 <= status < 300 and isinstance(body, dict) and isinstance(body.get("result"), dict):
            return OperatorResult(result=body["result"])
        return _http_error(status, body)

    async def provision(self, config: RunConfig) -> None:
        status, body = await self._http("GET", "/api/health", None)
        if not 200 <= status < 300:
            raise OperatorError(
                f"ocpp-trio API at {self.base_url} is not healthy: {_http_error(status, body).describe()}"
            )
        self.heartbeat_interval = config.heartbeat_interval
        for tag in config.id_tags.provisioning():
            body_out = {
                "status": tag["status"],
                "expiry_date": tag["expiryDate"],
                "parent_id_tag": tag["parentIdTag"],
            }
            status, body = await self._http("PUT", f"/api/id-tags/{_segment(str(tag['idTag']))}", body_out)
            if not 200 <= status < 300:
                raise OperatorError(
                    f"cannot provision idTag {tag['idTag']}: {_http_error(status, body).describe()}"
                )
        if config.heartbeat_interval is not None:
            result = await self.set_boot_policy(config.charger_id, None)
            if not result.ok:
                raise OperatorError(
                    f"cannot set the heartbeat interval of {config.charger_id}: {result.describe()}"
                )

    async def set_boot_policy(self, charger_id: str, policy: str | None) -> OperatorResult:
        body_out = {"boot_policy": policy, "heartbeat_interval": self.heartbeat_interval}
        status, body = await self._http("PUT", f"/api/chargers/{_segment(charger_id)}/policy", body_out)
        if 200 <= status < 300:
            return OperatorResult()
        return _http_error(status, body)

    async def _http(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        url = self.base_url + path
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)

        def blocking() -> tuple[int, bytes]:
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return response.status, response.read()
            except urllib.error.HTTPError as exc:
                return exc.code, exc.read()

        try:
            status, raw = await trio.to_thread.run_sync(blocking, abandon_on_cancel=True)
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise OperatorError(
                f"cannot reach the ocpp-trio operator API at {self.base_url}: {reason}"
            ) from None
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError):
            parsed = {"error": "bad_response", "reason": raw[:200].decode("utf-8", "replace")}
        return status, parsed


def _segment(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _http_error(status: int, body: Any) -> OperatorResult:
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return OperatorResult(error=body["error"], reason=f"HTTP {status} {body.get('reason', '')}".strip())
    return OperatorResult(error=f"http_{status}", reason=json.dumps(body)[:200] if body is not None else "")


# ------------------------------------------------------------------------------------------------- exec


class ExecOperator:
    """Runs ``command`` once per operator action with a JSON request on stdin; reads one JSON object on
    stdout. Requests::

        {"operation": "call", "chargerId": "CP-1", "action": "Reset", "payload": {"type": "Hard"}}
        {"operation": "provision", "chargerId": "CP-1", "idTags": [...], ...}
        {"operation": "set_boot_policy", "chargerId": "CP-1", "policy": "PendingOnce"}   # null: default

    Answers: ``{"result": {...}}`` on success, ``{"error": "kind", "reason": "text"}`` otherwise. A
    non-zero exit status is an error too (stderr is quoted in the report).
    """

    name = "exec"
    waits_for_result = True

    def __init__(self, command: str | list[str], *, timeout: float = 75.0):
        self.argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not self.argv:
            raise OperatorError("exec: needs a command")
        self.timeout = timeout

    async def request(self, charger_id: str, action: str, payload: dict[str, Any]) -> OperatorResult:
        return await self._run(
            {"operation": "call", "chargerId": charger_id, "action": action, "payload": payload}
        )

    async def provision(self, config: RunConfig) -> None:
        result = await self._run({"operation": "provision", **config.provisioning()})
        if not result.ok:
            raise OperatorError(f"the exec operator could not provision the run: {result.describe()}")

    async def set_boot_policy(self, charger_id: str, policy: str | None) -> OperatorResult:
        return await self._run({"operation": "set_boot_policy", "chargerId": charger_id, "policy": policy})

    async def _run(self, request: dict[str, Any]) -> OperatorResult:
        data = json.dumps(request).encode()
        try:
            with trio.fail_after(self.timeout):
                process = await trio.run_process(
                    self.argv, stdin=data, capture_stdout=True, capture_stderr=True, check=False
                )
        except OSError as exc:
            raise OperatorError(f"cannot run operator command {self.argv[0]!r}: {exc}") from None
        except trio.TooSlowError:
            return OperatorResult(
                error="exec_timeout", reason=f"command still running after {self.timeout:g} s"
            )
        stderr = process.stderr.decode("utf-8", "replace").strip()[-300:]
        if process.returncode != 0:
            return OperatorResult(error="exec_failed", reason=f"exit status {process.returncode}: {stderr}")
        try:
            answer = json.loads(process.stdout.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            text = process.stdout.decode("utf-8", "replace").strip()[:200]
            return OperatorResult(error="exec_bad_output", reason=f"stdout is not one JSON object: {text!r}")
        if isinstance(answer, dict) and isinstance(answer.get("error"), str):
            return OperatorResult(error=answer["error"], reason=str(answer.get("reason", "")))
        if isinstance(answer, dict) and isinstance(answer.get("result", {}), dict):
            return OperatorResult(result=answer.get("result", {}))
        return OperatorResult(error="exec_bad_output", reason='expected {"result": {...}} or {"error": ...}')


# ----------------------------------------------------------------------------------------------- prompt


class PromptOperator:
    """A person operates the CSMS: instructions go to ``output`` (stderr); provisioning and boot-policy
    changes wait for Enter on stdin; a request waits for the CALL itself (the expect step's window)."""

    name = "prompt"
    waits_for_result = False

    def __init__(
        self,
        *,
        output: TextIO | None = None,
        read_line: Callable[[], str] | None = None,
        window: float = 30.0,
    ):
        self.output = output if output is not None else sys.stderr
        self.read_line = read_line if read_line is not None else sys.stdin.readline
        self.window = window

    def _say(self, text: str) -> None:
        print(text, file=self.output, flush=True)

    async def _enter(self) -> None:
        await trio.to_thread.run_sync(self.read_line, abandon_on_cancel=True)

    async def request(self, charger_id: str, action: str, payload: dict[str, Any]) -> OperatorResult:
        self._say(
            f">>> OPERATOR: make the CSMS send {action} to charge point {charger_id} with "
            f"{json.dumps(payload)} — waiting up to {self.window:g} s for it to arrive."
        )
        await trio.sleep_forever()

    async def provision(self, config: RunConfig) -> None:
        self._say(">>> OPERATOR: before the run, provision the CSMS under test with:")
        self._say(
            f"    charge point {config.charger_id} allowed to connect "
            f"(vendor {config.vendor!r}, model {config.model!r})"
        )
        for tag in config.id_tags.provisioning():
            extra = f", parent {tag['parentIdTag']}" if tag["parentIdTag"] else ""
            expiry = f", expiry {tag['expiryDate']}" if tag["expiryDate"] else ""
            self._say(f"    idTag {tag['idTag']}: {tag['status']}{expiry}{extra}")
        self._say(f"    idTag {config.id_tags.invalid} must be unknown (answered Invalid)")
        self._say("    Press Enter when done.")
        await self._enter()

    async def set_boot_policy(self, charger_id: str, policy: str | None) -> OperatorResult:
        if policy is None:
            self._say(
                f">>> OPERATOR: restore the normal boot behaviour (Accepted) for {charger_id}; press Enter."
            )
        else:
            first = policy.removesuffix("Once")
            self._say(
                f">>> OPERATOR: configure the CSMS to answer the next BootNotification of {charger_id} with "
                f"{first} (and a later one with Accepted); press Enter."
            )
        await self._enter()
        return OperatorResult()


# ---------------------------------------------------------------------------------------------- factory


def make_operator(spec: str, *, token: str | None = None, window: float = 30.0) -> OperatorAdapter:
    """The adapter for an ``--operator`` value: ``ocpp-trio``, ``ocpp-trio:URL``, ``exec:COMMAND`` or
    ``prompt``. For ocpp-trio the URL defaults to ``$OCPP_TRIO_API`` (else http://127.0.0.1:9001) and the
    token to ``$OCPP_TRIO_TOKEN``."""
    if spec == "ocpp-trio":
        url = os.environ.get(API_ENV) or DEFAULT_API_URL
        return OcppTrioOperator(url, token or os.environ.get(TOKEN_ENV))
    if spec.startswith("ocpp-trio:"):
        return OcppTrioOperator(spec.removeprefix("ocpp-trio:"), token or os.environ.get(TOKEN_ENV))
    if spec.startswith("exec:"):
        return ExecOperator(spec.removeprefix("exec:"))
    if spec == "prompt":
        return PromptOperator(window=window)
    raise OperatorError(f"unknown operator {spec!r}; use ocpp-trio, ocpp-trio:URL, exec:COMMAND or prompt")
