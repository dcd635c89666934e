"""Package dependencies run one way: handlers/ uses bot/, bot/ never imports handlers/."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):       # lazy imports inside functions count too
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_bot_package_does_not_import_handlers():
    offenders = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "bot").rglob("*.py"))
                 if "handlers" in _imported_packages(p)]
    assert offenders == []


def test_the_telegram_application_is_built_in_handlers():
    from handlers import application

    assert callable(application.build_application) and callable(application.run_telegram)
