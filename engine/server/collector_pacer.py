"""Garbage collection paced by the clock and by session churn, instead of by allocation counts.

Why: CPython starts a collection when *net* allocations of container objects pass a threshold. A server
whose chargers are idle most of the time allocates little net: every message frees the waiting reader's
coroutine chain and builds a new one of the same size. So the count barely moves, while the young
generation's list keeps growing with every message (the new chains are linked into it, the freed ones
leave older generations). When a collection finally comes, it walks everything accumulated since the last
one: with 10,000 chargers we measured young passes of 170 ms and a middle pass of 856 ms, each one a
stall of every session at once, and the cause of a 383 ms heartbeat p99. Raising the thresholds only
makes the passes rarer and longer; lowering them makes full passes (every live object: 0.8 s at 10,000
chargers) frequent while chargers connect.

What :func:`pace_collection` does instead (automatic collection is off while it runs):

- a **young pass** (generation 0) on a timer. Whatever outlives the interval is walked once, so the cost
  per second is the same whatever the interval; the pause is not, so the interval adapts to make each
  pass take about :attr:`PacerSettings.young_target_pause`. When young objects die quickly (a charger
  answering back to back), passes do not get shorter by running more often: the interval then stays
  long enough that passes take at most :attr:`~PacerSettings.young_max_share` of the time. Survivors move
  to generation 1 and stay there until a full pass.
- a **full pass** only when it can reclaim much, after which everything alive is frozen (``gc.freeze``:
  out of every later pass). Why the freeze: a full pass walks every live object, 0.5 s with 10,000
  chargers, and most of them are connected chargers' sessions, alive and staying alive. Two kinds:

  * when a quarter as many sessions as were live at the last full pass have ended since (what a session
    leaves behind in reference cycles is old, out of reach of young passes), or after half an hour:
    everything is unfrozen first, so those cycles are found (:attr:`FullPass.EVERYTHING`);
  * when the heap grew by a quarter since the last one (chargers connecting, or cycles from elsewhere):
    only what was created since the last freeze is walked (:attr:`FullPass.SINCE_FREEZE`), so a pass
    costs in proportion to the growth, not to the heap, and 10,000 chargers connecting cause no stall
    longer than a young pass or two.

:class:`CollectionPacer` holds the decisions and nothing else (time, heap size and session counts are
passed in), so the rules are tested without a collector or a clock.
"""

from __future__ import annotations

import gc
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import NoReturn

import trio

logger = logging.getLogger(__name__)

#: (sessions ended since start, sessions live now): what the server tells the pacer about churn
Churn = Callable[[], tuple[int, int]]


@dataclass(frozen=True)
class PacerSettings:
    #: the pause a young pass aims at: the interval shrinks when passes take longer, grows when shorter
    young_target_pause: float = 0.002
    #: ... but young passes take at most this share of the time
    young_max_share: float = 0.05
    young_min_interval: float = 0.02
    young_max_interval: float = 1.0
    #: a full pass when this many sessions per session live at the last full pass have ended since ...
    full_churn: float = 0.25
    #: ... and at least this many (a few chargers reconnecting leave too little to be worth a pass)
    full_min_ended: int = 256
    #: a full pass when the heap (allocated memory blocks) grew by this fraction since the last one ...
    full_growth: float = 0.25
    #: ... and by at least this many blocks (a small heap may double without it mattering)
    full_min_blocks: int = 250_000
    #: a full pass at least this often when anything ended or the heap grew, so slow leaks are reclaimed
    full_max_interval: float = 1800.0
    #: how often a full pass is considered (looking at the heap walks the allocator's pools)
    full_check_interval: float = 1.0
    full_passes: bool = True


#: for a process that runs for a bounded time and must not stall (the load generator): no full passes
NO_FULL_PASSES = PacerSettings(full_passes=False)


class FullPass(Enum):
    """Which objects a full pass walks."""

    #: unfreeze first: every object, including sessions alive at earlier passes that have ended since
    EVERYTHING = "everything"
    #: only what was created since the last freeze (the heap grew)
    SINCE_FREEZE = "since freeze"


