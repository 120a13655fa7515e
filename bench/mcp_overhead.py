"""What the MCP server adds to a tool call: ``tools/call`` over HTTP against the same tool called
in-process.

One read tool (``orm.count`` on contacts) of a benchmark agent, called as an AI user, three ways,
interleaved so that all see the same load:

1. baseline: the tool's handler called in-process, as that user, with the Odoo tool context a turn
   gives it (the session's company, the agent's allowed models), on a fresh cursor;
2. the same call as a turn of an MCP session (what the server runs for a ``tools/call``: session,
   message, audit and ledger rows, commits), in-process, without HTTP;
3. a ``tools/call`` JSON-RPC POST to ``/aia/mcp`` over HTTP on 127.0.0.1 (keep-alive), served by
   Odoo's WSGI application in a thread of this process (API key check, rate limit, protocol).

Run with the interpreter that imports Odoo 19, on a database with ``ai_mcp`` installed:
``.venv/bin/python bench/mcp_overhead.py -c odoo.conf -d aia_bench [--calls 30]``. It creates
(once) the user ``aia_bench_mcp``, an API key and the agent ``bench_mcp``; the sessions of the run
stay in the database.
"""

import json
import sys
import threading
import time
from datetime import datetime, timedelta
from http.client import HTTPConnection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from odoo_bench import command_line, interleaved, median_ms, superuser_env

LOGIN = "aia_bench_mcp"
AGENT = "bench_mcp"
TOOL = "orm.count"
ARGUMENTS = {"model": "res.partner", "domain": [["active", "=", True]]}


def setup(env):
    """The benchmark's user (AI user), API key and agent; returns (user id, key)."""
    users = env["res.users"].with_context(active_test=False)
    user = users.search([("login", "=", LOGIN)])
    if not user:
        user = users.create(
            {
                "name": "Bench MCP",
                "login": LOGIN,
                "group_ids": [
                    (4, env.ref("base.group_user").id),
                    (4, env.ref("base.group_partner_manager").id),
                    (4, env.ref("ai_core.group_aia_user").id),
                ],
            }
        )
    agent = env["aia.agent"].search([("code", "=", AGENT)])
    if not agent:
        model = env["aia.model"].search([], limit=1)
        if not model:
            provider = env["aia.provider"].create({"name": "Bench MCP (never called)", "api_key": "unused"})
            model = env["aia.model"].create({"name": "claude-sonnet-4-6", "provider_id": provider.id})
        agent = env["aia.agent"].create(
            {
                "code": AGENT,
                "name": "Bench MCP",
                "model_id": model.id,
                "tool_ids": [(6, 0, env["aia.tool"].search([("name", "=", TOOL)]).ids)],
                "allowed_model_ids": [(6, 0, [env.ref("base.model_res_partner").id])],
            }
        )
    expiration = datetime.now() + timedelta(hours=1)
    key = env["res.users.apikeys"].with_user(user)._generate("rpc", "bench mcp", expiration)
    env["ir.config_parameter"].set_param("aia.api_rate_limit_per_minute", "0")
    return user.id, agent.id, key


def main():
    parser = command_line(__doc__)
    parser.add_argument("--calls", type=int, default=30, help="calls per way (after one warm-up)")
    args = parser.parse_args()
    with superuser_env(args) as env:
        uid, agent_id, key = setup(env)
        env.cr.commit()
        registry = env.registry

    from werkzeug.serving import make_server

    import odoo
    from odoo.http import root

    from odoo.addons.ai_core.tools import OdooToolContext
    from odoo.addons.ai_mcp.catalogue import OdooHandler

    def in_process(_index):
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, uid, {})
            agent = env["aia.agent"].browse(agent_id)
            setup = agent.sudo()._aia_setup(env.company)
            spec = setup["tools"].get(TOOL)
            context = OdooToolContext(env, allowed_models=setup["allowed_models"])
            return context.invoke(spec.handler, dict(ARGUMENTS), timeout=spec.timeout)["count"]

    class _Call:
        agent = session_id = None

    class _Slot:
        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            return False

    def as_turn(_index):
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, uid, {})
            agent = env["aia.agent"].browse(agent_id)
            result = OdooHandler(env, _Call(), _Slot).call_tool(f"{agent.code}.{TOOL}", ARGUMENTS)
            return result.structured_content["count"]

    server = make_server("127.0.0.1", 0, root, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    connection = HTTPConnection("127.0.0.1", server.server_port, timeout=60)
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-11-25",
        "X-Odoo-Database": args.database,
    }

    def over_http(index):
        body = {
            "jsonrpc": "2.0",
            "id": index,
            "method": "tools/call",
            "params": {"name": f"{AGENT}.{TOOL}", "arguments": ARGUMENTS},
        }
        connection.request("POST", "/aia/mcp", json.dumps(body), headers)
        response = connection.getresponse()
        data = json.loads(response.read())
        if response.status != 200 or "result" not in data:
            raise RuntimeError(f"{response.status}: {data}")
        return data["result"]["structuredContent"]["count"]

    cases = {"in-process": in_process, "turn": as_turn, "http": over_http}
    for case in cases.values():
        case(0)  # warm-up: setup cache, first connection
    started = time.monotonic()
    measured = interleaved(cases, args.calls)
    server.shutdown()
    counts = {name: figures["result"] for name, figures in measured.items()}
    if len(set(counts.values())) != 1:
        raise RuntimeError(f"the three ways count differently: {counts}")
    base = median_ms(measured["in-process"]["seconds"])
    print(f"{args.calls} calls per way in {time.monotonic() - started:.1f} s; count {counts['http']}")
    print("| way | median (ms) | queries | ratio | added over in-process (ms) |")
    print("|---|---|---|---|---|")
    labels = {
        "in-process": "baseline: the tool's handler in-process",
        "turn": "the same call as an MCP session's turn, in-process",
        "http": "`tools/call` over HTTP to `/aia/mcp`",
    }
    for name, label in labels.items():
        figures = measured[name]
        ms = median_ms(figures["seconds"])
        queries = sorted(figures["queries"])[len(figures["queries"]) // 2]
        added = "" if name == "in-process" else f"+{ms - base:.1f}"
        print(f"| {label} | {ms:.1f} | {queries} | {ms / base:.2f}x | {added} |")


if __name__ == "__main__":
    main()
