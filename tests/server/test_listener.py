"""The handshake: path and identity, subprotocol selection, refusals with status and reason, the handshake
deadline. Pure decisions first, then raw HTTP upgrades over memory streams (virtual time)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import trio
import trio.testing
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, Request

from engine.clock import FixedClock
from engine.config import Config, ServerConfig
from engine.profiles.base import ChargerContext, Payload
from engine.protocol.validation import default_registry
from engine.server import Csms
from engine.server.listener import Admission, Refusal, admit, choose_subprotocol, parse_identity
from engine.store import MemoryStore


async def heartbeat(ctx: ChargerContext, payload: Payload) -> Payload:
    return {"currentTime": "2026-01-01T00:00:00.000Z"}


def make_csms(config: Config | None = None) -> Csms:
    config = config or Config(server=ServerConfig(ping_interval=0))
    return Csms(
        config,
        schemas=default_registry(),
        handlers={"Heartbeat": heartbeat},
        clock=FixedClock(),
        store=MemoryStore(),
    )


# ---------------------------------------------------------------------------------------------- decisions


@pytest.mark.parametrize(
    ("target", "identity"),
    [
        ("/ocpp/CP-1", "CP-1"),
        ("/ocpp/RDAM%20123", "RDAM 123"),
        ("/ocpp/CP-1?token=abc&x=/y", "CP-1"),
        ("/ocpp/%C3%A9t%C3%A9", "été"),
        ("/ocpp/" + "A" * 48, "A" * 48),
        ("/ocpp/cp.1", "cp.1"),
    ],
)
def test_identity_is_the_decoded_segment_after_the_prefix(target: str, identity: str) -> None:
    assert parse_identity(target, "/ocpp") == identity


@pytest.mark.parametrize(
    ("target", "status", "reason"),
    [
        ("/other/CP-1", 404, "Not found"),
        ("/ocppx/CP-1", 404, "Not found"),
        ("/ocpp", 404, "Not found"),
        ("/", 404, "Not found"),
        ("/ocpp/", 400, "Empty charge point identity"),
        ("/ocpp/?x=1", 400, "Empty charge point identity"),
        ("/ocpp/CP-1/", 400, "one path segment"),
        ("/ocpp/a/b", 400, "one path segment"),
        ("/ocpp/a%2Fb", 400, "contains '/'"),
        ("/ocpp/a%2fb", 400, "contains '/'"),
        ("/ocpp/a%00b", 400, "control characters"),
        ("/ocpp/a%0Ab", 400, "control characters"),
        ("/ocpp/a%7Fb", 400, "control characters"),
        ("/ocpp/a%E2%80%8Bb", 400, "control characters"),  # zero-width space (category Cf)
        ("/ocpp/..", 400, "dot segment"),
        ("/ocpp/%2E%2E", 400, "dot segment"),
        ("/ocpp/a..b", 400, "dot segment"),
        ("/ocpp/.", 400, "dot segment"),
        ("/ocpp/" + "A" * 49, 400, "longer than 48"),
        ("/ocpp/%FF", 400, "not UTF-8"),
        ("/ocpp/a%zz", 400, "Malformed percent-encoding"),
        ("/ocpp/a%4", 400, "Malformed percent-encoding"),
    ],
)
def test_bad_paths_are_refused(target: str, status: int, reason: str) -> None:
    refusal = parse_identity(target, "/ocpp")
    assert isinstance(refusal, Refusal)
    assert refusal.status == status
    assert reason in refusal.reason


def test_an_empty_prefix_serves_identities_at_the_root() -> None:
    assert parse_identity("/CP-1", "") == "CP-1"
    assert isinstance(parse_identity("/ocpp/CP-1", ""), Refusal)


@pytest.mark.parametrize(
    ("offered", "lenient", "expected"),
    [
        (["ocpp1.6"], False, "ocpp1.6"),
        (["ocpp0.1", "ocpp1.6"], False, "ocpp1.6"),  # TC_088: exactly ocpp1.6, never the first offered
        (["ocpp1.6", "ocpp1.5"], False, "ocpp1.6"),
        (["ocpp0.1"], False, Refusal(400, "Unsupported subprotocol; this Central System supports ocpp1.6")),
        (["ocpp2.0.1"], True, Refusal(400, "Unsupported subprotocol; this Central System supports ocpp1.6")),
        (
            [],
            False,
            Refusal(400, "Missing Sec-WebSocket-Protocol header; this Central System supports ocpp1.6"),
        ),
        ([], True, None),
    ],
)
def test_subprotocol_choice(offered: list[str], lenient: bool, expected: object) -> None:
    assert choose_subprotocol(offered, assume_ocpp16=lenient) == expected


def test_leniency_is_per_charger() -> None:
    config = Config(chargers={"OLD-1": {"assume_ocpp16": True}})
    assert admit("/ocpp/OLD-1", [], config) == Admission("OLD-1", None)
    assert isinstance(admit("/ocpp/NEW-1", [], config), Refusal)


# ---------------------------------------------------------------------------------------------- over the wire


def upgrade(target: str, protocols: str | None = "ocpp1.6") -> bytes:
    lines = [
        f"GET {target} HTTP/1.1",
        "Host: localhost",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    if protocols is not None:
        lines.append(f"Sec-WebSocket-Protocol: {protocols}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Response:
    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status_line = status_line
        self.status = int(status_line.split()[1])
        self.headers: list[tuple[str, str]] = []
        for line in header_lines:
            name, _, value = line.partition(":")
            self.headers.append((name.strip().lower(), value.strip()))

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name.lower()]


async def exchange(csms: Csms, request: bytes, *, hang_up_after_upgrade: bool = True) -> Response:
    """Send a raw upgrade request; read the response (to EOF when refused)."""
    server_stream, client_stream = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(csms.serve_stream, server_stream)
        await client_stream.send_all(request)
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = await client_stream.receive_some()
            assert chunk, f"connection closed before a full response: {raw!r}"
            raw += chunk
        response = Response(raw)
        if response.status == 101:
            if hang_up_after_upgrade:
                await client_stream.aclose()
        else:
            while chunk := await client_stream.receive_some():
                raw += chunk
            response = Response(raw)
            await client_stream.aclose()
    return response


@pytest.mark.parametrize(
    ("protocols", "status", "body"),
    [
        (None, 400, b"Missing Sec-WebSocket-Protocol header; this Central System supports ocpp1.6\n"),
        ("ocpp0.1", 400, b"Unsupported subprotocol; this Central System supports ocpp1.6\n"),
        ("ocpp2.0.1, ocpp2.0", 400, b"Unsupported subprotocol; this Central System supports ocpp1.6\n"),
    ],
)
async def test_subprotocol_refusals_do_not_upgrade(
    autojump_clock: trio.testing.MockClock,
    caplog: pytest.LogCaptureFixture,
    protocols: str | None,
    status: int,
    body: bytes,
) -> None:
    response = await exchange(make_csms(), upgrade("/ocpp/CP-1", protocols))
    assert response.status == status
    assert response.body == body
    assert response.header("content-type") == ["text/plain; charset=utf-8"]
    assert response.header("sec-websocket-protocol") == []
    assert f"refused: {status} " in caplog.text


async def test_offered_list_selects_exactly_ocpp16(autojump_clock: trio.testing.MockClock) -> None:
    response = await exchange(make_csms(), upgrade("/ocpp/CP-1", "ocpp0.1, ocpp1.6"))
    assert response.status == 101
    assert response.header("sec-websocket-protocol") == ["ocpp1.6"]


async def test_lenient_charger_without_header_is_accepted_and_logged(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    csms = make_csms(
        Config(server=ServerConfig(ping_interval=0), chargers={"OLD-1": {"assume_ocpp16": True}})
    )
    response = await exchange(csms, upgrade("/ocpp/OLD-1", None))
    assert response.status == 101
    assert response.header("sec-websocket-protocol") == []  # never a token the client did not offer
    assert "OLD-1 offered no subprotocol; accepted as ocpp1.6 (assume_ocpp16 leniency)" in caplog.text
    assert (await exchange(csms, upgrade("/ocpp/NEW-1", None))).status == 400


@pytest.mark.parametrize(
    ("target", "status"),
    [
        ("/elsewhere/CP-1", 404),
        ("/ocpp/", 400),
        ("/ocpp/a%2Fb", 400),
        ("/ocpp/a%00b", 400),
        ("/ocpp/..", 400),
    ],
)
async def test_path_refusals_over_the_wire(
    autojump_clock: trio.testing.MockClock, target: str, status: int
) -> None:
    response = await exchange(make_csms(), upgrade(target))
    assert response.status == status
    assert response.body.endswith(b"\n")
    assert len(response.body) < 200


async def test_percent_encoded_identity_connects_decoded(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    csms = make_csms()
    seen: list[list[str]] = []
    server_stream, client_stream = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(csms.serve_stream, server_stream)
        await client_stream.send_all(upgrade("/ocpp/RDAM%20123?foo=bar"))
        await client_stream.receive_some()
        await trio.testing.wait_all_tasks_blocked()
        seen.append(csms.connected_chargers())
        await client_stream.aclose()
    assert seen == [["RDAM 123"]]
    assert "RDAM 123 connected from " in caplog.text
    assert "subprotocol=ocpp1.6" in caplog.text
    assert "RDAM 123 disconnected code=1006" in caplog.text


async def test_incomplete_handshake_is_closed_at_the_deadline(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    server_stream, client_stream = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(make_csms().serve_stream, server_stream)
        start = trio.current_time()
        await client_stream.send_all(upgrade("/ocpp/CP-1")[:30])  # a slow-loris never finishes
        assert await client_stream.receive_some() == b""
        assert trio.current_time() - start == 10.0
        await client_stream.aclose()
    assert "not complete within 10 s" in caplog.text


async def test_garbage_instead_of_http_does_not_escape(autojump_clock: trio.testing.MockClock) -> None:
    server_stream, client_stream = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(make_csms().serve_stream, server_stream)
        await client_stream.send_all(b"\x16\x03\x01\x02\x00 not http at all\r\n\r\n")
        received: list[Any] = []
        while chunk := await client_stream.receive_some():
            received.append(chunk)
        await client_stream.aclose()


async def test_library_close_race_stays_inside_the_connection(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A ping that arrives after our close frame (trio-websocket #184 made its reader raise there) is
    ignored while we wait for the peer's close; the connection ends with our code, nothing escapes."""
    caplog.set_level(logging.INFO)
    csms = make_csms()
    server_stream, client_stream = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(csms.serve_stream, server_stream)
        client = WSConnection(ConnectionType.CLIENT)
        await client_stream.send_all(
            client.send(Request(host="localhost", target="/ocpp/CP-1", subprotocols=["ocpp1.6"]))
        )
        client.receive_data(bytes(await client_stream.receive_some()))
        assert isinstance(next(client.events()), AcceptConnection)
        await client_stream.send_all(client.send(BytesMessage(data=b"\x00")))  # makes the server close 1003
        received = b""
        while b"binary frames" not in received:
            received += await client_stream.receive_some()
        await client_stream.send_all(b"\x89\x80\x00\x00\x00\x00")  # a masked, empty ping frame, raw
        while await client_stream.receive_some():
            pass
        await client_stream.aclose()
    assert "failed" not in caplog.text
    assert "CP-1 disconnected code=1003" in caplog.text
