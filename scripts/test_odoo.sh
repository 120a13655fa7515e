#!/usr/bin/env bash
# Tier 2: install every addon of this repository in a fresh database with --test-enable and run
# their tests (post_install), browser suites included. Needs an Odoo 19 importable by $ODOO_PYTHON
# and a PostgreSQL server. Ends with the plain line `odoo: N passed, M failed`.
#
#   ODOO_PYTHON      interpreter that imports odoo (default: .venv's python, else python3)
#   ODOO_RC          optional odoo.conf (database connection, addons_path of Odoo and queue_job)
#   AIA_MODULES      comma-separated addons to test (default: every addon here)
#   AIA_TEST_TAGS    Odoo --test-tags (default: every test of AIA_MODULES)
#   AIA_HTTP_PORT    port for HttpCase tests (default: a free one)
#   AIA_REQUIRE_ODOO=1  a skipped test, or a browser suite whose success is not in the log, fails
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)
. scripts/odoo_python.sh
modules=${AIA_MODULES:-$(for manifest in */__manifest__.py; do dirname "$manifest"; done | paste -sd, -)}
if [ -z "$modules" ]; then
    echo "SKIPPED tier 2: no addon in this repository yet."
    exit 0
fi
tags=${AIA_TEST_TAGS:-$(echo "$modules" | sed 's/\([^,]*\)/\/\1/g')}
# A free port for HttpCase and the browser (a fixed one may be taken by a running Odoo).
port=${AIA_HTTP_PORT:-$("$ODOO_PYTHON" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")}

addons_path=$(scripts/addons_path.sh)

db="aia_test_$$"
log=$(mktemp)
args=(-d "$db" -i "$modules" --test-enable --test-tags "$tags" --stop-after-init
      --addons-path "$addons_path" --http-port "$port" --log-level test)
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

echo "Odoo tier: full log in $log"
grep -E "(ERROR|FAIL): |odoo.tests.result|odoo.tests.stats" "$log" || true
result=$(grep -E "odoo.tests.result: [0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$log" | tail -1 || true)
if [ -z "$result" ]; then
    echo "Odoo tier: no test result in the log (exit $status); last lines:" >&2
    tail -40 "$log" >&2
    exit 1
fi
failed=$(echo "$result" | sed -E 's/.*: ([0-9]+) failed, ([0-9]+) error.* of ([0-9]+) tests.*/\1 \2 \3/')
read -r nfail nerr ntotal <<<"$failed"
problems=0
if [ "$ntotal" -eq 0 ]; then
    echo "Odoo tier ran no test: failing" >&2
    problems=1
fi

# Browser suites: Odoo counts a browser test without Chromium (or websocket-client) as skipped yet
# passed, so their own success lines are counted against the suites the tests start.
suites=$(for module in ${modules//,/ }; do cat "$module"/tests/*.py 2>/dev/null; done)
hoot_expected=$(grep -c "run_hoot_suite(self" <<<"$suites" || true)
tour_expected=$(grep -c "self.start_tour(" <<<"$suites" || true)
# What the browser itself printed (a traceback quoting "tour succeeded" does not count).
browser_lines=$(grep -E "\.browser: (\[HOOT\] Passed [0-9]+ tests|tour succeeded)" "$log" || true)
hoot_passed=$(grep -c "\[HOOT\] Passed" <<<"$browser_lines" || true)
tour_passed=$(grep -c "tour succeeded" <<<"$browser_lines" || true)
[ -z "$browser_lines" ] || sed -E 's/^.* ([^ ]+)\.browser: /browser: \1: /' <<<"$browser_lines"
echo "browser suites: Hoot $hoot_passed of $hoot_expected passed, tours $tour_passed of $tour_expected succeeded"
skipped=$(grep -E "odoo\.tests\.result: skipped | skipped .* : " "$log" || true)
if [ "${AIA_REQUIRE_ODOO:-}" = 1 ]; then
    if [ -n "$skipped" ]; then
        echo "$skipped" >&2
        echo "Odoo tier: tests were skipped (see above): failing" >&2
        problems=1
    fi
    if [ -z "${AIA_TEST_TAGS:-}" ] && { [ "$hoot_passed" -lt "$hoot_expected" ] || [ "$tour_passed" -lt "$tour_expected" ]; }; then
        echo "Odoo tier: a browser suite did not really run (Chromium and websocket-client needed)" >&2
        problems=1
    fi
fi
echo "odoo: $((ntotal - nfail - nerr)) passed, $((nfail + nerr)) failed"
[ "$status" -eq 0 ] && [ "$nfail" -eq 0 ] && [ "$nerr" -eq 0 ] && [ "$problems" -eq 0 ]
