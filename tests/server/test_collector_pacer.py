"""The collector pacer: young passes sized by the clock, full passes only when they can reclaim much."""

from __future__ import annotations

import gc

import pytest
import trio
import trio.testing

from engine.server.collector_pacer import (
    NO_FULL_PASSES,
    CollectionPacer,
    FullPass,
    PacerSettings,
    pace_collection,
)

S = PacerSettings()


def test_young_interval_shrinks_while_passes_are_longer_than_the_target() -> None:
    pacer = CollectionPacer(0.0, 1_000_000)
    assert pacer.young_interval == S.young_max_interval
    # Objects that outlive the interval: the pause is proportional to it (20 ms per second here).
    now = 0.0
    for _ in range(20):
        now = pacer.next_young
        pacer.young_done(now, 0.02 * pacer.young_interval)
    assert pacer.young_interval == pytest.approx(S.young_target_pause / 0.02, rel=0.5)
    assert 0.02 * pacer.young_interval <= 2 * S.young_target_pause


def test_young_interval_moves_at_most_a_factor_two_per_pass() -> None:
    pacer = CollectionPacer(0.0, 0)
    pacer.young_done(1.0, 0.5)  # one very long pass: the interval may not collapse at once ...
    assert pacer.young_interval >= S.young_max_interval / 2 or pacer.young_interval == S.young_max_interval
    pacer.young_done(2.0, 1e-7)  # ... nor jump from a very short one
    assert pacer.young_interval <= S.young_max_interval


def test_short_lived_young_objects_keep_passes_to_their_share_of_time() -> None:
    # A pass takes 20 ms however often it runs (young objects die within the interval): running it
    # more often would only cost more, so the interval stays where passes take at most the share.
    pacer = CollectionPacer(0.0, 0)
    for _ in range(30):
        pacer.young_done(pacer.next_young, 0.02)
    assert pacer.young_interval >= 0.02 / S.young_max_share - 1e-9
    assert 0.02 / pacer.young_interval <= S.young_max_share + 1e-9


def test_young_interval_stays_within_its_bounds() -> None:
    pacer = CollectionPacer(0.0, 0)
    for _ in range(50):
        pacer.young_done(pacer.next_young, 0.0)
    assert pacer.young_interval == S.young_max_interval
    for _ in range(50):
        pacer.young_done(pacer.next_young, 0.0001 * pacer.young_interval)
    assert pacer.young_interval >= S.young_min_interval


def test_chargers_connecting_cost_only_passes_over_what_is_new() -> None:
    pacer = CollectionPacer(0.0, 1_000_000)
    # 10,000 sessions live, none ended: nothing old to reclaim, only the growth is worth a look.
    assert pacer.full_due(600.0, 1_200_000, ended=0, live=10_000) is None
    assert pacer.full_due(601.0, 1_250_000, ended=0, live=10_000) is FullPass.SINCE_FREEZE
    pacer.full_done(602.0, 1_250_000, ended=0, live=10_000, kind=FullPass.SINCE_FREEZE)
    assert pacer.full_due(603.0, 1_500_000, ended=0, live=10_000) is None  # a quarter of the new size
    assert pacer.full_due(604.0, 1_562_500, ended=0, live=10_000) is FullPass.SINCE_FREEZE


def test_a_pass_since_the_freeze_does_not_restart_the_session_count() -> None:
    pacer = CollectionPacer(0.0, 1_000_000)
    pacer.full_done(1.0, 1_000_000, ended=0, live=1_000)
    pacer.full_done(2.0, 2_000_000, ended=200, live=4_000, kind=FullPass.SINCE_FREEZE)
    # 250 ended since the last pass over everything (a quarter of 1,000 then live, and the minimum)
    assert pacer.full_due(3.0, 2_000_000, ended=S.full_min_ended, live=4_000) is FullPass.EVERYTHING


