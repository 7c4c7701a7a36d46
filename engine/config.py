"""Configuration: frozen dataclasses with safe defaults, optionally read from a TOML file.

No file is needed: ``Config()`` is a working loopback server. A file may set any subset::

    [server]
    host = "0.0.0.0"
    port = 9000
    response_timeout = 45

    [store]
    path = "/var/lib/ocpp-trio/ocpp.sqlite"
    synchronous = "FULL"        # or "NORMAL": survives a process crash, not a power cut

    [policy]
    boot = "Accepted"           # Pending, Rejected, PendingOnce, RejectedOnce (AQ-1)
    heartbeat_interval = 300
    boot_retry_interval = 60
    unknown_chargers = "register"   # or "reject": HTTP 404 at the handshake (J §3.2)

    [api]
    port = 9001                 # the operator HTTP API; host 127.0.0.1 unless a token is set

    [chargers."CP-1"]
    assume_ocpp16 = true        # leniency: accept a handshake without Sec-WebSocket-Protocol
    response_timeout = 60       # this charger's answers take longer (decision 5)

Unknown sections and keys are refused with an error naming them: a misspelt limit that silently falls back
to its default is worse than a start-up failure. Trio-free on purpose (the CLI and tools read it too).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.policy import BootPolicy, CsmsPolicy, UnknownChargerPolicy


class ConfigError(ValueError):
    """The configuration file is unreadable or holds an unknown key or a bad value."""


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """The websocket listener and the per-connection limits (design.md decision 10)."""

    host: str = "127.0.0.1"
    port: int = 9000
    #: Chargers connect to ``<path_prefix>/<chargePointId>``; ``""`` serves identities at the root.
    path_prefix: str = "/ocpp"
    max_message_size: int = 1_048_576
    handshake_timeout: float = 10.0
    #: 0 turns the server's pings off (the charger's own WebSocketPingInterval may still keep it alive).
    ping_interval: float = 60.0
    pong_timeout: float = 30.0
    response_timeout: float = 30.0
    bad_frame_limit: int = 10
    max_queued_calls: int = 16
    max_concurrent_handlers: int = 32
    #: received CALLs waiting for a handler slot; more closes the connection with 1008
    max_queued_incoming: int = 64
    close_timeout: float = 5.0

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"[server] port must be 0..65535, not {self.port}")
        if self.path_prefix and (not self.path_prefix.startswith("/") or self.path_prefix.endswith("/")):
            raise ConfigError(
                f"[server] path_prefix must start with '/' and not end with one, not {self.path_prefix!r}"
            )
        for name in ("max_message_size", "bad_frame_limit", "max_concurrent_handlers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"[server] {name} must be at least 1")
        for name in ("max_queued_calls", "max_queued_incoming"):
            if getattr(self, name) < 0:
                raise ConfigError(f"[server] {name} must not be negative")
        for name in ("handshake_timeout", "pong_timeout", "response_timeout", "close_timeout"):
            _check_positive(f"[server] {name}", getattr(self, name))
        if not math.isfinite(self.ping_interval) or self.ping_interval < 0:
            raise ConfigError("[server] ping_interval must be 0 (off) or a positive number of seconds")


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """The operator HTTP API (design.md decision 12). Loopback only unless a token is set."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 9001
    token: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"[api] port must be 0..65535, not {self.port}")


DEFAULT_DB_PATH = "ocpp-trio.sqlite"
SYNCHRONOUS_MODES = ("FULL", "NORMAL", "EXTRA")

#: [policy] keys: their parsers (value -> typed value) mirror CsmsPolicy's fields
POLICY_OPTIONS: dict[str, type] = {
    "boot": str,
    "heartbeat_interval": int,
    "boot_retry_interval": int,
    "unknown_chargers": str,
    "accept_unknown_id_tags": bool,
    "id_tag_cache_ttl": int,
}

#: Keys a ``[chargers."<id>"]`` table may hold, and their types. Profiles add their per-charger options here.
CHARGER_OPTIONS: dict[str, type] = {
    "assume_ocpp16": bool,
    "response_timeout": float,
}


