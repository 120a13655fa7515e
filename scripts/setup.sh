#!/usr/bin/env bash
# Set up this repository's virtualenv (.venv): the suite's requirements, the test and lint tools,
# and, given an Odoo 19 source, Odoo itself with queue_job and what the browser tests need.
# Idempotent: a second run reuses what is there.
#
#   scripts/setup.sh                         the pure tier and lint only
#   scripts/setup.sh --odoo PATH             PATH: an Odoo 19.0 source tree (a git clone of
#                                            odoo/odoo at 19.0) or an archive of one (.tar.xz/.tar.gz)
#   ODOO_SRC=PATH scripts/setup.sh           the same
#   --core-only                              without the knowledge stack (ai_kb: torch,
#                                            sentence-transformers, qdrant-client, pypdf)
#
#   AIA_VENV          virtualenv to use (default: .venv here)
#   AIA_TORCH_INDEX   package index of CPU-only torch wheels (default: PyTorch's CPU index), used
#                     when no torch wheel is available locally
#   AIA_NO_APT=1      never call apt-get (print what is missing instead)
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)

odoo_src=${ODOO_SRC:-}
core_only=0
while [ $# -gt 0 ]; do
    case "$1" in
        --odoo) odoo_src=${2:?--odoo needs a path}; shift 2 ;;
        --odoo=*) odoo_src=${1#--odoo=}; shift ;;
        --core-only) core_only=1; shift ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

venv=${AIA_VENV:-$here/.venv}
python=$venv/bin/python
torch_version=2.13.0
torch_index=${AIA_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}

say() { echo "== setup: $*"; }
die() { echo "setup.sh: $*" >&2; exit 1; }

apt_install() {
    # Debian packages, installed only when missing and when this user may install them.
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "${AIA_NO_APT:-}" = 1 ] || ! command -v apt-get >/dev/null || [ "$(id -u)" -ne 0 ]; then
        die "install these Debian/Ubuntu packages first (as root: apt-get install ${missing[*]})."
    fi
    say "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

pip() { "$python" -m pip --quiet "$@"; }

command -v python3 >/dev/null || die "python3 (3.10 or later) is needed."
[ -z "$odoo_src" ] || [ -e "$odoo_src" ] || die "no Odoo source at $odoo_src."
if [ ! -x "$python" ]; then
    say "virtualenv $venv"
    python3 -m venv "$venv" || die "'python3 -m venv' failed: install the venv module (apt-get install python3-venv)."
fi
pip install --upgrade pip

# --- Odoo 19 from the source the user names --------------------------------------------------------
if [ -n "$odoo_src" ]; then
    odoo_src=$(cd "$(dirname "$odoo_src")" && pwd)/$(basename "$odoo_src")
    if [ -f "$odoo_src" ]; then
        # An archive: unpacked once under .odoo/, again only when the archive changes.
        stamp=$(sha256sum "$odoo_src" | cut -c1-16)
        tree=$here/.odoo/src-$stamp
        if [ ! -f "$tree/.unpacked" ]; then
            say "unpacking $(basename "$odoo_src")"
            rm -rf "$here"/.odoo/src-*
            mkdir -p "$tree"
            tar -xf "$odoo_src" -C "$tree"
            # An archive with one top folder (e.g. odoo-19.0/) instead of the tree itself.
            if [ ! -e "$tree/odoo/release.py" ]; then
                inner=$(find "$tree" -mindepth 2 -maxdepth 3 -path '*/odoo/release.py' -printf '%h\n' | head -1)
                [ -n "$inner" ] || die "$odoo_src holds no Odoo source (no odoo/release.py inside)."
                inner=$(dirname "$inner")
                find "$inner" -mindepth 1 -maxdepth 1 -exec mv -t "$tree" {} +
            fi
            touch "$tree/.unpacked"
        fi
        odoo_src=$tree
    fi
    [ -f "$odoo_src/odoo/release.py" ] || die "$odoo_src is not an Odoo source tree (no odoo/release.py)."
    grep -Eq "^version_info = \(19, 0" "$odoo_src/odoo/release.py" \
        || die "$odoo_src is not Odoo 19.0 ($(grep -E '^version_info' "$odoo_src/odoo/release.py"))."

    # A trimmed Odoo source (fewer addons than Odoo's) may refer to addons and module categories
    # it lacks, and no database could be created: placeholders for them, outside the source tree.
    rm -rf "$here/.odoo/placeholders" "$here/.odoo/categories"
    python3 scripts/odoo_placeholders.py "$odoo_src" "$here/.odoo/placeholders"

    # Build headers for python-ldap and psycopg2; Chromium for the Hoot suites and tours.
    apt_install libldap2-dev libsasl2-dev libpq-dev build-essential chromium

    if ! "$python" -c "import odoo.release as r, sys; sys.exit(r.version_info[:2] != (19, 0))" 2>/dev/null \
        || [ "$("$python" -c 'import odoo.release, os; print(os.path.dirname(os.path.dirname(odoo.release.__file__)))' 2>/dev/null)" != "$odoo_src" ]; then
        say "Odoo's requirements (from $odoo_src/requirements.txt)"
        # Odoo installs psycopg2 from source; psycopg2-binary would overwrite the same package.
        "$python" -m pip uninstall --quiet -y psycopg2-binary 2>/dev/null || true
        # cbor2's pin builds only with an old setuptools in its build environment: for this step only.
        constraint=$(mktemp)
        echo "setuptools<70" >"$constraint"
        PIP_CONSTRAINT=$constraint PIP_BUILD_CONSTRAINT=$constraint pip install -r "$odoo_src/requirements.txt"
        rm -f "$constraint"
        say "Odoo itself (editable, from $odoo_src)"
        pip install --no-deps --config-settings editable_mode=compat -e "$odoo_src"
    fi
