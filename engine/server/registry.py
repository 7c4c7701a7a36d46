"""Which session is live for each charger identity (design.md decision 9), and what outlives sessions.

A new connection for an identity replaces the old one: the registry points at the new session at once and
asks the old one to close (1000, "replaced"). The old session's clean-up later calls :meth:`unregister`
with *itself*; because removal checks identity of the registered object, a stale clean-up can never take
the new session offline (the ts-ocpp#19 / ev-server#3091 / steve#4 bug).

The registry also keeps each identity's :class:`~engine.policy.ChargerState` for the life of the process:
registration, trigger windows and the answered-CALL cache (``recent``), so a charger that retries a CALL
after a reconnect (same id, errata JE §3.1) gets the cached answer instead of a second execution.
"""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

from engine.policy import ChargerState

REPLACED_CODE = 1000
REPLACED_REASON = "replaced"


class Closable(Protocol):
    @property
    def charger_id(self) -> str: ...

    def request_close(self, code: int, reason: str) -> None: ...


S = TypeVar("S", bound=Closable)


class Registry(Generic[S]):
    """Identity → live session, and identity → charger state. Lives in one Trio run; not thread-safe."""

    def __init__(self) -> None:
        self._sessions: dict[str, S] = {}
        self._states: dict[str, ChargerState] = {}

    def state(self, identity: str) -> ChargerState | None:
        """The state kept for ``identity``, or None before its first connection."""
        return self._states.get(identity)

    def states(self) -> list[ChargerState]:
        """Every charger state kept so far (one per identity seen in this process)."""
        return list(self._states.values())

    def keep_state(self, state: ChargerState) -> ChargerState:
        """Remember ``state`` unless one is already kept for its identity; return the kept one."""
        return self._states.setdefault(state.charger_id, state)

    def register(self, session: S) -> S | None:
        """Make ``session`` the live one for its identity; close and return the one it replaces."""
        old = self._sessions.get(session.charger_id)
        self._sessions[session.charger_id] = session
        if old is not None and old is not session:
            old.request_close(REPLACED_CODE, REPLACED_REASON)
            return old
        return None

    def unregister(self, session: S) -> bool:
        """Forget ``session`` if, and only if, it is still the live one for its identity."""
        if self._sessions.get(session.charger_id) is session:
            del self._sessions[session.charger_id]
            return True
        return False

    def get(self, identity: str) -> S | None:
        return self._sessions.get(identity)

    def __len__(self) -> int:
        return len(self._sessions)

    def identities(self) -> list[str]:
        return sorted(self._sessions)
