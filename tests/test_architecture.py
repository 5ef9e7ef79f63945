"""Rules of the architecture that a test can hold: handlers stay platform-neutral."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_LIBRARIES = {"telegram", "wechatpy"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_handlers_never_import_a_platform_library():
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & PLATFORM_LIBRARIES)
        for path in (ROOT / "handlers").rglob("*.py")
        if imported_modules(path) & PLATFORM_LIBRARIES
    }
    assert offenders == {}


def test_only_channels_import_platform_libraries():
    allowed = ROOT / "bot" / "channels"
    offenders = []
    for folder in ("bot", "handlers", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            if allowed in path.parents:
                continue
            if imported_modules(path) & PLATFORM_LIBRARIES:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_check_itself_catches_an_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from telegram import Update\nimport wechatpy.enterprise\n", encoding="utf-8")
    assert imported_modules(bad) & PLATFORM_LIBRARIES == {"telegram", "wechatpy"}
