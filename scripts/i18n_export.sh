#!/usr/bin/env bash
# Write each addon's translation template (<addon>/i18n/<addon>.pot) from a throwaway database with
# every addon of this repository installed. Run after changing user-facing texts.
#
#   ODOO_PYTHON   interpreter that imports odoo (default: .venv's python, else python3)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/odoo_python.sh
modules=$(for manifest in */__manifest__.py; do dirname "$manifest"; done | paste -sd, -)
db="aia_i18n_$$"
rc=$(mktemp)
trap 'rm -f "$rc"; dropdb -h "${PGHOST:-127.0.0.1}" -U "${PGUSER:-$(id -un)}" --if-exists "$db" 2>/dev/null || true' EXIT
printf '[options]\ndb_host = %s\ndb_user = %s\naddons_path = %s\n' \
    "${PGHOST:-127.0.0.1}" "${PGUSER:-$(id -un)}" "$(scripts/addons_path.sh)" >"$rc"
"$ODOO_PYTHON" -m odoo server -c "$rc" -d "$db" -i "$modules" --stop-after-init --log-level warn
# shellcheck disable=SC2086
"$ODOO_PYTHON" -m odoo i18n export -c "$rc" -d "$db" ${modules//,/ }
for module in ${modules//,/ }; do
    echo "i18n: $module/i18n/$module.pot ($(grep -c '^msgid ' "$module/i18n/$module.pot") messages)"
done
