"""A small synchronous client of the HTTP operator API (:mod:`engine.api.http`), used by the CLI.

Standard library only (``urllib.request``). Numbers keep their exact decimal form both ways: bodies are
written with :func:`engine.protocol.jsontext.dumps` and answers read with
:func:`~engine.protocol.jsontext.loads` (fractions come back as ``Decimal``). Proxies from the environment
are ignored on purpose: the API normally lives on the same machine.

Every failure raises :class:`ApiError`; not reaching the server at all raises its subclass
:class:`ApiConnectionError` (``status`` 0).
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlencode

from engine.protocol import jsontext

DEFAULT_API_URL = "http://127.0.0.1:9001"
#: Seconds to wait for an answer (a call waits its OCPP timeout on top of this).
DEFAULT_TIMEOUT = 60.0


class ApiError(Exception):
    """The API answered with an error (``status`` its HTTP status), or could not be used at all."""

    def __init__(self, status: int, error: str, reason: str, body: dict[str, Any] | None = None):
        self.status = status
        self.error = error
        self.reason = reason
        self.body: dict[str, Any] = body if body is not None else {}
        super().__init__(f"{error}: {reason}" if status == 0 else f"HTTP {status} {error}: {reason}")


class ApiConnectionError(ApiError):
    """The server could not be reached (refused, unknown host, network down)."""

    def __init__(self, url: str, reason: str):
        self.url = url
        super().__init__(0, "unreachable", reason)


def _segment(value: str | int) -> str:
    return quote(str(value), safe="")


class ApiClient:
    """``ApiClient("http://127.0.0.1:9001", token=None)``; one method per endpoint."""

    def __init__(
        self, base_url: str = DEFAULT_API_URL, token: str | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ):
        self.base_url = base_url.rstrip("/")
        self.token = token or None
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # -- plumbing ---------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        timeout: float | None = None,
    ) -> Any:
        """Send one request and return the decoded JSON answer; raise :class:`ApiError` on any failure."""
        url = self.base_url + path
        params = {key: value for key, value in (query or {}).items() if value is not None}
        if params:
            url += "?" + urlencode({key: _query_text(value) for key, value in params.items()})
        data = None if body is None else jsontext.dumps(body).encode("utf-8")
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with self._opener.open(request, timeout=timeout or self.timeout) as response:
                status: int = response.status
                raw: bytes = response.read()
        except urllib.error.HTTPError as exc:
            try:
                raw = exc.read()
            finally:
                exc.close()
            raise _error_from(exc.code, str(exc.reason), raw) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise _timeout(self.base_url) from None
            text = "connection refused" if isinstance(reason, ConnectionRefusedError) else str(reason)
            raise ApiConnectionError(self.base_url, text) from None
        except TimeoutError:
            raise _timeout(self.base_url) from None
        except (OSError, http.client.HTTPException) as exc:
            raise ApiConnectionError(self.base_url, str(exc) or type(exc).__name__) from None
        try:
            return jsontext.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, jsontext.JsonTextError):
            raise ApiError(status, "bad_response", "the server's answer is not JSON") from None

    def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        value = self.request(method, path, **kwargs)
        if not isinstance(value, dict):
            raise ApiError(200, "bad_response", f"expected a JSON object from {path}")
        return value

    def _list(self, method: str, path: str, **kwargs: Any) -> list[dict[str, Any]]:
        value = self.request(method, path, **kwargs)
        if not isinstance(value, list):
            raise ApiError(200, "bad_response", f"expected a JSON array from {path}")
        return value

    # -- endpoints --------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self._object("GET", "/api/health")

    def chargers(self) -> list[dict[str, Any]]:
        return self._list("GET", "/api/chargers")

    def charger(self, charger_id: str) -> dict[str, Any]:
        return self._object("GET", f"/api/chargers/{_segment(charger_id)}")

    def set_charger_policy(
        self, charger_id: str, *, boot_policy: str | None = None, heartbeat_interval: int | None = None
    ) -> dict[str, Any]:
        """Per-charger overrides; None means "use the default policy"."""
        body = {"boot_policy": boot_policy, "heartbeat_interval": heartbeat_interval}
        return self._object("PUT", f"/api/chargers/{_segment(charger_id)}/policy", body=body)

    def connectors(self, charger_id: str) -> list[dict[str, Any]]:
        return self._list("GET", f"/api/chargers/{_segment(charger_id)}/connectors")

    def message_log(self, charger_id: str, limit: int = 100) -> list[dict[str, Any]]:
        return self._list("GET", f"/api/chargers/{_segment(charger_id)}/log", query={"limit": limit})

    def call(
        self,
        charger_id: str,
        action: str,
        payload: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send a CALL; returns the CALLRESULT payload. ``timeout``: the OCPP response timeout."""
        answer = self._object(
            "POST",
            f"/api/chargers/{_segment(charger_id)}/call/{_segment(action)}",
            query={"timeout": timeout},
            body=payload if payload is not None else {},
            timeout=self.timeout + (timeout or 0),
        )
        result = answer.get("result")
        if not isinstance(result, dict):
            raise ApiError(200, "bad_response", "the call answer has no result object")
        return result

    def transactions(
        self, *, charger_id: str | None = None, active: bool | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        return self._list(
            "GET", "/api/transactions", query={"charger": charger_id, "active": active, "limit": limit}
        )

    def transaction(self, transaction_id: int) -> dict[str, Any]:
        return self._object("GET", f"/api/transactions/{_segment(transaction_id)}")

    def meter_values(
        self, *, charger_id: str | None = None, transaction_id: int | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        query = {"charger": charger_id, "transaction": transaction_id, "limit": limit}
        return self._list("GET", "/api/meter-values", query=query)

    def id_tags(self) -> list[dict[str, Any]]:
        return self._list("GET", "/api/id-tags")

    def put_id_tag(
        self,
        id_tag: str,
        status: str = "Accepted",
        *,
        expiry_date: str | None = None,
        parent_id_tag: str | None = None,
    ) -> dict[str, Any]:
        body = {"status": status, "expiry_date": expiry_date, "parent_id_tag": parent_id_tag}
        return self._object("PUT", f"/api/id-tags/{_segment(id_tag)}", body=body)

    def delete_id_tag(self, id_tag: str) -> dict[str, Any]:
        return self._object("DELETE", f"/api/id-tags/{_segment(id_tag)}")

    def policy(self) -> dict[str, Any]:
        return self._object("GET", "/api/policy")

    def update_policy(self, **changes: Any) -> dict[str, Any]:
        return self._object("PATCH", "/api/policy", body=changes)

    def openapi(self) -> dict[str, Any]:
        return self._object("GET", "/api/openapi.json")


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _timeout(base_url: str) -> ApiError:
    return ApiError(0, "client_timeout", f"no answer from {base_url} in time")


def _error_from(status: int, http_reason: str, raw: bytes) -> ApiError:
    try:
        body = jsontext.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, jsontext.JsonTextError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return ApiError(status, body["error"], str(body.get("reason", http_reason)), body)
    return ApiError(status, "http_error", http_reason or f"HTTP {status}")
