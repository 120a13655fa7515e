#!/usr/bin/env bash
# Set up Odoo 19 and the suite (given an Odoo source), create the demo database once, then serve it
# on 127.0.0.1:8069.
#
#   scripts/demo.sh --odoo PATH   PATH: an Odoo 19.0 source tree (git clone) or archive of one;
#                                 runs scripts/setup.sh --odoo PATH first (idempotent)
#   scripts/demo.sh               serve with what scripts/setup.sh installed before
#
#   ODOO_PYTHON   interpreter that imports odoo (default: .venv's python)
#   ODOO_RC       optional odoo.conf (database connection; its addons_path must reach Odoo's addons
#                 and queue_job; this repository is added automatically)
#   AIA_DEMO_DB   database name (default: aia_demo)
#   AIA_MODULES   addons to install (default: every addon here)
set -euo pipefail
cd "$(dirname "$0")/.."
odoo_src=${ODOO_SRC:-}
case "${1:-}" in
    --odoo) odoo_src=${2:?--odoo needs a path} ;;
    --odoo=*) odoo_src=${1#--odoo=} ;;
    "") ;;
    *) echo "demo.sh: unknown argument $1 (usage: scripts/demo.sh [--odoo PATH])" >&2; exit 2 ;;
esac
if [ -n "$odoo_src" ]; then
    scripts/setup.sh --odoo "$odoo_src"
fi
. scripts/odoo_python.sh
if ! "$ODOO_PYTHON" -c "import odoo.release, importlib.util as u, sys; sys.exit(not u.find_spec('odoo.addons.queue_job'))" 2>/dev/null; then
    echo "demo.sh: no Odoo 19 with queue_job in $ODOO_PYTHON: run scripts/demo.sh --odoo PATH (an Odoo 19.0 source tree or archive)." >&2
    exit 1
fi
db=${AIA_DEMO_DB:-aia_demo}
modules=${AIA_MODULES:-$(for manifest in */__manifest__.py; do dirname "$manifest"; done | paste -sd, -)}
addons_path=$(scripts/addons_path.sh)
common=(--addons-path "$addons_path")
if [ -n "${ODOO_RC:-}" ]; then
    common=(-c "$ODOO_RC" "${common[@]}")
else
    common=(--db_host "${PGHOST:-127.0.0.1}" --db_user "${PGUSER:-$(id -un)}" "${common[@]}")
fi
pg=(-h "${PGHOST:-127.0.0.1}" -U "${PGUSER:-$(id -un)}")
if [ -z "${ODOO_RC:-}" ] && ! psql "${pg[@]}" -d postgres -Atc "select 1" >/dev/null 2>&1; then
    echo "demo.sh: cannot connect to PostgreSQL at ${PGHOST:-127.0.0.1} as role ${PGUSER:-$(id -un)} (set PGHOST / PGUSER, or ODOO_RC; Odoo refuses the postgres role)." >&2
    exit 1
fi
if ! psql -h "${PGHOST:-127.0.0.1}" -U "${PGUSER:-$(id -un)}" -lqt 2>/dev/null | cut -d'|' -f1 | grep -qw "$db"; then
    echo "Creating demo database $db with $modules"
    "$ODOO_PYTHON" -m odoo server "${common[@]}" -d "$db" -i "$modules" --with-demo --stop-after-init
fi
echo "Serving $db on http://127.0.0.1:8069 (login admin / admin)"
# queue_job runs its job runner inside this server when loaded as a server-wide module.
exec "$ODOO_PYTHON" -m odoo server "${common[@]}" -d "$db" --db-filter "^$db\$" \
    --load base,web,queue_job --http-interface 127.0.0.1 --http-port 8069
