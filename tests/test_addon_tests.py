"""Odoo's test runner only runs the test modules an addon's ``tests/__init__.py`` imports: a file
left out is silently never run in CI (pytest-odoo's quick loop, which collects files, still runs
it). Every ``test_*.py`` of every addon must be imported there."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ADDON_TESTS = sorted(
    path.parent / "tests" for path in ROOT.glob("*/__manifest__.py") if (path.parent / "tests").is_dir()
)


def imported_modules(init: Path) -> set[str]:
    """The modules ``init`` imports with ``from . import ...``."""
    names = set()
    for node in ast.walk(ast.parse(init.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None:
            names |= {alias.name for alias in node.names}
    return names


@pytest.mark.parametrize("tests", ADDON_TESTS, ids=lambda path: path.parent.name)
def test_every_test_module_of_an_addon_is_imported_by_its_tests_package(tests):
    modules = {path.stem for path in tests.glob("test_*.py")}
    assert modules, f"{tests} holds no test module"
    missing = sorted(modules - imported_modules(tests / "__init__.py"))
    assert not missing, f"{tests}/__init__.py does not import {', '.join(missing)}: Odoo would never run them"
