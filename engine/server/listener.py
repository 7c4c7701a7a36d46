"""The websocket listener: handshake policy (path, identity, subprotocol) and one error boundary per
connection.

Path and identity (rules R1.1, R1.4): chargers connect to ``<path_prefix>/<identity>``; the query string
is ignored and the identity is the percent-decoded segment after the prefix. Anything else under another
path is 404. Refused with 400, naming the reason in a short text body: an empty identity, more than one
segment (a trailing ``/`` included: ``/ocpp/CP-1/`` is not ``CP-1``), malformed percent-encoding or
invalid UTF-8, a decoded ``/``, control or other invisible characters (Unicode category C, line and
paragraph separators), ``..`` or a lone ``.``, more than 48 characters. Identities are case-sensitive and
kept as decoded.

Subprotocol (decision 1, rules R1.6–R1.9): ``ocpp1.6`` among the offered → accept with exactly
``ocpp1.6`` (TC_088 offers ``ocpp0.1, ocpp1.6``); offered but none supported → refuse the upgrade with
400 (TC_088's "does NOT upgrade the connection"); no header at all → 400, unless the charger's config
has ``assume_ocpp16 = true``, in which case the connection is accepted without a subprotocol header
(we may not send one the client did not offer) and the leniency is logged.

Error boundary (design-models principle 3): whatever one connection raises is logged here and never
reaches the server nursery, so one charger's failure cannot affect another.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial

import trio

from engine.config import Config
from engine.server.websocket import (
    ConnectionClosed,
    HandshakeError,
    HandshakeRequest,
    ServerWebSocket,
    describe_peer,
    format_address,
    read_handshake,
)

logger = logging.getLogger(__name__)

SUBPROTOCOL = "ocpp1.6"
MAX_IDENTITY_LENGTH = 48

#: Runs one accepted connection to its end: (identity, websocket, subprotocol or None, remote address).
SessionRunner = Callable[[str, ServerWebSocket, str | None, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Do not upgrade: answer ``status`` with ``reason`` as the text body."""

    status: int
    reason: str


#: Decides, after the path and subprotocol passed, whether this identity may connect at all (None: yes).
IdentityScreen = Callable[[str], Awaitable[Refusal | None]]


@dataclass(frozen=True, slots=True)
class Admission:
    identity: str
    #: None only for a charger with the ``assume_ocpp16`` leniency that offered no subprotocol.
    subprotocol: str | None


_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def parse_identity(target: str, path_prefix: str) -> str | Refusal:
    """The charge point identity in a request target, or why there is none."""
    path = target.split("?", 1)[0]
    if not path.startswith(path_prefix + "/"):
        where = path_prefix or ""
        return Refusal(404, f"Not found; chargers connect to {where}/<chargePointId>")
    raw = path[len(path_prefix) + 1 :]
    if not raw:
        return Refusal(400, "Empty charge point identity")
    if "/" in raw:
        return Refusal(400, "Charge point identity must be one path segment")
    if _BAD_PERCENT.search(raw):
        return Refusal(400, "Malformed percent-encoding in charge point identity")
    try:
        identity = urllib.parse.unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return Refusal(400, "Charge point identity is not UTF-8")
    if "/" in identity:
        return Refusal(400, "Charge point identity contains '/'")
    if any(unicodedata.category(char)[0] == "C" or char in "\u2028\u2029" for char in identity):
        return Refusal(400, "Charge point identity contains control characters")
    if ".." in identity or identity == ".":
        return Refusal(400, "Charge point identity contains a dot segment")
    if len(identity) > MAX_IDENTITY_LENGTH:
        return Refusal(400, f"Charge point identity longer than {MAX_IDENTITY_LENGTH} characters")
    return identity


