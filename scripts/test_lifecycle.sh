#!/usr/bin/env bash
# Install, use, uninstall and reinstall the suite's addons on a throwaway database, and check that
# each addon removed what it stored outside its own tables (vectors, the embedded store's folder,
# the invoicing product, "Run AI Agent" actions and their scheduled actions) and that a reinstall
# starts clean. Ends with the plain line `lifecycle: N passed, M failed`.
#
#   ODOO_PYTHON   interpreter that imports odoo (default: .venv's python, else python3)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/odoo_python.sh
db="aia_lifecycle_$$"
modules=ai_core,ai_kb,ai_automation,ai_billing
connection=(--db_host "${PGHOST:-127.0.0.1}" --db_user "${PGUSER:-$(id -un)}")
odoo=("$ODOO_PYTHON" -m odoo)
common=("${connection[@]}" --addons-path "$(scripts/addons_path.sh)" -d "$db" --log-level warn)
log=$(mktemp)
trap 'dropdb -h "${PGHOST:-127.0.0.1}" -U "${PGUSER:-$(id -un)}" --if-exists "$db" 2>/dev/null || true' EXIT

step() {
    # $1: what the step checks; stdin: Python run in `odoo shell` (env is there); "OK" on success.
    local out
    out=$("${odoo[@]}" shell "${common[@]}" --no-http 2>>"$log" || true)
    if grep -q "^OK$" <<<"$out"; then
        echo "lifecycle: ok: $1"
        passed=$((passed + 1))
    else
        echo "lifecycle: FAILED: $1" >&2
        echo "$out" | tail -15 >&2
        failed=$((failed + 1))
    fi
}
passed=0
failed=0

echo "lifecycle: installing $modules on $db"
"${odoo[@]}" server "${common[@]}" -i "$modules" --stop-after-init >>"$log" 2>&1

step "in use: vectors, a Qdrant folder, a plan on the usage product, an agent action with a scheduled run" <<'PY'
import base64
bases = env["aia.knowledge.base"]
pg = bases.create({"name": "Handbook", "vector_store": "pgvector"})
local = bases.create({"name": "Local", "vector_store": "qdrant_local"})
for base in pg | local:
    document = env["aia.knowledge.document"].create(
        {"name": "Returns", "knowledge_base_id": base.id, "file_name": "returns.md",
         "file": base64.b64encode(b"# Returns\n\nGoods may be returned within 30 days.")}
    )
    env.cr.commit()
    document._aia_job_index(document.index_generation)  # the queued job, run here
    assert document.state == "ready", (document.state, document.error_message)
assert pg._aia_search("return goods", env.company.id), "nothing found"
env["aia.billing.plan"].create({"name": "Standard"})
provider = env["aia.provider"].create({"name": "P", "api_key": "k"})
model = env["aia.model"].create({"name": "m", "provider_id": provider.id})
agent = env["aia.agent"].create({"code": "lifecycle", "name": "Lifecycle", "model_id": model.id})
action = env["ir.actions.server"].create(
    {"name": "Summarise", "state": "ai_agent", "model_id": env.ref("base.model_res_partner").id,
     "aia_agent_id": agent.id, "aia_prompt": "Summarise {{ object.name }}"}
)
env["ir.cron"].create({"ir_actions_server_id": action.id, "interval_number": 1, "interval_type": "days"})
env.cr.commit()
namespace = env["ir.config_parameter"].get_param("aia.kb_namespace")
env.cr.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE %s", [f"aia_kb_{namespace}_%"])
assert env.cr.fetchone()[0] == 1
import os
from odoo.addons.ai_kb import vector_stores
assert os.path.isdir(vector_stores.qdrant_path(env))
print("OK")
PY

step "uninstalled: no vector table, no Qdrant folder, no namespace, no usage product, no agent action or its scheduled run" <<'PY'
import os
from odoo.addons.ai_kb import vector_stores
folder = vector_stores.qdrant_path(env)
namespace = env["ir.config_parameter"].get_param("aia.kb_namespace")
env["ir.module.module"].search([("name", "in", ["ai_kb", "ai_automation", "ai_billing"])]).button_immediate_uninstall()
env.cr.commit()
env.cr.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'aia_kb_%%'")
assert env.cr.fetchone()[0] == 0, "vector tables left"
assert not os.path.exists(folder), "Qdrant folder left"
env.cr.execute("SELECT count(*) FROM ir_config_parameter WHERE key = 'aia.kb_namespace'")
assert env.cr.fetchone()[0] == 0, "namespace left"
env.cr.execute("SELECT count(*) FROM product_product WHERE default_code = 'AI-USAGE'")
assert env.cr.fetchone()[0] == 0, "usage product left"
env.cr.execute("SELECT count(*) FROM ir_act_server WHERE state = 'ai_agent' OR name->>'en_US' = 'Summarise'")
assert env.cr.fetchone()[0] == 0, "agent actions left"
env.cr.execute("SELECT count(*) FROM ir_cron WHERE cron_name = 'Summarise'")
assert env.cr.fetchone()[0] == 0, "scheduled action left"
print("OK")
PY

echo "lifecycle: reinstalling"
"${odoo[@]}" server "${common[@]}" -i "$modules" --stop-after-init >>"$log" 2>&1

step "reinstalled: a new empty base finds nothing of the old ones; the usage product is back" <<'PY'
base = env["aia.knowledge.base"].create({"name": "New and empty", "vector_store": "pgvector"})
assert base.id == 1, "ids restart after a reinstall: the case this checks"
assert base._aia_search("return goods within 30 days", env.company.id) == [], "old passages served"
local = env["aia.knowledge.base"].create({"name": "New local", "vector_store": "qdrant_local"})
assert local._aia_search("return goods within 30 days", env.company.id) == [], "old local passages served"
assert env.ref("ai_billing.product_ai_usage").active
print("OK")
PY

echo "lifecycle: full log in $log"
echo "lifecycle: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
