#!/usr/bin/env bash
# The quick loop: run Odoo tests through pytest-odoo against an installed database, in seconds.
# The database is made once (every addon here installed, no demo data); `--update` upgrades the
# addons first, after a change to their models, views or data. CI keeps the fresh-database run
# of scripts/test_odoo.sh.
#
#   scripts/test_quick.sh ai_core/tests/test_turn.py
#   scripts/test_quick.sh ai_core/tests/test_turn.py -k approval
#   scripts/test_quick.sh --update ai_billing/tests
#   scripts/test_quick.sh ai_core/tests/test_api.py --odoo-http      (HttpCase tests)
#
#   AIA_QUICK_DB   the database (default: aia_quick)
#   ODOO_PYTHON    interpreter that imports odoo (default: .venv's python)
# HttpCase tests (JSON-2, REST) run with --odoo-http; the browser suites (Hoot, tours) run in
# scripts/test_odoo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/odoo_python.sh
if ! "$ODOO_PYTHON" -c "import odoo.release, pytest_odoo" 2>/dev/null; then
    echo "test_quick.sh: $ODOO_PYTHON lacks Odoo 19 or pytest-odoo: run scripts/setup.sh --odoo PATH first." >&2
    exit 1
fi
update=0
if [ "${1:-}" = "--update" ]; then
    update=1
    shift
fi
[ $# -gt 0 ] || { sed -n '2,13p' "$0"; exit 2; }

db=${AIA_QUICK_DB:-aia_quick}
modules=$(for manifest in */__manifest__.py; do dirname "$manifest"; done | paste -sd, -)
addons_path=$(scripts/addons_path.sh)
connection=(--db_host "${PGHOST:-127.0.0.1}" --db_user "${PGUSER:-$(id -un)}")
if ! psql -h "${PGHOST:-127.0.0.1}" -U "${PGUSER:-$(id -un)}" -d postgres -Atc \
    "select 1 from pg_database where datname = '$db'" | grep -q 1; then
    echo "test_quick.sh: creating $db with $modules (once)"
    "$ODOO_PYTHON" -m odoo server "${connection[@]}" --addons-path "$addons_path" -d "$db" \
        -i "$modules" --stop-after-init --log-level warn
elif [ "$update" -eq 1 ]; then
    "$ODOO_PYTHON" -m odoo server "${connection[@]}" --addons-path "$addons_path" -d "$db" \
        -u "$modules" --stop-after-init --log-level warn
fi

# pytest-odoo reads the connection from a configuration file; the repository's pytest settings
# are the pure tier's (importlib mode, tests/), so they are replaced here.
rc=$(mktemp)
trap 'rm -f "$rc"' EXIT
port=$("$ODOO_PYTHON" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
printf '[options]\ndb_host = %s\ndb_user = %s\naddons_path = %s\nhttp_port = %s\n' \
    "${PGHOST:-127.0.0.1}" "${PGUSER:-$(id -un)}" "$addons_path" "$port" >"$rc"
exec "$ODOO_PYTHON" -m pytest -p odoo -p no:cacheprovider -o addopts= -o pythonpath= -o testpaths= \
    --odoo-config "$rc" --odoo-database "$db" "$@"
