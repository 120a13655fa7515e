#!/usr/bin/env bash
# The suite's test command: lint, the pure tier, then every addon's Odoo tests (browser suites
# included) on a throwaway database. Set up first with scripts/setup.sh [--odoo PATH].
#
#   scripts/test.sh [pytest args]   run everything that can run here
#   ODOO_PYTHON=/path/to/python     an interpreter that imports Odoo 19 (default: .venv's python)
#   ODOO_RC=/path/to/odoo.conf      its configuration (database connection, addons_path)
#   AIA_REQUIRE_ODOO=1              a tier 2 that cannot run, or a skipped test in it, is a failure
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/python ]; then
    PYTHON=.venv/bin/python
elif [ -n "${PYTHON:-}" ]; then
    :
else
    echo "scripts/test.sh: no .venv here: run scripts/setup.sh first (add --odoo PATH for the Odoo tier)." >&2
    exit 1
fi
if ! "$PYTHON" -c "import pytest, jsonschema, anthropic, openai" 2>/dev/null; then
    echo "scripts/test.sh: $PYTHON lacks the suite's requirements: run scripts/setup.sh first." >&2
    exit 1
fi

lint=0
if "$PYTHON" -m pre_commit --version >/dev/null 2>&1 && git rev-parse --git-dir >/dev/null 2>&1; then
    # .pre-commit-config.yaml: ruff, pylint-odoo, the OCA module checks, prettier; check-only.
    # Like git, pre-commit sees tracked files only: `git add` new files to have them linted.
    echo "== lint (pre-commit)"
    "$PYTHON" -m pre_commit run --all-files --show-diff-on-failure || lint=1
else
    echo "== lint (ruff only: pre-commit or git missing here)"
    "$PYTHON" -m ruff check . || lint=1
    "$PYTHON" -m ruff format --check . || lint=1
fi

echo "== tier 1: pure engine tests"
# pytest-odoo, installed beside Odoo for the quick loop, would hook the run; -p no:odoo keeps it out.
pure_log=$(mktemp)
set +e
"$PYTHON" -m pytest -p no:odoo -p no:cacheprovider "$@" | tee "$pure_log"
status=${PIPESTATUS[0]}
set -e
count() {
    local n
    n=$(grep -Eo "[0-9]+ $1" <<<"$2" | head -1 | cut -d' ' -f1 || true)
    echo "${n:-0}"
}
summary=$(grep -E "^=+ .*(passed|failed|error).* in [0-9.]+s" "$pure_log" | tail -1 || true)
rm -f "$pure_log"
pure_passed=$(count passed "$summary")
pure_failed=$(($(count failed "$summary") + $(count error "$summary")))
if [ "$status" -eq 5 ]; then
    echo "tier 1 collected no test: failing" >&2
    exit 1
fi

echo "== tier 2: Odoo tests"
ODOO_PYTHON=${ODOO_PYTHON:-$PYTHON}
# Run a tier-2 script, showing its output: its status in run_status, its last
# "<name>: N passed, M failed" line in line.
run_counted() {
    local log
    log=$(mktemp)
    set +e
    ODOO_PYTHON=$ODOO_PYTHON "$1" | tee "$log"
    run_status=${PIPESTATUS[0]}
    set -e
    line=$(grep -E "^$2: [0-9]+ passed, [0-9]+ failed" "$log" | tail -1 || true)
    rm -f "$log"
}
odoo_passed=0
odoo_failed=0
odoo_status=0
if "$ODOO_PYTHON" -c "import odoo.release" 2>/dev/null; then
    run_counted scripts/test_odoo.sh odoo
    odoo_status=$run_status
    odoo_passed=$(count passed "$line")
    odoo_failed=$(count failed "$line")
    [ "$odoo_status" -ne 0 ] && [ "${odoo_failed:-0}" -eq 0 ] && odoo_failed=1
    echo "== tier 2: install, uninstall, reinstall"
    run_counted scripts/test_lifecycle.sh lifecycle
    odoo_passed=$((odoo_passed + $(count passed "$line")))
    odoo_failed=$((odoo_failed + $(count failed "$line")))
    if [ "$run_status" -ne 0 ] || [ -z "$line" ]; then
        odoo_status=1
        [ "$(count failed "$line")" -eq 0 ] && odoo_failed=$((odoo_failed + 1))
    fi
elif [ "${AIA_REQUIRE_ODOO:-}" = 1 ]; then
    echo "tier 2 cannot run: '$ODOO_PYTHON' does not import Odoo 19 (run scripts/setup.sh --odoo PATH)." >&2
    odoo_status=1
    odoo_failed=1
else
    echo "SKIPPED tier 2: '$ODOO_PYTHON' does not import Odoo 19; run scripts/setup.sh --odoo PATH to add it."
fi

[ "$lint" -ne 0 ] && echo "lint failed: see its findings above" >&2
total_passed=$((${pure_passed:-0} + ${odoo_passed:-0}))
total_failed=$((${pure_failed:-0} + ${odoo_failed:-0}))
echo "tests: $total_passed passed, $total_failed failed"
[ "$lint" -eq 0 ] && [ "$status" -eq 0 ] && [ "$odoo_status" -eq 0 ]
