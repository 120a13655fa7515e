# Sourced by the scripts (from the repository's root): ODOO_PYTHON, the interpreter that imports
# Odoo 19, defaults to the project's .venv (scripts/setup.sh), else python3; exported for the
# scripts they start.
default_python=python3
[ -x .venv/bin/python ] && default_python=.venv/bin/python
export ODOO_PYTHON=${ODOO_PYTHON:-$default_python}