def test_full_pass_after_a_quarter_of_the_sessions_ended() -> None:
    pacer = CollectionPacer(0.0, 1_000_000)
    pacer.full_done(10.0, 2_000_000, ended=0, live=10_000)
    assert not pacer.full_due(20.0, 2_000_000, ended=2_499, live=7_501)
    assert pacer.full_due(21.0, 2_000_000, ended=2_500, live=7_500) is FullPass.EVERYTHING
    pacer.full_done(22.0, 1_600_000, ended=2_500, live=7_500)
    # Counted from the last full pass, against the sessions live then.
    assert not pacer.full_due(30.0, 1_600_000, ended=2_500 + 1_874, live=7_500)
    assert pacer.full_due(31.0, 1_600_000, ended=2_500 + 1_875, live=7_500)


def test_a_few_reconnecting_chargers_do_not_trigger_a_full_pass() -> None:
    pacer = CollectionPacer(0.0, 100_000)
    pacer.full_done(1.0, 100_000, ended=0, live=10)
    assert not pacer.full_due(2.0, 100_000, ended=S.full_min_ended - 1, live=10)
    assert pacer.full_due(3.0, 100_000, ended=S.full_min_ended, live=10)


def test_full_pass_when_the_heap_grew_by_a_quarter() -> None:
    pacer = CollectionPacer(0.0, 2_000_000)
    assert not pacer.full_due(5.0, 2_499_999)
    assert pacer.full_due(6.0, 2_500_000) is FullPass.SINCE_FREEZE
    small = CollectionPacer(0.0, 10_000)  # a small heap growing is not worth a pass
    assert not small.full_due(5.0, 10_000 + S.full_min_blocks - 1)


def test_full_pass_after_a_long_time_only_if_anything_changed() -> None:
    pacer = CollectionPacer(0.0, 1_000_000)
    late = S.full_max_interval + 1
    assert not pacer.full_due(late, 1_000_000, ended=0, live=5)
    assert pacer.full_due(late, 1_000_001, ended=0, live=5) is FullPass.EVERYTHING
    assert pacer.full_due(late, 1_000_000, ended=1, live=5) is FullPass.EVERYTHING


def test_no_full_passes_setting_never_asks_for_one() -> None:
    pacer = CollectionPacer(0.0, 1_000, NO_FULL_PASSES)
    assert not pacer.full_due(1e9, 10**12, ended=10**9, live=1)


def test_full_checks_are_spaced() -> None:
    pacer = CollectionPacer(0.0, 0)
    pacer.full_due(5.0, 0)
    assert pacer.next_full_check == 5.0 + S.full_check_interval


class _Cycle:
    def __init__(self) -> None:
        self.me = self


async def test_pace_collection_turns_automatic_collection_off_and_collects_cycles() -> None:
    assert gc.isenabled()
    collected: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            collected.append(info["collected"])

    settings = PacerSettings(young_max_interval=0.01, young_min_interval=0.005)
    gc.callbacks.append(note)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(pace_collection, settings)
            await trio.testing.wait_all_tasks_blocked()
            assert not gc.isenabled()
            for _ in range(100):
                _Cycle()  # garbage only a collection frees
            await trio.sleep(0.1)  # real time: the pacer's clock is the process's
            nursery.cancel_scope.cancel()
    finally:
        gc.callbacks.remove(note)
    assert gc.isenabled()  # given back as found
    assert sum(collected) >= 100


async def test_pace_collection_runs_a_full_pass_when_sessions_ended() -> None:
    generations: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            generations.append(info["generation"])

    churn = [0, 100]
    settings = PacerSettings(young_max_interval=0.01, young_min_interval=0.005, full_check_interval=0.0)
    gc.callbacks.append(note)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(pace_collection, settings, lambda: (churn[0], churn[1]))
            await trio.sleep(0.05)
            assert 2 not in generations  # no session has ended
            churn[:] = [S.full_min_ended, 100]
            await trio.sleep(0.05)
            nursery.cancel_scope.cancel()
    finally:
        gc.callbacks.remove(note)
    assert generations.count(2) == 1
    assert gc.get_freeze_count() == 0  # what the pass froze is given back once the pacer stops
