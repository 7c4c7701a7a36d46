"""Configuration: safe defaults without a file, TOML overrides, unknown keys and bad values refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import Config, ConfigError, ServerConfig, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ocpp-trio.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_safe_defaults() -> None:
    config = load_config(None)
    assert config == Config()
    server = config.server
    assert (server.host, server.port, server.path_prefix) == ("127.0.0.1", 9000, "/ocpp")
    assert server.max_message_size == 1_048_576
    assert (server.handshake_timeout, server.ping_interval, server.pong_timeout) == (10.0, 60.0, 30.0)
    assert (server.response_timeout, server.close_timeout) == (30.0, 5.0)
    assert (server.bad_frame_limit, server.max_queued_calls, server.max_concurrent_handlers) == (10, 16, 32)
    assert config.db_path == "ocpp-trio.sqlite"
    assert config.chargers == {}


def test_file_overrides_server_store_and_chargers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[server]
host = "0.0.0.0"
port = 9100
response_timeout = 45   # an integer is fine for seconds

[store]
path = "/tmp/x.sqlite"

[chargers."CP-1"]
assume_ocpp16 = true
response_timeout = 60

[chargers."RDAM 123"]
""",
    )
    config = load_config(path)
    assert config.server.host == "0.0.0.0"
    assert config.server.port == 9100
    assert config.server.response_timeout == 45.0
    assert isinstance(config.server.response_timeout, float)
    assert config.server.ping_interval == 60.0  # untouched keys keep their defaults
    assert config.db_path == "/tmp/x.sqlite"
    assert config.chargers == {"CP-1": {"assume_ocpp16": True, "response_timeout": 60.0}, "RDAM 123": {}}
    assert config.response_timeout("CP-1") == 60.0
    assert config.response_timeout("CP-2") == 45.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[server]\nprot = 9000\n", "[server]: unknown key 'prot'"),
        ("[sever]\nport = 9000\n", "top level: unknown key 'sever'"),
        ("[store]\ndb = 'x'\n", "[store]: unknown key 'db'"),
        ('[chargers."CP-1"]\nassume_ocpp = true\n', "[chargers.\"CP-1\"]: unknown key 'assume_ocpp'"),
        ("[server]\nport = '9000'\n", "[server] port must be int, not str"),
        ("[server]\nport = true\n", "[server] port must be int, not a boolean"),
        ("[server]\nport = 70000\n", "port must be 0..65535"),
        ("[server]\nresponse_timeout = 0\n", "response_timeout must be a positive number"),
        ("[server]\nping_interval = -1\n", "ping_interval must be 0 (off)"),
        ("[server]\npath_prefix = 'ocpp'\n", "path_prefix must start with '/'"),
        ("[server]\nmax_message_size = 0\n", "max_message_size must be at least 1"),
        ('[chargers."CP-1"]\nassume_ocpp16 = 1\n', "assume_ocpp16 must be bool, not int"),
        ('[chargers."CP-1"]\nresponse_timeout = -5\n', "response_timeout must be a positive number"),
        ("chargers = 5\n", "[chargers] must be a table"),
        ("[server\n", "not valid TOML"),
    ],
)
def test_bad_files_are_refused_with_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "nope.toml")


def test_empty_prefix_serves_identities_at_the_root() -> None:
    assert ServerConfig(path_prefix="").path_prefix == ""
    with pytest.raises(ConfigError):
        ServerConfig(path_prefix="/ocpp/")


def test_config_is_frozen() -> None:
    config = Config()
    with pytest.raises(AttributeError):
        config.server.port = 1  # type: ignore[misc]
