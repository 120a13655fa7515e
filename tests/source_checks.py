"""Checks on the source files of the pure packages."""

from pathlib import Path


def files_importing_odoo(package: Path) -> list[str]:
    """The names of the Python files below ``package`` with an ``import odoo`` or ``from odoo`` line."""
    return [
        path.name
        for path in package.rglob("*.py")
        if any(
            line.lstrip().startswith(("import odoo", "from odoo"))
            for line in path.read_text(encoding="utf-8").splitlines()
        )
    ]
