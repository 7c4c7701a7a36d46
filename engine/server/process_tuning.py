"""Settings of the server process that no library sets for us: open files and the garbage collector.

Open files: every connected charger holds a socket, and many systems start processes with a soft limit of
1,024 descriptors while allowing far more; ``serve`` raises the soft limit to the hard one, so the number
of chargers is bounded by the machine's configuration, not by a default nobody chose.

Garbage collector: CPython's cyclic collector runs a young-generation pass every 700 net allocations and a
full pass as the old generation grows; with thousands of connected chargers the old generation holds every
session's objects, and each full pass walks all of them (the asyncio peer loses over a third of its CPU to
full collections at 3,000 connections). Per-message garbage is freed by reference counting, not by the
collector, so collecting far less often costs little memory. Objects created at start-up (modules,
schemas, compiled validators) never die: :func:`gc.freeze` takes them out of every future pass.

``serve`` goes further and runs :mod:`engine.server.collector_pacer`, which turns automatic collection
off; the thresholds set here are what a process without the pacer (or after it stops) collects by.
"""

from __future__ import annotations

import gc
import logging
import resource

logger = logging.getLogger(__name__)

#: young-generation threshold: allocations between passes (CPython's default is 700)
GEN0_THRESHOLD = 10_000
#: young passes per middle pass, middle passes per full pass (CPython: 10, 10)
GEN1_THRESHOLD = 5
GEN2_THRESHOLD = 100
#: what "no limit" counts as (and what is asked for when the hard limit is infinite)
UNLIMITED = 1 << 20


def raise_open_files_limit() -> int:
    """Raise the soft limit of open files to the hard limit; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return UNLIMITED
    if hard != resource.RLIM_INFINITY and soft >= hard:
        return soft
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, UNLIMITED)  # the kernel still caps descriptors (nr_open); ask for plenty
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError) as exc:  # some containers refuse even this
        logger.warning("could not raise the open files limit from %d to %d: %s", soft, hard, exc)
        return soft
    return hard


def tune_collector() -> None:
    """Freeze what start-up allocated and collect less often; call once the server is listening."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)
