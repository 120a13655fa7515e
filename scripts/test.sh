#!/usr/bin/env bash
# The suite's test command: lint, the pure tier, then the Odoo tier when an Odoo 19 is importable.
#
#   scripts/test.sh               run everything that can run here
#   ODOO_PYTHON=/path/to/python   the interpreter that imports odoo (default: python3)
#   ODOO_RC=/path/to/odoo.conf    its configuration (addons_path must include this directory)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] && PYTHON=.venv/bin/python

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
# A lint failure fails the run at the end, after the tests have run.
lint_verdict() {
    if [ "$lint" -ne 0 ]; then
        echo "lint failed: see its findings above" >&2
        exit 1
    fi
}

echo "== tier 1: pure engine tests"
# pytest-odoo, when installed in this interpreter, would hook the run; -p no:odoo keeps it out.
set +e
"$PYTHON" -m pytest -p no:odoo -p no:cacheprovider "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "tier 1 collected no test: failing" >&2
    exit 1
elif [ "$status" -ne 0 ]; then
    exit "$status"
fi

echo "== tier 2: Odoo tests"
ODOO_PYTHON=${ODOO_PYTHON:-python3}
if ! "$ODOO_PYTHON" -c "import odoo" 2>/dev/null; then
    echo "SKIPPED tier 2: '$ODOO_PYTHON -c \"import odoo\"' fails here (no Odoo 19 installed)."
    echo "Set ODOO_PYTHON (and ODOO_RC) to an Odoo 19 interpreter to run it."
    lint_verdict
    exit 0
fi
scripts/test_odoo.sh
lint_verdict