class CollectionPacer:
    """When to run the next young pass, and whether a full pass is due (pure decisions)."""

    def __init__(self, now: float, heap_blocks: int, settings: PacerSettings | None = None):
        self.settings = settings or PacerSettings()
        self.young_interval = self.settings.young_max_interval
        self.next_young = now + self.young_interval
        self.next_full_check = now + self.settings.full_check_interval
        self._last_full = now
        self._blocks_after_full = heap_blocks
        self._ended_at_full = 0
        self._live_at_full = 0

    def young_done(self, now: float, pause: float) -> float:
        """A young pass that took ``pause`` seconds just ended at ``now``: when the next one is due."""
        s = self.settings
        # For objects that outlive the interval the pause is proportional to it: scale towards the target,
        # at most halving or doubling per pass so one odd pass does not swing it.
        wanted = self.young_interval * min(max(s.young_target_pause / max(pause, 1e-9), 0.5), 2.0)
        floor = max(s.young_min_interval, pause / s.young_max_share)
        self.young_interval = min(max(wanted, floor), s.young_max_interval)
        self.next_young = now + self.young_interval
        return self.next_young

    def full_due(self, now: float, heap_blocks: int, ended: int = 0, live: int = 0) -> FullPass | None:
        """The full pass worth its pause, if any, given the heap size and sessions ended/live so far."""
        s = self.settings
        self.next_full_check = now + s.full_check_interval
        if not s.full_passes:
            return None
        ended_since = ended - self._ended_at_full
        if ended_since >= max(s.full_min_ended, s.full_churn * self._live_at_full):
            return FullPass.EVERYTHING
        growth = heap_blocks - self._blocks_after_full
        if (ended_since > 0 or growth > 0) and now - self._last_full >= s.full_max_interval:
            return FullPass.EVERYTHING
        if growth >= max(s.full_min_blocks, s.full_growth * self._blocks_after_full):
            return FullPass.SINCE_FREEZE
        return None

    def full_done(
        self,
        now: float,
        heap_blocks: int,
        ended: int = 0,
        live: int = 0,
        kind: FullPass = FullPass.EVERYTHING,
    ) -> None:
        """A full pass of ``kind`` ended at ``now``, leaving ``heap_blocks`` allocated, ``ended``/``live``
        sessions. Only a pass over everything restarts the session count and the half hour."""
        self._blocks_after_full = heap_blocks
        if kind is FullPass.EVERYTHING:
            self._last_full = now
            self._ended_at_full = ended
            self._live_at_full = live


async def pace_collection(settings: PacerSettings | None = None, churn: Churn | None = None) -> NoReturn:
    """Run the collector by :class:`CollectionPacer` until cancelled (automatic collection is off meanwhile).

    Meant for a whole process (``serve``, the load generator's workers): the collector is global.
    ``churn`` tells how many sessions have ended and are live (the server's registry); without it only
    heap growth and time start full passes.
    """
    clock = time.perf_counter
    sessions = churn or (lambda: (0, 0))
    pacer = CollectionPacer(clock(), sys.getallocatedblocks(), settings)
    was_enabled = gc.isenabled()
    froze = False
    gc.disable()
    try:
        while True:
            await trio.sleep(max(0.0, pacer.next_young - clock()))
            started = clock()
            gc.collect(0)
            finished = clock()
            pacer.young_done(finished, finished - started)
            if finished < pacer.next_full_check:
                continue
            kind = pacer.full_due(finished, sys.getallocatedblocks(), *sessions())
            if kind is None:
                continue
            if kind is FullPass.EVERYTHING:
                gc.unfreeze()
            gc.collect()
            gc.freeze()
            froze = True
            done = clock()
            pacer.full_done(done, sys.getallocatedblocks(), *sessions(), kind=kind)
            logger.info("full garbage collection (%s) took %.0f ms", kind.value, (done - finished) * 1000)
    finally:
        if froze:  # what it froze may be garbage by now; the process goes back to the usual collector
            gc.unfreeze()
        if was_enabled:
            gc.enable()
