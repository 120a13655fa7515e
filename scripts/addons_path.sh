#!/usr/bin/env bash
# Print the addons path for this repository: the addons_path of $ODOO_RC (if any), Odoo's own
# addons (including the community addons directory beside the odoo package) and this directory.
set -euo pipefail
cd "$(dirname "$0")/.."
python=python3
[ -x .venv/bin/python ] && python=.venv/bin/python
"${ODOO_PYTHON:-$python}" - "$(pwd)" <<'PY'
import configparser, os, sys
import odoo.addons

here = sys.argv[1]
paths = []
rc = os.environ.get("ODOO_RC")
if rc:
    parser = configparser.ConfigParser()
    parser.read(rc)
    paths += [p.strip() for p in parser.get("options", "addons_path", fallback="").split(",") if p.strip()]
for path in odoo.addons.__path__:
    paths.append(path)
    community = os.path.join(os.path.dirname(os.path.dirname(path)), "addons")
    if os.path.isdir(os.path.join(community, "mail")):
        paths.append(community)
# Placeholders that scripts/setup.sh made for what a trimmed Odoo source lacks.
if os.path.isdir(os.path.join(here, ".odoo", "placeholders")):
    paths.append(os.path.join(here, ".odoo", "placeholders"))
paths.append(here)
seen = []
for path in paths:
    path = os.path.realpath(path)
    if path not in seen and os.path.isdir(path):
        seen.append(path)
print(",".join(seen))
PY
