#!/usr/bin/env bash
# Tier 2: install every addon of this repository in a fresh database with --test-enable and run
# their tests (post_install). Needs an Odoo 19 importable by $ODOO_PYTHON and a PostgreSQL server.
#
#   ODOO_PYTHON   interpreter that imports odoo (default: python3)
#   ODOO_RC       optional odoo.conf (database connection, addons_path of Odoo and queue_job)
#   AIA_MODULES   comma-separated addons to test (default: every addon here)
#   AIA_HTTP_PORT port for HttpCase tests (default: 8169)
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)
ODOO_PYTHON=${ODOO_PYTHON:-python3}
modules=${AIA_MODULES:-$(for manifest in */__manifest__.py; do dirname "$manifest"; done | paste -sd, -)}
if [ -z "$modules" ]; then
    echo "SKIPPED tier 2: no addon in this repository yet."
    exit 0
fi
tags=$(echo "$modules" | sed 's/\([^,]*\)/\/\1/g')

addons_path=$(scripts/addons_path.sh)

db="aia_test_$$"
log=$(mktemp)
args=(-d "$db" -i "$modules" --test-enable --test-tags "$tags" --stop-after-init
      --addons-path "$addons_path" --http-port "${AIA_HTTP_PORT:-8169}" --log-level test)
if [ -n "${ODOO_RC:-}" ]; then
    args=(-c "$ODOO_RC" "${args[@]}")
else
    args=(--db_host "${PGHOST:-127.0.0.1}" --db_user "${PGUSER:-$(id -un)}" "${args[@]}")
fi
echo "Odoo tier: modules $modules on throwaway database $db"
set +e
"$ODOO_PYTHON" -m odoo server "${args[@]}" >"$log" 2>&1
status=$?
set -e
dropdb -h "${PGHOST:-127.0.0.1}" -U "${PGUSER:-$(id -un)}" --if-exists "$db" 2>/dev/null || true

grep -E "(ERROR|FAIL): |odoo.tests.result|odoo.tests.stats" "$log" || true
result=$(grep -E "odoo.tests.result: [0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$log" | tail -1 || true)
if [ -z "$result" ]; then
    echo "Odoo tier: no test result in the log (exit $status); last lines:" >&2
    tail -40 "$log" >&2
    exit 1
fi
failed=$(echo "$result" | sed -E 's/.*: ([0-9]+) failed, ([0-9]+) error.* of ([0-9]+) tests.*/\1 \2 \3/')
read -r nfail nerr ntotal <<<"$failed"
if [ "$ntotal" -eq 0 ]; then
    echo "Odoo tier ran no test: failing" >&2
    exit 1
fi
echo "odoo: $((ntotal - nfail - nerr)) passed, $((nfail + nerr)) failed"
[ "$status" -eq 0 ] && [ "$nfail" -eq 0 ] && [ "$nerr" -eq 0 ]
