"""CPU per message of the whole server path, in one process, without sockets or a load generator.

A :class:`~engine.server.csms.Csms` serves N in-memory connections (``trio.testing.memory_stream_pair``);
each is driven by a bare client that writes pre-built masked websocket frames and reads the answer's
frame header and payload, nothing more, so almost all the CPU measured is the server's: handshake aside,
websocket framing, the OCPP core, the profiles, the store runner and the store, the message log. With no
sockets and no other process, the figure is steady enough to compare two versions of the code (the
``ocpp-trio bench`` runs measure the real thing, with their noise).

    .venv/bin/python benchmarks/server_path.py [--chargers 200] [--messages 20000] [--mix heartbeat]
        [--store sqlite|memory]

Prints messages per second of wall time and process CPU per message (µs).
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import trio
import trio.testing

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.config import Config, ServerConfig
from engine.policy import CsmsPolicy
from engine.server import Csms
from engine.store import MemoryStore, SqliteStore

BOOT = {"chargePointVendor": "Bench", "chargePointModel": "M1"}
NOW = "2026-01-01T00:00:00.000Z"


def meter_values(transaction_id: int) -> dict[str, object]:
    sampled = [
        {"value": f"{1000 + n}.5", "measurand": "Current.Import", "unit": "A", "phase": "L1"}
        for n in range(10)
    ]
    return {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [{"timestamp": NOW, "sampledValue": sampled}],
    }


def masked_text_frame(text: str) -> bytes:
    """A client → server text frame (clients must mask); a zero mask keeps the payload readable."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = bytes([0x81, 0x80 | size])
    elif size < 65536:
        header = bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        header = bytes([0x81, 0x80 | 127]) + size.to_bytes(8, "big")
    return header + b"\x00\x00\x00\x00" + payload


class RawClient:
    """The least a websocket client can do: handshake, send frames, read whole frames."""

    def __init__(self, stream: trio.testing.MemoryStream | trio.abc.Stream):
        self.stream = stream
        self.buffer = bytearray()

    async def handshake(self, identity: str) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /ocpp/{identity} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
        )
        await self.stream.send_all(request.encode())
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += await self.stream.receive_some()
        head, _, rest = bytes(self.buffer).partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"handshake refused: {head[:80]!r}")
        self.buffer = bytearray(rest)

    async def _need(self, count: int) -> None:
        while len(self.buffer) < count:
            chunk = await self.stream.receive_some()
            if not chunk:
                raise EOFError
            self.buffer += chunk

    async def read_text(self) -> str:
        await self._need(2)
        size, start = self.buffer[1] & 0x7F, 2
        if size == 126:
            await self._need(4)
            size, start = int.from_bytes(self.buffer[2:4], "big"), 4
        elif size == 127:
            await self._need(10)
            size, start = int.from_bytes(self.buffer[2:10], "big"), 10
        await self._need(start + size)
        payload = bytes(self.buffer[start : start + size])
        del self.buffer[: start + size]
        return payload.decode()

    async def call(self, frame: bytes) -> list[object]:
        await self.stream.send_all(frame)
        answer: list[object] = json.loads(await self.read_text())
        return answer


async def run(chargers: int, messages: int, mix: str, store_kind: str, folder: str) -> dict[str, float]:
    store = MemoryStore() if store_kind == "memory" else SqliteStore(Path(folder) / "bench.sqlite")
    config = Config(server=ServerConfig(ping_interval=0))
    csms = Csms(config, store=store, policy=CsmsPolicy(accept_unknown_id_tags=True))
    per_charger = messages // chargers
    ids = itertools.count()
    async with trio.open_nursery() as nursery:
        await nursery.start(csms.run_background)
        clients: list[RawClient] = []
        for n in range(chargers):
            server_end, client_end = trio.testing.memory_stream_pair()
            nursery.start_soon(csms.serve_stream, server_end)
            client = RawClient(client_end)
            await client.handshake(f"B{n:05d}")
            boot = await client.call(masked_text_frame(json.dumps([2, "b", "BootNotification", BOOT])))
            assert boot[0] == 3, boot
            clients.append(client)
        transaction = 0
        if mix == "session":
            start = [
                2,
                "s",
                "StartTransaction",
                {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": NOW},
            ]
            answer = await clients[0].call(masked_text_frame(json.dumps(start)))
            transaction = answer[2]["transactionId"]  # type: ignore[index]

        def frame() -> bytes:
            uid = f"m{next(ids)}"
            if mix == "heartbeat":
                return masked_text_frame(json.dumps([2, uid, "Heartbeat", {}]))
            return masked_text_frame(json.dumps([2, uid, "MeterValues", meter_values(transaction)]))

        frames = [[frame() for _ in range(per_charger)] for _ in clients]

        async def drive(client: RawClient, mine: list[bytes]) -> None:
            for data in mine:
                answer = await client.call(data)
                if answer[0] != 3:
                    raise RuntimeError(f"not a CALLRESULT: {answer}")

        wall, cpu = time.perf_counter(), time.process_time()
        async with trio.open_nursery() as drivers:
            for client, mine in zip(clients, frames, strict=True):
                drivers.start_soon(drive, client, mine)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        nursery.cancel_scope.cancel()
    csms.close()
    store.close()
    done = per_charger * chargers
    return {"messages": done, "msgs_per_s": done / wall, "cpu_us_per_msg": cpu / done * 1e6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", type=int, default=200)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--mix", choices=("heartbeat", "session"), default="heartbeat")
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="server-path-") as folder:
        figures = trio.run(run, args.chargers, args.messages, args.mix, args.store, folder)
    print(
        f"{args.mix} x{figures['messages']:.0f} over {args.chargers} chargers, {args.store} store: "
        f"{figures['msgs_per_s']:.0f} msgs/s, {figures['cpu_us_per_msg']:.1f} us CPU per message"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
