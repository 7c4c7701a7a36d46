"""The peer we compare against: a minimal OCPP 1.6-J central system on the ``ocpp`` package (asyncio) and
``websockets``, written the way that package's documentation shows, with library defaults.

It answers BootNotification (Accepted), Heartbeat, StatusNotification, Authorize (Accepted),
StartTransaction (a new transaction id, Accepted), StopTransaction and MeterValues. Nothing is stored
(no database), so it does less work per message than ocpp-trio, which commits every transaction message
to SQLite before answering.

Library defaults kept on purpose: ``ocpp`` validates every CALL and every answer against its JSON
schemas in the default thread-pool executor (``ocpp.messages.ASYNC_VALIDATION = True``); ``websockets``
pings every 20 s, offers permessage-deflate (our generator does not ask for it), and the listen backlog
is asyncio's default (100). Logging is not configured, so the library's per-message INFO lines are
dropped by the logging module's default WARNING threshold (turning them on would make the peer far
slower; that would not be a fair comparison).

Runs in its own virtualenv (``benchmarks/.peer-venv``, made by ``benchmarks/side_by_side.py``):

    benchmarks/.peer-venv/bin/python benchmarks/peer_csms.py --port 9100

Listens on ws://127.0.0.1:PORT/<chargePointId> (any path; the last segment is the identity), prints
``listening on ws://127.0.0.1:PORT`` when ready, and stops cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import signal

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from websockets.asyncio.server import ServerConnection, serve

TRANSACTION_IDS = itertools.count(1)


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ChargePoint(OcppChargePoint):
    @on(Action.boot_notification)
    def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str, **kwargs: object):
        return call_result.BootNotification(
            current_time=now(), interval=300, status=RegistrationStatus.accepted
        )

    @on(Action.heartbeat)
    def on_heartbeat(self, **kwargs: object):
        return call_result.Heartbeat(current_time=now())

    @on(Action.status_notification)
    def on_status_notification(self, **kwargs: object):
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str, **kwargs: object):
        return call_result.Authorize(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.start_transaction)
    def on_start_transaction(self, **kwargs: object):
        return call_result.StartTransaction(
            transaction_id=next(TRANSACTION_IDS), id_tag_info={"status": AuthorizationStatus.accepted}
        )

    @on(Action.stop_transaction)
    def on_stop_transaction(self, **kwargs: object):
        return call_result.StopTransaction(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.meter_values)
    def on_meter_values(self, **kwargs: object):
        return call_result.MeterValues()


async def on_connect(connection: ServerConnection) -> None:
    if connection.subprotocol != "ocpp1.6":
        await connection.close(1002, "subprotocol ocpp1.6 required")
        return
    charge_point_id = connection.request.path.rstrip("/").rsplit("/", 1)[-1]
    try:
        await ChargePoint(charge_point_id, connection).start()
    except websockets.ConnectionClosed:
        pass


async def main(host: str, port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set_result, None)
    async with serve(on_connect, host, port, subprotocols=["ocpp1.6"]):
        print(f"listening on ws://{host}:{port}", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    args = parser.parse_args()
    asyncio.run(main(args.host, args.port))
