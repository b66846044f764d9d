"""The package stays readable: small modules, short functions, a documented tree."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "linkgen"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
MAX_TOP_LEVEL_MODULES = 12


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def documented_tree() -> set[str]:
    """The module paths (relative to linkgen/) of the tree in docs/architecture.md."""
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = re.search(r"```\nlinkgen/\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md has no tree starting at linkgen/"
    folders: list[str] = []
    found: set[str] = set()
    for line in block.group(1).splitlines():
        name = line.strip().split()[0]
        depth = (len(line) - len(line.lstrip())) // 2 - 1
        folders = folders[:depth]
        if name.endswith("/"):
            folders.append(name.rstrip("/"))
        else:
            found.add("/".join([*folders, name]))
    return found


def test_no_module_is_over_500_lines() -> None:
    long = {
        str(path.relative_to(REPO)): n
        for path in modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these modules: {long}"


def test_no_function_is_over_80_lines() -> None:
    long = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({size})")
    assert not long, f"split these functions: {long}"


def test_at_most_12_modules_sit_directly_in_the_package() -> None:
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def test_the_architecture_doc_names_every_module_and_no_other() -> None:
    actual = {str(path.relative_to(PACKAGE)) for path in modules()}
    documented = documented_tree()
    assert actual - documented == set(), "modules missing from docs/architecture.md"
    assert documented - actual == set(), "docs/architecture.md names modules that do not exist"


def test_every_module_says_what_it_is_for() -> None:
    silent = [
        str(path.relative_to(REPO))
        for path in modules()
        if not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not silent, f"these modules have no docstring: {silent}"
