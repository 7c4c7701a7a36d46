"""The operator API contract (design.md decision 12): what production tools, test harnesses and the
conformance suite may ask of a running Central System. :class:`engine.server.csms.Csms` implements it;
the HTTP API and the CLI are thin layers over it.

Errors a caller must expect from :meth:`OperatorApi.call` (all in :mod:`engine.server.errors` unless
noted): ``ChargerOfflineError`` (no live connection), ``RefusedByStateError`` (engine.profiles; the
charger's state forbids the action, nothing sent), ``CallTimeoutError`` (no answer within the response
timeout), ``CallErrorResponse`` (the charger answered with a CALLERROR), ``ResponseInvalidError`` (its
answer failed the schema), ``CallQueueFullError`` (too many calls queued for that charger),
``LocalOcppError`` (engine.protocol.errors; the payload fails the request schema, or the action is not
one the CSMS sends).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engine.policy import CsmsPolicy
    from engine.store import (
        ChargerRecord,
        ConnectorRecord,
        IdTagRecord,
        LogRecord,
        MeterValueRecord,
        TransactionRecord,
    )


@dataclass(frozen=True, slots=True)
class ChargerConnected:
    charger_id: str
    remote: str


@dataclass(frozen=True, slots=True)
class ChargerDisconnected:
    charger_id: str
    code: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A CALL from a charger, after it was answered (``response`` is None when a CALLERROR was sent)."""

    charger_id: str
    action: str
    payload: dict[str, Any]
    response: dict[str, Any] | None


CsmsEvent = ChargerConnected | ChargerDisconnected | MessageReceived


class OperatorApi(Protocol):
    async def call(
        self,
        charger_id: str,
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - OCPP response timeout, a protocol deadline
    ) -> dict[str, Any]:
        """Send a CALL to a connected charger and return its CALLRESULT payload."""
        ...

    def connected_chargers(self) -> list[str]: ...

    async def chargers(self) -> list[ChargerRecord]: ...

    async def charger(self, charger_id: str) -> ChargerRecord | None: ...

    async def connectors(self, charger_id: str) -> list[ConnectorRecord]: ...

    async def transactions(
        self, *, charger_id: str | None = None, active: bool | None = None, limit: int = 100
    ) -> list[TransactionRecord]: ...

    async def transaction(self, transaction_id: int) -> TransactionRecord | None: ...

    async def meter_values(
        self, *, charger_id: str | None = None, transaction_id: int | None = None, limit: int = 1000
    ) -> list[MeterValueRecord]: ...

    async def id_tags(self) -> list[IdTagRecord]: ...

    async def put_id_tag(self, record: IdTagRecord) -> None: ...

    async def delete_id_tag(self, id_tag: str) -> bool: ...

    async def message_log(self, charger_id: str, limit: int = 100) -> list[LogRecord]: ...

    @property
    def policy(self) -> CsmsPolicy:
        """The live default policy; change it with :meth:`update_policy`."""
        ...

    async def update_policy(self, **changes: Any) -> CsmsPolicy:
        """Change default policy fields (``boot="Pending"``, ``heartbeat_interval=60``, …)."""
        ...

    async def set_charger_policy(
        self, charger_id: str, *, boot_policy: str | None, heartbeat_interval: int | None
    ) -> None:
        """Per-charger boot policy / heartbeat interval (None: use the default)."""
        ...

    def subscribe(self) -> AbstractAsyncContextManager[AsyncIterator[CsmsEvent]]:
        """Events from now on: ``async with csms.subscribe() as events: async for e in events: …``."""
        ...