fi

# --- The suite ---------------------------------------------------------------------------------------
if [ "$core_only" -eq 1 ]; then
    say "the suite's requirements (core only: no knowledge bases)"
    pip install -r requirements.txt
else
    # A CPU build of torch first: sentence-transformers alone would pull the multi-GB CUDA build.
    if ! "$python" -c "import torch" 2>/dev/null; then
        say "torch $torch_version (CPU build)"
        # A wheel already in a local wheelhouse (pip's find-links) wins; else PyTorch's CPU index.
        if pip install --no-index --no-deps "torch==$torch_version" 2>/dev/null; then
            pip install "torch==$torch_version"
        else
            pip install --extra-index-url "$torch_index" "torch==$torch_version+cpu"
        fi
    fi
    say "the suite's requirements, knowledge bases included"
    pip install -r requirements-kb.txt
fi
# pkg_resources is gone from setuptools 81, and gevent (Odoo) still imports it.
pip install "setuptools>=77.0.3,<81"
if "$python" -c "import odoo.release" 2>/dev/null; then
    say "queue_job, browser-test and quick-loop tools"
    # queue_job from PyPI without its dependencies (they would pull another Odoo); it lands in
    # site-packages/odoo/addons, which Odoo's namespace package finds.
    pip install -r requirements-test.txt openupgradelib websocket-client pytest-odoo
    pip install --no-deps "odoo-addon-queue-job==19.0.*"
    # The newest lxml-html-clean wants an lxml that replaces Odoo's pin.
    lxml_pin=$("$python" -c "import lxml; print(lxml.__version__)")
    constraint=$(mktemp)
    echo "lxml==$lxml_pin" >"$constraint"
    pip install -c "$constraint" lxml-html-clean
    rm -f "$constraint"
else
    pip install -r requirements-test.txt
    # The pgvector store tests connect to PostgreSQL (with Odoo, its own psycopg2 serves).
    "$python" -c "import psycopg2" 2>/dev/null || pip install "psycopg2-binary>=2.9,<3"
fi
"$python" -m pip check >/dev/null || {
    "$python" -m pip check >&2
    die "the virtualenv's dependencies conflict (see above)."
}

# The lint hooks' own environments, from PyPI and npm.
if git rev-parse --git-dir >/dev/null 2>&1; then
    say "lint hooks"
    "$python" -m pre_commit install-hooks >/dev/null
fi

if "$python" -c "import odoo.release" 2>/dev/null; then
    say "done: Odoo $("$python" -c 'import odoo.release as r; print(r.version)') in $venv"
else
    say "done: $venv (pure tier and lint; add Odoo with --odoo PATH)"
fi
