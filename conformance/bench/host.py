"""What machine and code a benchmark ran on, so that a results file describes itself.

A figure without its machine is not reproducible: the README's results table names the cores, memory and
versions by hand, and a JSON report kept for later comparison needs the same. Read from ``/proc`` where
Linux has it (the bench targets loopback on this machine only) and from git when the code is a checkout.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from engine import __version__


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_gib() -> float | None:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return round(pages * size / 2**30, 1) if pages > 0 and size > 0 else None


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def describe_host(code: Path | None = None) -> dict[str, Any]:
    """The machine, the interpreter and the code (``code``: the checkout, when there is one)."""
    commit = status = None
    if code is not None:
        commit = _git(code, "rev-parse", "HEAD")
        status = _git(code, "status", "--porcelain", "--untracked-files=no") if commit else None
    return {
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "ocpp_trio": __version__,
        "git_commit": commit,
        "git_dirty": bool(status) if commit else None,
    }


def host_line(host: dict[str, Any]) -> str:
    """One line for the top of a report: ``2 CPUs (AMD EPYC …), 24.0 GiB, Linux-…, Python 3.11.7, …``."""
    parts = [f"{host.get('cpus')} CPUs" + (f" ({host['cpu_model']})" if host.get("cpu_model") else "")]
    if host.get("memory_gib") is not None:
        parts.append(f"{host['memory_gib']:g} GiB")
    parts += [str(host.get("os")), f"Python {host.get('python')}", f"ocpp-trio {host.get('ocpp_trio')}"]
    if host.get("git_commit"):
        parts.append(f"commit {host['git_commit'][:12]}" + (" (modified)" if host.get("git_dirty") else ""))
    return ", ".join(parts)
