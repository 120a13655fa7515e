"""Fail when an addon has no readme/DESCRIPTION.md.

The OCA tool that writes an addon's README.rst from its readme/ fragments is not on PyPI, so the
fragments are what every addon must carry (pylint-odoo's missing-readme looks for README.rst).
Arguments: the addons' __manifest__.py files.
"""

import sys
from pathlib import Path


def main(manifests):
    missing = [
        str(Path(manifest).parent / "readme" / "DESCRIPTION.md")
        for manifest in manifests
        if not (Path(manifest).parent / "readme" / "DESCRIPTION.md").is_file()
    ]
    for path in missing:
        sys.stderr.write(f"{path}: missing (what the addon does, for its README)\n")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
