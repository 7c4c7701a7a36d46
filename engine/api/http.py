"""The HTTP JSON API: a thin Starlette layer over :class:`~engine.api.operator.OperatorApi` (decision 12).

:func:`build_app` makes the ASGI app; :func:`serve_http` runs it with Hypercorn's Trio worker. Every answer
is JSON; every error is ``{"error": "<kind>", "reason": "<text>", ...}`` with a fitting status code, and
nothing a client sends can produce a 500 except a bug (logged with its traceback, answered generically).

When a token is set, every request needs ``Authorization: Bearer <token>``; without a token the API is
served on loopback addresses only (:func:`serve_http` refuses anything else). Numbers keep their exact
decimal form in both directions (design.md decision 3): bodies are read with
:func:`engine.protocol.jsontext.loads` and answers written with :func:`~engine.protocol.jsontext.dumps`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import aclosing
from functools import partial
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import trio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from engine._version import __version__
from engine.api.operator import OperatorApi
from engine.clock import format_timestamp, parse_timestamp
from engine.policy import BootPolicy, UnknownChargerPolicy
from engine.profiles.base import RefusedByStateError
from engine.protocol import jsontext
from engine.protocol.errors import CallInProgressError, LocalOcppError
from engine.server.errors import (
    CallErrorResponse,
    CallFailedError,
    CallQueueFullError,
    CallTimeoutError,
    ChargerOfflineError,
    ResponseInvalidError,
)
from engine.store import ChargerRecord, IdTagRecord, TransactionRecord, UnknownChargerError

logger = logging.getLogger(__name__)

#: Largest request body accepted (the OCPP message limit, decision 10).
MAX_BODY_BYTES = 1 << 20
#: Upper bound of every ``limit`` query parameter.
MAX_LIMIT = 100_000
#: Upper bound of the ``timeout`` query parameter of a call, in seconds.
MAX_CALL_TIMEOUT = 3600.0
#: Id tag statuses an operator may store (ConcurrentTx is an answer, not a stored state).
ID_TAG_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid")
#: IdToken is a CiString20Type.
MAX_ID_TAG_LENGTH = 20


# -- errors and JSON ------------------------------------------------------------------------------


class HttpError(Exception):
    """An error answer: status code, error kind, human reason and optional extra fields."""

    def __init__(self, status: int, error: str, reason: str, **extra: Any):
        self.status = status
        self.error = error
        self.reason = reason
        self.extra = extra
        super().__init__(f"{status} {error}: {reason}")

    def response(self, headers: Mapping[str, str] | None = None) -> Response:
        return JsonResponse({"error": self.error, "reason": self.reason, **self.extra}, self.status, headers)


def _encode(content: Any) -> bytes:
    text = jsontext.dumps(content)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate somewhere in stored data: replace, never fail
        return text.encode("utf-8", "replace")


class JsonResponse(Response):
    """A JSON response written with :func:`jsontext.dumps` (``Decimal`` numbers stay exact)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _encode(content)


def plain(value: Any) -> Any:
    """A record (dataclass), enum, set, datetime, … as plain JSON-able data.

    Frozensets and sets become sorted lists; ``Decimal`` is kept (the encoder writes it exactly)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, frozenset | set):
        return sorted((plain(item) for item in value), key=str)
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dt.datetime):
        return format_timestamp(value) if value.tzinfo is not None else value.isoformat()
    return value


def _http_error_kind(status: int) -> str:
    return {404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    reason = "no such endpoint" if exc.status_code == 404 else str(exc.detail)
    if exc.status_code == 405:
        reason = f"{request.method} is not allowed on {request.url.path}"
    return HttpError(exc.status_code, _http_error_kind(exc.status_code), reason).response(exc.headers)


async def _on_unexpected(request: Request, exc: Exception) -> Response:  # pragma: no cover - backstop
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return HttpError(500, "internal_error", "internal error; see the server log").response()


Handler = Callable[[Request], Awaitable[Any]]


def _endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler returning JSON-able data: HttpError becomes its answer, anything else a logged 500."""

    async def endpoint(request: Request) -> Response:
        try:
            content = await handler(request)
        except HttpError as exc:
            return exc.response()
        except Exception:
            logger.exception("%s %s failed", request.method, request.url.path)
            return HttpError(500, "internal_error", "internal error; see the server log").response()
        return JsonResponse(content)

    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    endpoint.__doc__ = handler.__doc__
    return endpoint