def choose_subprotocol(offered: Sequence[str], *, assume_ocpp16: bool) -> str | Refusal | None:
    """``ocpp1.6`` when offered; None when nothing was offered and the leniency applies."""
    if SUBPROTOCOL in offered:
        return SUBPROTOCOL
    if offered:
        return Refusal(400, f"Unsupported subprotocol; this Central System supports {SUBPROTOCOL}")
    if assume_ocpp16:
        return None
    return Refusal(400, f"Missing Sec-WebSocket-Protocol header; this Central System supports {SUBPROTOCOL}")


def admit(target: str, offered: Sequence[str], config: Config) -> Admission | Refusal:
    """The whole handshake decision for one request, without I/O."""
    identity = parse_identity(target, config.server.path_prefix)
    if isinstance(identity, Refusal):
        return identity
    lenient = bool(config.charger(identity).get("assume_ocpp16", False))
    subprotocol = choose_subprotocol(offered, assume_ocpp16=lenient)
    if isinstance(subprotocol, Refusal):
        return subprotocol
    return Admission(identity, subprotocol)


class Listener:
    """Accepts websocket connections and hands each admitted one to ``run_session``."""

    def __init__(self, config: Config, run_session: SessionRunner, screen: IdentityScreen | None = None):
        self._config = config
        self._run_session = run_session
        self._screen = screen

    async def serve(self, *, task_status: trio.TaskStatus[list[int]] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen on the configured host and port until cancelled; reports the bound port(s)."""
        limits = self._config.server
        listeners = await trio.open_tcp_listeners(limits.port, host=limits.host)
        ports = sorted({listener.socket.getsockname()[1] for listener in listeners})
        for listener in listeners:
            logger.info("listening on %s", format_address(listener.socket.getsockname()))
        async with trio.open_nursery() as nursery:
            await nursery.start(partial(trio.serve_listeners, self.serve_stream, listeners))
            task_status.started(ports)

    async def serve_stream(self, stream: trio.abc.Stream) -> None:
        """Serve one connected byte stream to its end: TCP connections from :meth:`serve`, in-memory
        streams from tests and the virtual-time conformance runner. Never raises (error boundary)."""
        limits = self._config.server
        peer = describe_peer(stream)
        try:
            request: HandshakeRequest | None = None
            with trio.move_on_after(limits.handshake_timeout):
                request = await read_handshake(
                    stream,
                    max_message_size=limits.max_message_size,
                    close_timeout=limits.close_timeout,
                    remote=peer,
                )
            if request is None:
                logger.info(
                    "handshake from %s not complete within %g s; closed", peer, limits.handshake_timeout
                )
                return
            accepted = await self._answer(request)
            # The request (its headers above all) is not kept for the life of the connection.
            del request
            if accepted is not None:
                await self._run_session(*accepted)
        except* HandshakeError as group:
            logger.info("handshake from %s failed: %s", peer, group.exceptions[0])
        except* ConnectionClosed:
            logger.info("connection from %s closed during the handshake", peer)
        except* Exception:
            logger.exception("connection from %s failed", peer)
        finally:
            await trio.aclose_forcefully(stream)

    async def _answer(self, request: HandshakeRequest) -> tuple[str, ServerWebSocket, str | None, str] | None:
        """Refuse the request, or accept it: the arguments for the session runner."""
        remote = request.remote
        decision = admit(request.path, request.proposed_subprotocols, self._config)
        if isinstance(decision, Admission) and self._screen is not None:
            decision = await self._screen(decision.identity) or decision
        if isinstance(decision, Refusal):
            logger.warning(
                "handshake from %s for %r refused: %d %s",
                remote,
                request.path[:120],
                decision.status,
                decision.reason,
            )
            await request.reject(
                decision.status,
                extra_headers=[(b"Content-Type", b"text/plain; charset=utf-8")],
                body=decision.reason.encode() + b"\n",
            )
            return None
        if decision.subprotocol is None:
            logger.warning(
                "%s offered no subprotocol; accepted as %s (assume_ocpp16 leniency)",
                decision.identity,
                SUBPROTOCOL,
            )
        ws = await request.accept(subprotocol=decision.subprotocol)
        return decision.identity, ws, decision.subprotocol, remote