@dataclass(frozen=True, slots=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    db_path: str = DEFAULT_DB_PATH
    db_synchronous: str = "FULL"
    api: ApiConfig = field(default_factory=ApiConfig)
    #: the default policy the Csms starts with (the operator API changes the live copy)
    policy: CsmsPolicy = field(default_factory=CsmsPolicy)
    #: Per-charger options keyed by charge point identity, as written in ``[chargers."<id>"]``.
    chargers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def charger(self, identity: str) -> dict[str, Any]:
        """The options of one charger (empty when it has none)."""
        return self.chargers.get(identity, {})

    def response_timeout(self, identity: str) -> float:
        """How long to wait for this charger's answers: its own setting, else the server default."""
        value = self.charger(identity).get("response_timeout")
        return float(value) if value is not None else self.server.response_timeout


def load_config(path: Path | None) -> Config:
    """Read ``path`` (TOML) over the defaults; ``None`` gives the defaults. Raises :class:`ConfigError`."""
    if path is None:
        return Config()
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return _from_document(document)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _from_document(document: dict[str, Any]) -> Config:
    _refuse_unknown("top level", document, {"server", "store", "chargers", "policy", "api"})
    server_table = _table(document, "server")
    server_types = {f.name: _field_type(f) for f in dataclasses.fields(ServerConfig)}
    _refuse_unknown("[server]", server_table, set(server_types))
    server = ServerConfig(
        **{key: _typed(f"[server] {key}", value, server_types[key]) for key, value in server_table.items()}
    )

    store_table = _table(document, "store")
    _refuse_unknown("[store]", store_table, {"path", "synchronous"})
    db_path = _typed("[store] path", store_table.get("path", DEFAULT_DB_PATH), str)
    synchronous = _typed("[store] synchronous", store_table.get("synchronous", "FULL"), str).upper()
    if synchronous not in SYNCHRONOUS_MODES:
        raise ConfigError(f"[store] synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}")

    api_table = _table(document, "api")
    api_types = {f.name: _field_type(f) for f in dataclasses.fields(ApiConfig)}
    _refuse_unknown("[api]", api_table, set(api_types))
    api = ApiConfig(
        **{key: _typed(f"[api] {key}", value, api_types[key]) for key, value in api_table.items()}
    )

    policy_table = _table(document, "policy")
    _refuse_unknown("[policy]", policy_table, set(POLICY_OPTIONS))
    policy_values = {
        key: _typed(f"[policy] {key}", value, POLICY_OPTIONS[key]) for key, value in policy_table.items()
    }
    try:
        if "boot" in policy_values:
            policy_values["boot"] = BootPolicy(policy_values["boot"])
        if "unknown_chargers" in policy_values:
            policy_values["unknown_chargers"] = UnknownChargerPolicy(policy_values["unknown_chargers"])
    except ValueError as exc:
        raise ConfigError(f"[policy] {exc}") from None
    for key in ("heartbeat_interval", "boot_retry_interval"):
        if key in policy_values and policy_values[key] <= 0:
            raise ConfigError(f"[policy] {key} must be a positive number of seconds")
    policy = CsmsPolicy(**policy_values)

    chargers: dict[str, dict[str, Any]] = {}
    for identity, options in _table(document, "chargers").items():
        where = f'[chargers."{identity}"]'
        if not isinstance(options, dict):
            raise ConfigError(f"{where} must be a table")
        _refuse_unknown(where, options, set(CHARGER_OPTIONS))
        typed = {key: _typed(f"{where} {key}", value, CHARGER_OPTIONS[key]) for key, value in options.items()}
        if "response_timeout" in typed:
            _check_positive(f"{where} response_timeout", typed["response_timeout"])
        chargers[identity] = typed
    return Config(
        server=server,
        db_path=db_path,
        db_synchronous=synchronous,
        api=api,
        policy=policy,
        chargers=chargers,
    )


def _table(document: dict[str, Any], name: str) -> dict[str, Any]:
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"[{name}] must be a table")
    return table


def _refuse_unknown(where: str, table: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(known))}"
        )


def _field_type(f: dataclasses.Field[Any]) -> type:
    # ``from __future__ import annotations`` leaves the annotation as text.
    return {"str": str, "int": int, "float": float, "bool": bool}[str(f.type)]


def _typed(where: str, value: Any, expected: type) -> Any:
    # bool is an int in Python, but ``port = true`` is a mistake, not port 1.
    if isinstance(value, bool) and expected is not bool:
        raise ConfigError(f"{where} must be {expected.__name__}, not a boolean")
    if expected is float and isinstance(value, int):
        return float(value)
    if not isinstance(value, expected):
        raise ConfigError(f"{where} must be {expected.__name__}, not {type(value).__name__}")
    return value


def _check_positive(where: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{where} must be a positive number of seconds")
