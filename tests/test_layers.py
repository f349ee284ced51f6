"""The import direction of ARCHITECTURE.md holds: a test keeps it true."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "cards", "storage", "workspace")
ALLOWED = {
    "handlers": {"bot", "cards", "storage"},
    "workspace": {"cards"},
    "bot": {"storage"},
    "cards": set(),
    "storage": set(),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def test_packages_import_only_what_the_layer_rules_allow():
    offences = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for lineno, target in _imports(path):
                if target in PACKAGES and target != package and target not in ALLOWED[package]:
                    offences.append(f"{path.relative_to(ROOT)}:{lineno} {package} imports {target}")
    assert offences == []


def test_bot_never_imports_handlers_even_lazily():
    for path in (ROOT / "bot").rglob("*.py"):
        assert all(target != "handlers" for _, target in _imports(path)), path
