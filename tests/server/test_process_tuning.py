"""The serve process raises its open files limit and tunes the collector."""

from __future__ import annotations

import gc
import resource

import pytest

from engine.server import process_tuning


def test_open_files_soft_limit_is_raised_to_the_hard_one() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard <= 256:
        pytest.fail(f"this machine's hard limit ({hard}) leaves nothing to test")  # never silently skip
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        assert process_tuning.raise_open_files_limit() == hard
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_collector_is_tuned_and_start_up_objects_frozen() -> None:
    thresholds = gc.get_threshold()
    try:
        process_tuning.tune_collector()
        assert gc.get_threshold() == (
            process_tuning.GEN0_THRESHOLD,
            process_tuning.GEN1_THRESHOLD,
            process_tuning.GEN2_THRESHOLD,
        )
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
