"""What a profile handler sees, and the handler registry with definition-time checks.

A handler answers one charger-initiated action: ``async def handler(ctx, payload) -> response payload``.
It may ``await ctx.call(...)`` to the same charger (the shell runs each incoming CALL in its own task, so
this cannot deadlock the reader). It raises :class:`~engine.protocol.errors.RemoteOcppError` to answer
with a CALLERROR; any other exception becomes ``InternalError`` and is logged with its traceback.

Registries check at definition time, when the profile module is imported (Hypothesis ``InvalidDefinition``
style): an unknown action, an action the charger never sends, an action of another profile, or a second
handler for the same action raises :class:`InvalidHandlerDefinition` straight away.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from engine.protocol.actions import ACTIONS, Profile, sent_by_charger

if TYPE_CHECKING:
    from engine.policy import ChargerState, CsmsPolicy
    from engine.profiles.core.data_transfer import VendorHandler
    from engine.store import Store

Payload = dict[str, Any]
T = TypeVar("T")


class ChargerContext(Protocol):
    """The charger session as a handler sees it (implemented by the Trio shell)."""

    @property
    def charger_id(self) -> str: ...

    def utc_now(self) -> dt.datetime: ...

    @property
    def charger(self) -> ChargerState:
        """The in-memory state of this charger identity (registration, triggered messages)."""
        ...

    @property
    def policy(self) -> CsmsPolicy: ...

    @property
    def vendors(self) -> Mapping[str, VendorHandler]:
        """DataTransfer handlers by vendorId."""
        ...

    @property
    def store(self) -> Store:
        """The store; call it only through :meth:`run_store` (it blocks on disk)."""
        ...

    async def run_store(self, operation: Callable[[], T]) -> T:
        """Run a store operation off the event loop and return its result (committed when it returns)."""
        ...

    def note_seen(self, at: str) -> None:
        """Set the charger's last-seen time. Not awaited: it is stored in the background, since a
        last-seen time is not data a charger was promised (a crash may lose its last second)."""
        ...

    # The timeout is OCPP's response timeout, kept as a deadline in the RPC state (design.md decision 5),
    # not a cancel scope around the await: hence the ASYNC109 exception.
    async def call(
        self,
        action: str,
        payload: Payload,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> Payload:
        """Send a CALL to this charger and return its CALLRESULT payload (raises on error/timeout)."""
        ...


Handler = Callable[[ChargerContext, Payload], Awaitable[Payload]]


class InvalidHandlerDefinition(Exception):
    """A profile declared a handler that cannot be right; raised when the module is imported."""


class HandlerRegistry(Mapping[str, Handler]):
    """The handlers of one feature profile, keyed by action name."""

    def __init__(self, profile: Profile):
        self.profile = profile
        self._handlers: dict[str, Handler] = {}

    def handles(self, action: str) -> Callable[[Handler], Handler]:
        """Decorator registering a handler for ``action``; checks the action at definition time."""
        spec = ACTIONS.get(action)
        if spec is None:
            raise InvalidHandlerDefinition(f"{action!r} is not an OCPP 1.6 action")
        if not sent_by_charger(action):
            raise InvalidHandlerDefinition(f"{action} is sent by the CSMS; the CSMS does not handle it")
        if spec.profile is not self.profile:
            raise InvalidHandlerDefinition(f"{action} belongs to {spec.profile}, not {self.profile}")
        if action in self._handlers:
            raise InvalidHandlerDefinition(f"second handler for {action} in {self.profile}")

        def register(handler: Handler) -> Handler:
            self._handlers[action] = handler
            return handler

        return register

    def __getitem__(self, action: str) -> Handler:
        return self._handlers[action]

    def __iter__(self) -> Iterator[str]:
        return iter(self._handlers)

    def __len__(self) -> int:
        return len(self._handlers)


class RefusedByStateError(Exception):
    """The operator asked for a CALL the charger's state forbids (e.g. RemoteStartTransaction to a
    Pending charger, C §4.2); nothing was sent."""
