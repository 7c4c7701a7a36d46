"""A handler context without Trio or sockets: the store runs inline, the clock is fixed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from engine.clock import FixedClock
from engine.policy import ChargerState, CsmsPolicy
from engine.profiles.core.data_transfer import VendorHandler
from engine.store import MemoryStore, Store

T = TypeVar("T")


class FakeContext:
    def __init__(
        self,
        charger_id: str = "CP-1",
        *,
        store: Store | None = None,
        policy: CsmsPolicy | None = None,
        clock: FixedClock | None = None,
        vendors: Mapping[str, VendorHandler] | None = None,
    ):
        self.charger_id = charger_id
        self.charger = ChargerState(charger_id)
        self.policy = policy or CsmsPolicy()
        self.store: Store = store or MemoryStore()
        self.clock = clock or FixedClock(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC))
        self.vendors: Mapping[str, VendorHandler] = vendors or {}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def utc_now(self) -> dt.datetime:
        return self.clock.utc_now()

    async def run_store(self, operation: Callable[[], T]) -> T:
        return operation()

    def note_seen(self, at: str) -> None:
        self.store.touch_charger(self.charger_id, at)

    async def call(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - mirrors ChargerContext.call
    ) -> dict[str, Any]:
        self.calls.append((action, payload))
        return {}
