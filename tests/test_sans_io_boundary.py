"""Only the Trio shell (engine/server/) and the CLI that starts it may import trio, trio_websocket or
socket: everything else stays sans-IO and testable without an event loop (design.md layers)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[1] / "engine"
FORBIDDEN = {"trio", "trio_websocket", "socket", "asyncio"}
ALLOWED = {ENGINE / "server", ENGINE / "cli.py", ENGINE / "api"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def sans_io_files() -> list[Path]:
    return [
        path
        for path in sorted(ENGINE.rglob("*.py"))
        if not any(path == allowed or allowed in path.parents for allowed in ALLOWED)
    ]


def test_the_walk_covers_the_protocol_core() -> None:
    assert ENGINE / "protocol" / "connection.py" in sans_io_files()


@pytest.mark.parametrize("path", sans_io_files(), ids=lambda p: str(p.relative_to(ENGINE)))
def test_no_io_imports_outside_the_shell(path: Path) -> None:
    assert not (imported_roots(path) & FORBIDDEN), f"{path} imports {imported_roots(path) & FORBIDDEN}"


def test_the_checker_would_catch_an_import(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("import trio.lowlevel\nfrom socket import socket\n")
    assert imported_roots(sample) >= {"trio", "socket"}
