"""A benchmark report describes its machine and code: CPUs, memory, interpreter, and the git commit."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from conformance.bench.host import describe_host, host_line


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_the_machine_and_interpreter_are_this_one(tmp_path: Path) -> None:
    host = describe_host(tmp_path)  # not a checkout: no commit, and no error
    assert host["cpus"] == os.cpu_count()
    assert host["python"] == platform.python_version()
    assert host["memory_gib"] is None or host["memory_gib"] > 0
    assert host["git_commit"] is None and host["git_dirty"] is None
    line = host_line(host)
    assert line.startswith(f"{os.cpu_count()} CPUs") and f"Python {platform.python_version()}" in line
    assert "commit" not in line


def test_the_commit_of_a_checkout_and_whether_it_was_modified(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "commit", "-q", "-m", "one")
    head = git(tmp_path, "rev-parse", "HEAD")
    clean = describe_host(tmp_path)
    assert clean["git_commit"] == head and clean["git_dirty"] is False
    assert f"commit {head[:12]}" in host_line(clean) and "modified" not in host_line(clean)
    (tmp_path / "a.txt").write_text("two\n")
    modified = describe_host(tmp_path)
    assert modified["git_dirty"] is True and "(modified)" in host_line(modified)
