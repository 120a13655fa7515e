"""The executions route of the REST API: the audit of an agent's tool calls."""

from odoo import http
from odoo.http import request

from .helpers import api_route, find_agent, int_arg, json_response

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def _execution_data(execution):
    return {
        "id": execution.id,
        "session_id": execution.session_id.id,
        "call_id": execution.call_id,
        "tool": execution.tool_name,
        "status": execution.status,
        "arguments": execution.arguments,
        "content": execution.content,
        "preview": execution.preview,
        "result_size": execution.result_size,
        "latency_ms": execution.latency_ms,
        "create_date": execution.create_date,
    }


class AiaExecutionsApi(http.Controller):
    @api_route("/aia/v1/agents/<string:code>/executions", "executions", kill_switch=False)
    def executions(self, call, code, limit=None, offset=None, **kwargs):
        """The tool executions of the agent this key's user may read, newest first."""
        agent = find_agent(call, code)
        limit = int_arg(limit, DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        offset = int_arg(offset, 0, 0)
        Execution = request.env["aia.tool.execution"]
        domain = [("agent_id", "=", agent.id)]
        total = Execution.search_count(domain)
        rows = Execution.search(domain, limit=limit, offset=offset, order="id desc")
        following = offset + len(rows)
        data = {
            "request_id": call.request_id,
            "executions": [_execution_data(execution) for execution in rows],
            "total": total,
            "limit": limit,
            "offset": offset,
            "next_offset": following if following < total else None,
        }
        return json_response(call, data)
