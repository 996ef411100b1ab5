"""The core (protocol/) does no I/O, reads no clock and draws no random numbers.

The rule is checked on the source, by import: a module that could do any of those things may
not be imported anywhere under protocol/. (WAV files are read and written on the caller's
explicit request; that is the audio helpers' one exception and it opens no sockets.)
"""

from __future__ import annotations

import ast
import pathlib

import pytest

PROTOCOL = pathlib.Path(__file__).resolve().parent.parent / "protocol"
FORBIDDEN = {
    "asyncio",
    "anyio",
    "trio",
    "socket",
    "ssl",
    "selectors",
    "threading",
    "multiprocessing",
    "concurrent",
    "subprocess",
    "wsproto",
    "h11",
    "time",
    "datetime",
    "random",
    "secrets",
    "uuid",
    "urllib",
    "http",
}
SOURCES = sorted(PROTOCOL.rglob("*.py"))


def imported_modules(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "__import__"
        ):
            names.add("__import__")
    return names


def test_the_core_has_sources() -> None:
    assert len(SOURCES) > 5


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PROTOCOL)))
def test_core_module_imports_nothing_impure(path: pathlib.Path) -> None:
    bad = imported_modules(path) & (FORBIDDEN | {"__import__"})
    assert not bad, f"{path.relative_to(PROTOCOL.parent)} imports {sorted(bad)}"


def test_the_check_catches_an_impure_import(tmp_path: pathlib.Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("import os\nfrom time import monotonic\nimport asyncio.tasks\n")
    assert imported_modules(sample) & FORBIDDEN == {"time", "asyncio"}