# -- authentication -------------------------------------------------------------------------------


class BearerAuth:
    """Pure ASGI middleware: every HTTP request needs ``Authorization: Bearer <token>``."""

    def __init__(self, app: ASGIApp, token: str):
        self.app = app
        self._token = token.encode("ascii")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied = b""
        for name, value in scope.get("headers", ()):
            if name.lower() == b"authorization":
                scheme, _, credentials = bytes(value).strip().partition(b" ")
                if scheme.lower() == b"bearer":
                    supplied = credentials.strip()
                break
        # compare_digest: the time taken does not depend on where the first wrong byte is
        if not hmac.compare_digest(supplied, self._token):
            error = HttpError(401, "unauthorized", "missing or wrong bearer token")
            await error.response({"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _check_token(token: str) -> None:
    if not token:
        raise ValueError("the API token must not be empty (pass None for no token)")
    if not token.isascii() or not token.isprintable() or any(char.isspace() for char in token):
        raise ValueError("the API token must be printable ASCII without spaces (it travels in a header)")


# -- request helpers ------------------------------------------------------------------------------


async def _json_body(request: Request) -> Any:
    size = 0
    chunks: list[bytes] = []
    async with aclosing(request.stream()) as stream:
        async for chunk in stream:
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise HttpError(413, "payload_too_large", f"request body over {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        raise HttpError(400, "invalid_json", "empty request body; send a JSON object")
    try:
        return jsontext.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise HttpError(400, "invalid_json", "request body is not UTF-8") from None
    except jsontext.JsonTextError as exc:
        raise HttpError(400, "invalid_json", f"request body is not valid JSON: {exc.reason}") from None


async def _json_object(request: Request) -> dict[str, Any]:
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise HttpError(400, "invalid_request", "the request body must be a JSON object")
    return body


def _reject_unknown(body: Mapping[str, Any], allowed: Iterable[str]) -> None:
    known = set(allowed)
    unknown = sorted(set(body) - known)
    if unknown:
        raise HttpError(
            400,
            "invalid_request",
            f"unknown field(s): {', '.join(unknown)}",
            allowed=sorted(known),
        )


def _int_value(value: Any, name: str, *, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise HttpError(400, "invalid_request", f"{name} must be an integer")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise HttpError(400, "invalid_request", f"{name} must be {bound}")
    return value


def _query_int(request: Request, name: str, *, minimum: int, maximum: int) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise HttpError(400, "invalid_request", f"query parameter {name} must be an integer") from None
    return _int_value(value, f"query parameter {name}", minimum=minimum, maximum=maximum)


def _query_limit(request: Request, default: int) -> int:
    limit = _query_int(request, "limit", minimum=1, maximum=MAX_LIMIT)
    return default if limit is None else limit


def _query_bool(request: Request, name: str) -> bool | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    lowered = text.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise HttpError(400, "invalid_request", f"query parameter {name} must be true or false")


def _path_int(request: Request, name: str) -> int:
    text = request.path_params[name]
    try:
        return int(text)
    except ValueError:
        raise HttpError(400, "invalid_request", f"{name} must be an integer") from None


def _enum_value(value: Any, name: str, choices: type[enum.StrEnum]) -> Any:
    allowed = [member.value for member in choices]
    if not isinstance(value, str) or value not in allowed:
        raise HttpError(
            400, "invalid_request", f"{name} must be one of {', '.join(allowed)}", allowed=allowed
        )
    return choices(value)


def _id_tag_text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_ID_TAG_LENGTH:
        raise HttpError(
            400, "invalid_request", f"{name} must be a string of 1 to {MAX_ID_TAG_LENGTH} characters"
        )
    return value


def _timestamp(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise HttpError(400, "invalid_request", f"{name} must be a date-time string or null")
    try:
        return format_timestamp(parse_timestamp(value))
    except (ValueError, OverflowError):
        raise HttpError(400, "invalid_request", f"{name} is not an ISO 8601 date-time") from None


def _call_failure(exc: Exception) -> HttpError:
    """The HTTP answer for an error :meth:`OperatorApi.call` raised (see its module docstring)."""
    if isinstance(exc, ChargerOfflineError):
        return HttpError(409, "charger_offline", str(exc), charger_id=exc.charger_id)
    if isinstance(exc, RefusedByStateError):
        return HttpError(409, "refused_by_state", str(exc))
    if isinstance(exc, CallTimeoutError):
        return HttpError(504, "timeout", str(exc), timeout=exc.timeout)
    if isinstance(exc, CallErrorResponse):
        return HttpError(
            502,
            "call_error",
            str(exc),
            code=exc.code,
            description=exc.description,
            details=plain(exc.details),
        )
    if isinstance(exc, ResponseInvalidError):
        return HttpError(502, "response_invalid", str(exc))
    if isinstance(exc, CallQueueFullError):
        return HttpError(429, "queue_full", str(exc), limit=exc.limit)
    if isinstance(exc, CallInProgressError):
        return HttpError(409, "call_in_progress", str(exc))
    if isinstance(exc, LocalOcppError):
        return HttpError(400, "invalid_request", str(exc))
    assert isinstance(exc, CallFailedError)
    return HttpError(502, "call_failed", str(exc))


# -- policy fields ----------------------------------------------------------------------------------


def _check_boot(value: Any) -> Any:
    return _enum_value(value, "boot", BootPolicy)


def _check_unknown_chargers(value: Any) -> Any:
    return _enum_value(value, "unknown_chargers", UnknownChargerPolicy)


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise HttpError(400, "invalid_request", f"{name} must be true or false")
    return value


def _check_interval(name: str, value: Any) -> int:
    return _int_value(value, name, minimum=0)


def _check_optional_interval(name: str, value: Any) -> int | None:
    return None if value is None else _int_value(value, name, minimum=0)


#: Every settable :class:`~engine.policy.CsmsPolicy` field and its validator (a test keeps it complete).
POLICY_FIELDS: dict[str, Callable[[Any], Any]] = {
    "boot": _check_boot,
    "heartbeat_interval": partial(_check_interval, "heartbeat_interval"),
    "boot_retry_interval": partial(_check_interval, "boot_retry_interval"),
    "unknown_chargers": _check_unknown_chargers,
    "accept_unknown_id_tags": partial(_check_bool, "accept_unknown_id_tags"),
    "id_tag_cache_ttl": partial(_check_optional_interval, "id_tag_cache_ttl"),
}


# -- the endpoints ------------------------------------------------------------------------------------


class _Endpoints:
    def __init__(self, api: OperatorApi):
        self.api = api

    def _charger_json(self, record: ChargerRecord, connected: set[str]) -> dict[str, Any]:
        data: dict[str, Any] = plain(record)
        data["connected"] = record.charger_id in connected
        return data

    @staticmethod
    def _transaction_json(record: TransactionRecord) -> dict[str, Any]:
        data: dict[str, Any] = plain(record)
        data["active"] = bool(record.active)
        return data

    async def _known_charger(self, charger_id: str) -> ChargerRecord:
        record = await self.api.charger(charger_id)
        if record is None:
            raise HttpError(404, "not_found", f"unknown charger {charger_id!r}", charger_id=charger_id)
        return record

    async def health(self, request: Request) -> Any:
        return {"status": "ok", "connected": len(self.api.connected_chargers())}

    async def list_chargers(self, request: Request) -> Any:
        connected = set(self.api.connected_chargers())
        return [self._charger_json(record, connected) for record in await self.api.chargers()]

    async def get_charger(self, request: Request) -> Any:
        charger_id = request.path_params["charger_id"]
        record = await self._known_charger(charger_id)
        data = self._charger_json(record, set(self.api.connected_chargers()))
        data["connectors"] = plain(await self.api.connectors(charger_id))
        return data

    async def put_charger_policy(self, request: Request) -> Any:
        charger_id = request.path_params["charger_id"]
        body = await _json_object(request)
        _reject_unknown(body, {"boot_policy", "heartbeat_interval"})
        boot_policy = body.get("boot_policy")
        if boot_policy is not None:
            boot_policy = _enum_value(boot_policy, "boot_policy", BootPolicy).value
        interval = body.get("heartbeat_interval")
        if interval is not None:
            interval = _int_value(interval, "heartbeat_interval", minimum=0)
        # No "known charger" check: an operator prepares a charger's policy before it first connects
        # (the operator API registers it).
        try:
            await self.api.set_charger_policy(
                charger_id, boot_policy=boot_policy, heartbeat_interval=interval
            )
        except UnknownChargerError:
            raise HttpError(
                404, "not_found", f"unknown charger {charger_id!r}", charger_id=charger_id
            ) from None
        record = await self._known_charger(charger_id)
        return self._charger_json(record, set(self.api.connected_chargers()))

    async def list_connectors(self, request: Request) -> Any:
        charger_id = request.path_params["charger_id"]
        await self._known_charger(charger_id)
        return plain(await self.api.connectors(charger_id))

    async def message_log(self, request: Request) -> Any:
        # No 404 for an unknown charger: the log is audit data and outlives a deleted charger.
        charger_id = request.path_params["charger_id"]
        limit = _query_limit(request, 100)
        return plain(await self.api.message_log(charger_id, limit))

    async def call(self, request: Request) -> Any:
        charger_id = request.path_params["charger_id"]
        action = request.path_params["action"]
        timeout: float | None = None
        timeout_text = request.query_params.get("timeout")
        if timeout_text:
            try:
                timeout = float(timeout_text)
            except ValueError:
                timeout = -1.0
            if not 0 < timeout <= MAX_CALL_TIMEOUT:
                raise HttpError(
                    400,
                    "invalid_request",
                    f"timeout must be a number of seconds in (0, {MAX_CALL_TIMEOUT:g}]",
                )
        payload = await _json_object(request)
        try:
            result = await self.api.call(charger_id, action, payload, timeout=timeout)
        except (CallFailedError, RefusedByStateError, LocalOcppError) as exc:
            logger.info("operator call %s to %s failed: %s", action, charger_id, exc)
            raise _call_failure(exc) from None
        return {"result": plain(result)}

    async def list_transactions(self, request: Request) -> Any:
        limit = _query_limit(request, 100)
        records = await self.api.transactions(
            charger_id=request.query_params.get("charger") or None,
            active=_query_bool(request, "active"),
            limit=limit,
        )
        return [self._transaction_json(record) for record in records]

    async def get_transaction(self, request: Request) -> Any:
        transaction_id = _path_int(request, "transaction_id")
        limit = _query_limit(request, 10_000)
        record = await self.api.transaction(transaction_id)
        if record is None:
            raise HttpError(
                404, "not_found", f"unknown transaction {transaction_id}", transaction_id=transaction_id
            )
        data = self._transaction_json(record)
        data["meter_values"] = plain(await self.api.meter_values(transaction_id=transaction_id, limit=limit))
        return data

    async def list_meter_values(self, request: Request) -> Any:
        limit = _query_limit(request, 1000)
        transaction = _query_int(request, "transaction", minimum=-(2**63), maximum=2**63 - 1)
        records = await self.api.meter_values(
            charger_id=request.query_params.get("charger") or None, transaction_id=transaction, limit=limit
        )
        return plain(records)

    async def list_id_tags(self, request: Request) -> Any:
        return plain(await self.api.id_tags())

    async def put_id_tag(self, request: Request) -> Any:
        id_tag = _id_tag_text(request.path_params["id_tag"], "the id tag")
        body = await _json_object(request)
        _reject_unknown(body, {"status", "expiry_date", "parent_id_tag"})
        status = body.get("status")
        if status not in ID_TAG_STATUSES:
            raise HttpError(
                400,
                "invalid_request",
                f"status must be one of {', '.join(ID_TAG_STATUSES)}",
                allowed=list(ID_TAG_STATUSES),
            )
        expiry = body.get("expiry_date")
        parent = body.get("parent_id_tag")
        record = IdTagRecord(
            id_tag=id_tag,
            status=status,
            expiry_date=None if expiry is None else _timestamp(expiry, "expiry_date"),
            parent_id_tag=None if parent is None else _id_tag_text(parent, "parent_id_tag"),
        )
        await self.api.put_id_tag(record)
        return plain(record)

    async def delete_id_tag(self, request: Request) -> Any:
        id_tag = request.path_params["id_tag"]
        if not await self.api.delete_id_tag(id_tag):
            raise HttpError(404, "not_found", f"unknown id tag {id_tag!r}", id_tag=id_tag)
        return {"deleted": True, "id_tag": id_tag}

    async def get_policy(self, request: Request) -> Any:
        return plain(self.api.policy)

    async def patch_policy(self, request: Request) -> Any:
        body = await _json_object(request)
        _reject_unknown(body, POLICY_FIELDS.keys())
        changes = {name: POLICY_FIELDS[name](value) for name, value in body.items()}
        if not changes:
            return plain(self.api.policy)
        return plain(await self.api.update_policy(**changes))

    async def openapi(self, request: Request) -> Any:
        return openapi_document()


def build_app(api: OperatorApi, *, token: str | None = None) -> Starlette:
    """The operator HTTP API over ``api``. With ``token``, every request needs ``Bearer <token>``."""
    if token is not None:
        _check_token(token)
    endpoints = _Endpoints(api)
    get, put, post, delete, patch = ["GET"], ["PUT"], ["POST"], ["DELETE"], ["PATCH"]
    routes = [
        Route("/api/health", _endpoint(endpoints.health), methods=get),
        Route("/api/chargers", _endpoint(endpoints.list_chargers), methods=get),
        Route("/api/chargers/{charger_id}", _endpoint(endpoints.get_charger), methods=get),
        Route("/api/chargers/{charger_id}/policy", _endpoint(endpoints.put_charger_policy), methods=put),
        Route("/api/chargers/{charger_id}/connectors", _endpoint(endpoints.list_connectors), methods=get),
        Route("/api/chargers/{charger_id}/log", _endpoint(endpoints.message_log), methods=get),
        Route("/api/chargers/{charger_id}/call/{action}", _endpoint(endpoints.call), methods=post),
        Route("/api/transactions", _endpoint(endpoints.list_transactions), methods=get),
        Route("/api/transactions/{transaction_id}", _endpoint(endpoints.get_transaction), methods=get),
        Route("/api/meter-values", _endpoint(endpoints.list_meter_values), methods=get),
        Route("/api/id-tags", _endpoint(endpoints.list_id_tags), methods=get),
        Route("/api/id-tags/{id_tag}", _endpoint(endpoints.put_id_tag), methods=put),
        Route("/api/id-tags/{id_tag}", _endpoint(endpoints.delete_id_tag), methods=delete),
        Route("/api/policy", _endpoint(endpoints.get_policy), methods=get),
        Route("/api/policy", _endpoint(endpoints.patch_policy), methods=patch),
        Route("/api/openapi.json", _endpoint(endpoints.openapi), methods=get),
    ]
    middleware = [Middleware(BearerAuth, token=token)] if token is not None else []
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: _on_http_exception, Exception: _on_unexpected},
    )


# -- serving --------------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bind_text(host: str, port: int) -> str:
    bare = host.strip("[]")
    return f"[{bare}]:{port}" if ":" in bare else f"{bare}:{port}"


async def serve_http(
    api: OperatorApi,
    host: str,
    port: int,
    *,
    token: str | None,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the operator API on ``host:port`` until cancelled; ``task_status`` gets the bound port.

    Raises ValueError, before binding anything, for a non-loopback host without a token: the API can
    send any command to any charger, so it is never exposed unauthenticated.
    """
    if token is None and not is_loopback(host):
        raise ValueError(
            f"refusing to serve the operator API on {host!r} without a token: "
            "bind a loopback address (127.0.0.1) or set an API token"
        )
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} out of range")
    app = build_app(api, token=token)

    from hypercorn.config import Config as HypercornConfig
    from hypercorn.trio import serve

    if TYPE_CHECKING:
        from hypercorn.typing import ASGIFramework

    config = HypercornConfig()
    config.bind = [_bind_text(host, port)]
    config.accesslog = None
    config.errorlog = logging.getLogger(f"{__name__}.server")
    config.include_server_header = False
    async with trio.open_nursery() as nursery:
        binds: list[str] = await nursery.start(
            partial(serve, cast("ASGIFramework", app), config, mode="asgi")
        )
        bound_port = urlsplit(binds[0]).port if binds else None
        if bound_port is None:  # pragma: no cover - hypercorn always reports its insecure bind
            raise RuntimeError(f"cannot tell the bound port from {binds!r}")
        auth = "bearer token required" if token is not None else "no token, loopback only"
        logger.info("operator API on http://%s (%s)", _bind_text(host, bound_port), auth)
        task_status.started(bound_port)


# -- OpenAPI --------------------------------------------------------------------------------------


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, **_json_content(schema)}


def _err(description: str) -> dict[str, Any]:
    return {"description": description, **_json_content(_ref("Error"))}


def _path_param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _query_param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _limit(default: int) -> dict[str, Any]:
    return _query_param(
        "limit",
        "most records to return",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": default},
    )


_NULLABLE_STRING: dict[str, Any] = {"type": ["string", "null"]}
_NULLABLE_INT: dict[str, Any] = {"type": ["integer", "null"]}
_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
_ANY_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}


def _schemas() -> dict[str, Any]:
    boot_policies = [member.value for member in BootPolicy]
    return {
        "Error": {
            "type": "object",
            "required": ["error", "reason"],
            "properties": {
                "error": {"type": "string", "description": "machine-readable kind, e.g. charger_offline"},
                "reason": {"type": "string", "description": "human-readable explanation"},
            },
            "additionalProperties": True,
        },
        "Health": {
            "type": "object",
            "required": ["status", "connected"],
            "properties": {"status": {"const": "ok"}, "connected": {"type": "integer"}},
        },
        "Connector": {
            "type": "object",
            "properties": {
                "charger_id": {"type": "string"},
                "connector_id": {"type": "integer"},
                "status": {"type": "string"},
                "error_code": {"type": "string"},
                "info": _NULLABLE_STRING,
                "vendor_id": _NULLABLE_STRING,
                "vendor_error_code": _NULLABLE_STRING,
                "status_timestamp": {"type": "string", "description": "the charger's timestamp, as sent"},
                "updated_at": {"type": "string", "description": "when the CSMS received it"},
            },
        },
        "Charger": {
            "type": "object",
            "properties": {
                "charger_id": {"type": "string"},
                "connected": {"type": "boolean", "description": "has a live connection now"},
                "registration_status": {"enum": ["Accepted", "Pending", "Rejected", None]},
                "boot_info": {**_ANY_OBJECT, "description": "the last BootNotification payload"},
                "boot_policy": {"enum": [*boot_policies, None], "description": "per-charger override"},
                "heartbeat_interval": _NULLABLE_INT,
                "flags": _STRINGS,
                "first_seen": {"type": "string"},
                "last_seen": _NULLABLE_STRING,
                "last_boot": _NULLABLE_STRING,
                "configuration": {"type": "object", "additionalProperties": _NULLABLE_STRING},
            },
        },
        "ChargerDetail": {
            "allOf": [
                _ref("Charger"),
                {
                    "type": "object",
                    "properties": {"connectors": {"type": "array", "items": _ref("Connector")}},
                },
            ]
        },
        "ChargerPolicy": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "boot_policy": {"enum": [*boot_policies, None], "description": "null: use the default"},
                "heartbeat_interval": {"type": ["integer", "null"], "minimum": 0},
            },
        },
        "LogRecord": {
            "type": "object",
            "properties": {
                "charger_id": {"type": "string"},
                "direction": {"enum": ["in", "out"]},
                "text": {"type": "string", "description": "the OCPP-J frame text"},
                "at": {"type": "string"},
            },
        },
        "CallResult": {
            "type": "object",
            "required": ["result"],
            "properties": {"result": {**_ANY_OBJECT, "description": "the CALLRESULT payload"}},
        },
        "CallError": {
            "allOf": [
                _ref("Error"),
                {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "description": {"type": "string"},
                        "details": _ANY_OBJECT,
                    },
                },
            ]
        },
        "Transaction": {
            "type": "object",
            "properties": {
                "transaction_id": {"type": "integer"},
                "charger_id": {"type": "string"},
                "connector_id": {"type": "integer"},
                "id_tag": {"type": "string"},
                "meter_start": {"type": "integer"},
                "start_timestamp": {"type": "string"},
                "reservation_id": _NULLABLE_INT,
                "start_status": {"type": "string"},
                "meter_stop": _NULLABLE_INT,
                "stop_timestamp": _NULLABLE_STRING,
                "stop_reason": _NULLABLE_STRING,
                "stop_id_tag": _NULLABLE_STRING,
                "stopped_at": _NULLABLE_STRING,
                "flags": _STRINGS,
                "started_at": {"type": "string"},
                "active": {"type": "boolean", "description": "not stopped and not superseded"},
            },
        },
        "TransactionDetail": {
            "allOf": [
                _ref("Transaction"),
                {
                    "type": "object",
                    "properties": {"meter_values": {"type": "array", "items": _ref("MeterValue")}},
                },
            ]
        },
        "MeterValue": {
            "type": "object",
            "properties": {
                "charger_id": {"type": "string"},
                "connector_id": {"type": "integer"},
                "transaction_id": _NULLABLE_INT,
                "timestamp": _NULLABLE_STRING,
                "sampled_values": {"type": "array", "items": _ANY_OBJECT},
                "source": {"type": "string", "description": "MeterValues, StopTransaction, …"},
                "received_at": {"type": "string"},
                "text": {"type": "string", "description": "the MeterValue object as stored JSON text"},
            },
        },
        "IdTag": {
            "type": "object",
            "properties": {
                "id_tag": {"type": "string", "maxLength": MAX_ID_TAG_LENGTH},
                "status": {"enum": list(ID_TAG_STATUSES)},
                "expiry_date": _NULLABLE_STRING,
                "parent_id_tag": _NULLABLE_STRING,
            },
        },
        "IdTagInput": {
            "type": "object",
            "required": ["status"],
            "additionalProperties": False,
            "properties": {
                "status": {"enum": list(ID_TAG_STATUSES)},
                "expiry_date": {
                    "type": ["string", "null"],
                    "format": "date-time",
                    "description": "stored as UTC with Z",
                },
                "parent_id_tag": {"type": ["string", "null"], "minLength": 1, "maxLength": MAX_ID_TAG_LENGTH},
            },
        },
        "Deleted": {
            "type": "object",
            "properties": {"deleted": {"const": True}, "id_tag": {"type": "string"}},
        },
        "Policy": {
            "type": "object",
            "properties": {
                "boot": {"enum": boot_policies},
                "heartbeat_interval": {"type": "integer", "minimum": 0},
                "boot_retry_interval": {"type": "integer", "minimum": 0},
                "unknown_chargers": {"enum": [member.value for member in UnknownChargerPolicy]},
                "accept_unknown_id_tags": {"type": "boolean"},
                "id_tag_cache_ttl": {"type": ["integer", "null"], "minimum": 0},
            },
        },
        "PolicyPatch": {"allOf": [_ref("Policy")], "unevaluatedProperties": False},
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of every route of :func:`build_app` (a test keeps them in step)."""
    charger_id = _path_param("charger_id", "the charge point identity")
    bad_request = _err("invalid JSON or request")
    not_found = _err("unknown charger")
    charger_list = {"type": "array", "items": _ref("Charger")}
    paths: dict[str, Any] = {
        "/api/health": {
            "get": {
                "summary": "liveness and the number of connected chargers",
                "responses": {"200": _ok("running", _ref("Health"))},
            }
        },
        "/api/chargers": {
            "get": {"summary": "every known charger", "responses": {"200": _ok("the chargers", charger_list)}}
        },
        "/api/chargers/{charger_id}": {
            "get": {
                "summary": "one charger with its connectors",
                "parameters": [charger_id],
                "responses": {"200": _ok("the charger", _ref("ChargerDetail")), "404": not_found},
            }
        },
        "/api/chargers/{charger_id}/policy": {
            "put": {
                "summary": "set the charger's boot policy and heartbeat interval (null: use the default)",
                "parameters": [charger_id],
                "requestBody": {"required": True, **_json_content(_ref("ChargerPolicy"))},
                "responses": {
                    "200": _ok("the updated charger", _ref("Charger")),
                    "400": bad_request,
                    "404": not_found,
                },
            }
        },
        "/api/chargers/{charger_id}/connectors": {
            "get": {
                "summary": "the current status of each connector",
                "parameters": [charger_id],
                "responses": {
                    "200": _ok("the connectors", {"type": "array", "items": _ref("Connector")}),
                    "404": not_found,
                },
            }
        },
        "/api/chargers/{charger_id}/log": {
            "get": {
                "summary": "the charger's message log, newest first (kept even for a forgotten charger)",
                "parameters": [charger_id, _limit(100)],
                "responses": {
                    "200": _ok("log records", {"type": "array", "items": _ref("LogRecord")}),
                    "400": bad_request,
                },
            }
        },
        "/api/chargers/{charger_id}/call/{action}": {
            "post": {
                "summary": "send a CALL to a connected charger and return its CALLRESULT payload",
                "parameters": [
                    charger_id,
                    _path_param("action", "the OCPP action, e.g. RemoteStartTransaction"),
                    _query_param(
                        "timeout",
                        "response timeout in seconds (default: the charger's configured one)",
                        {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_CALL_TIMEOUT},
                    ),
                ],
                "requestBody": {
                    "required": True,
                    **_json_content({**_ANY_OBJECT, "description": "the payload"}),
                },
                "responses": {
                    "200": _ok("the charger's answer", _ref("CallResult")),
                    "400": _err("invalid_json / invalid_request: bad body, payload or action"),
                    "409": _err("charger_offline, refused_by_state or call_in_progress"),
                    "413": _err("payload_too_large"),
                    "429": _err("queue_full: too many calls queued for the charger"),
                    "502": {
                        "description": "call_error (the charger sent a CALLERROR), response_invalid or "
                        "call_failed",
                        **_json_content(_ref("CallError")),
                    },
                    "504": _err("timeout: no answer within the response timeout"),
                },
            }
        },
        "/api/transactions": {
            "get": {
                "summary": "transactions, newest first",
                "parameters": [
                    _query_param("charger", "only this charger's", {"type": "string"}),
                    _query_param("active", "only open (true) or closed (false) ones", {"type": "boolean"}),
                    _limit(100),
                ],
                "responses": {
                    "200": _ok("the transactions", {"type": "array", "items": _ref("Transaction")}),
                    "400": bad_request,
                },
            }
        },
        "/api/transactions/{transaction_id}": {
            "get": {
                "summary": "one transaction with its meter values",
                "parameters": [
                    _path_param("transaction_id", "the transaction id", {"type": "integer"}),
                    _limit(10_000),
                ],
                "responses": {
                    "200": _ok("the transaction", _ref("TransactionDetail")),
                    "400": bad_request,
                    "404": _err("unknown transaction"),
                },
            }
        },
        "/api/meter-values": {
            "get": {
                "summary": "meter values in arrival order",
                "parameters": [
                    _query_param("charger", "only this charger's", {"type": "string"}),
                    _query_param("transaction", "only this transaction's", {"type": "integer"}),
                    _limit(1000),
                ],
                "responses": {
                    "200": _ok("the meter values", {"type": "array", "items": _ref("MeterValue")}),
                    "400": bad_request,
                },
            }
        },
        "/api/id-tags": {
            "get": {
                "summary": "the id tags the CSMS knows",
                "responses": {"200": _ok("the id tags", {"type": "array", "items": _ref("IdTag")})},
            }
        },
        "/api/id-tags/{id_tag}": {
            "put": {
                "summary": "add or replace an id tag (matched case-insensitively)",
                "parameters": [_path_param("id_tag", "the id tag", {"type": "string", "maxLength": 20})],
                "requestBody": {"required": True, **_json_content(_ref("IdTagInput"))},
                "responses": {"200": _ok("the stored id tag", _ref("IdTag")), "400": bad_request},
            },
            "delete": {
                "summary": "forget an id tag",
                "parameters": [_path_param("id_tag", "the id tag")],
                "responses": {"200": _ok("deleted", _ref("Deleted")), "404": _err("unknown id tag")},
            },
        },
        "/api/policy": {
            "get": {"summary": "the default policy", "responses": {"200": _ok("the policy", _ref("Policy"))}},
            "patch": {
                "summary": "change default policy fields",
                "requestBody": {"required": True, **_json_content(_ref("PolicyPatch"))},
                "responses": {"200": _ok("the updated policy", _ref("Policy")), "400": bad_request},
            },
        },
        "/api/openapi.json": {
            "get": {
                "summary": "this document",
                "responses": {"200": _ok("OpenAPI 3.1", {"type": "object"})},
            }
        },
    }
    for item in paths.values():
        for operation in item.values():
            operation["responses"].setdefault("401", _err("unauthorized: missing or wrong bearer token"))
            operation["responses"].setdefault("500", _err("internal_error"))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ocpp-trio operator API",
            "version": __version__,
            "description": "Operate an OCPP 1.6-J Central System. Errors are JSON objects "
            '{"error": kind, "reason": text, ...}. When the server has a token, every request needs '
            "Authorization: Bearer <token>.",
        },
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}, {}],
        "paths": paths,
    }
