#!/usr/bin/env bash
# Create (once) a demo database with the suite installed, then serve it on 127.0.0.1:8069.
#
#   ODOO_PYTHON   interpreter that imports odoo (default: python3)
#   ODOO_RC       optional odoo.conf (database connection; its addons_path must reach Odoo's addons
#                 and queue_job; this repository is added automatically)
#   AIA_DEMO_DB   database name (default: aia_demo)
#   AIA_MODULES   addons to install (default: every addon here)
set -euo pipefail
cd "$(dirname "$0")/.."
ODOO_PYTHON=${ODOO_PYTHON:-python3}
db=${AIA_DEMO_DB:-aia_demo}
modules=${AIA_MODULES:-$(for manifest in */__manifest__.py; do dirname "$manifest"; done | paste -sd, -)}
addons_path=$(scripts/addons_path.sh)
common=(--addons-path "$addons_path")
if [ -n "${ODOO_RC:-}" ]; then
    common=(-c "$ODOO_RC" "${common[@]}")
else
    common=(--db_host "${PGHOST:-127.0.0.1}" --db_user "${PGUSER:-$(id -un)}" "${common[@]}")
fi
if ! psql -h "${PGHOST:-127.0.0.1}" -U "${PGUSER:-$(id -un)}" -lqt 2>/dev/null | cut -d'|' -f1 | grep -qw "$db"; then
    echo "Creating demo database $db with $modules"
    "$ODOO_PYTHON" -m odoo server "${common[@]}" -d "$db" -i "$modules" --with-demo --stop-after-init
fi
echo "Serving $db on http://127.0.0.1:8069 (login admin / admin)"
# queue_job runs its job runner inside this server when loaded as a server-wide module.
exec "$ODOO_PYTHON" -m odoo server "${common[@]}" -d "$db" --db-filter "^$db\$" \
    --load base,web,queue_job --http-interface 127.0.0.1 --http-port 8069
