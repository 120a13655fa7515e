"""What the MCP server offers an API key's user, and how a call of it runs.

For each agent the user may use (record rules decide: the agents of their company and the shared
ones), the server lists:

- ``<agent code>.<tool>`` for each tool the agent offers (``assistant.orm.search_read``): a call
  runs as a turn of a session of its own (channel ``mcp``) whose "model" asks for exactly this
  call (:mod:`ai_mcp.direct_call`), so it goes through every check of a chat turn: the agent's
  tool allowlist and schema, rate limits and call budgets, read-only agents, shadow mode and
  approvals, the session user's rights in the session's company, the audit row and the ledger.
  Knowledge search is one of these tools (``kb.search``, with ``ai_kb``) on agents that have it.
- ``<agent code>.ask``: a question to the agent, answered by a turn as the REST chat runs one.

A tool the listing would not show (another company's agent, a write tool of a read-only agent,
a name that does not exist) is an unknown tool: a protocol error, and nothing runs.
"""

import logging
import re

from jsonschema import Draft202012Validator

from odoo.exceptions import UserError

from odoo.addons.ai_core import turn
from odoo.addons.ai_core.ai_engine import ApprovalRequired, Done, Error, ToolResult, WouldExecute

from . import mcp_wire as protocol
from .direct_call import CALL_ID

_logger = logging.getLogger(__name__)

types = protocol.types
# SEP-986, as mcp.shared.tool_name_validation checks it.
TOOL_NAME = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
ASK = "ask"
ASK_SCHEMA = {
    "type": "object",
    "properties": {
        "question": {"type": "string", "minLength": 1, "description": "What to ask the agent."},
    },
    "required": ["question"],
    "additionalProperties": False,
}
ASK_VALIDATOR = Draft202012Validator(ASK_SCHEMA)


class OdooHandler(protocol.Handler):
    """The MCP methods for the request's user (``env``: the API key's user, in their company)."""

    def __init__(self, env, call, take_slot):
        self.env = env
        self.call = call
        self.take_slot = take_slot
        self._entries = None
        self.refusal = None

    def instructions(self):
        return (
            "Tools of the Odoo AI agents you may use, named <agent>.<tool>; <agent>.ask puts a "
            "question to the agent itself. Write tools obey each agent's shadow mode (a preview, "
            "nothing written) and approvals (the call waits for a person's decision)."
        )

    # === LISTING === #

    def entries(self):
        """``{name: (agent, spec or None for ask, setup)}`` of what the user may call."""
        if self._entries is None:
            self._entries = {}
            for agent in self._agents():
                setup = agent.sudo()._aia_setup(self.env.company)
                config = setup["config"]
                names = {f"{agent.code}.{ASK}": None}
                for spec in setup["tools"]:
                    if spec.mode == "write" and config.read_only:
                        continue  # never offered to the model either
                    names[f"{agent.code}.{spec.name}"] = spec
                for name, spec in names.items():
                    if TOOL_NAME.match(name):
                        self._entries[name] = (agent, spec, setup)
                    else:
                        _logger.debug("aia.mcp: %s is not a valid MCP tool name, not listed", name)
        return self._entries

    def _agents(self):
        """The active agents of the user's company, else the shared one, per code (as the REST
        API finds them); record rules apply."""
        env = self.env
        agents = env["aia.agent"].search([("company_id", "in", [env.company.id, False])], order="code, id")
        by_code = {}
        for agent in agents.sorted(lambda a: (a.code, not a.company_id)):
            by_code.setdefault(agent.code, agent)
        return list(by_code.values())

    def list_tools(self):
        return [self._tool(name, *entry) for name, entry in self.entries().items()]

    def _tool(self, name, agent, spec, setup):
        config = setup["config"]
        if spec is None:
            writes = (
                not config.read_only
                and not config.shadow_mode
                and any(tool.mode == "write" for tool in setup["tools"])
            )
            return types.Tool(
                name=name,
                title=agent.name,
                description=(agent.description or agent.name) + " Ask this agent; it answers with "
                "its sources.",
                input_schema=ASK_SCHEMA,
                annotations=types.ToolAnnotations(
                    title=agent.name,
                    # What its turn may do: write only through write tools that run for real.
                    read_only_hint=not writes,
                    destructive_hint=writes,
                    # Each question is a turn of its own: the answer may differ.
                    idempotent_hint=False,
                ),
            )
        write = spec.mode == "write"
        # In shadow mode a write is previewed, nothing is written: the call is a read.
        writes = write and not config.shadow_mode
        description = spec.description
        if write and config.shadow_mode:
            description += " (Shadow mode: the call returns a preview; nothing is written.)"
        elif write and config.approval_mode == "write":
            description += " (Needs approval: the call waits for a person's decision.)"
        return types.Tool(
            name=name,
            title=spec.display_name or spec.name,
            description=description,
            input_schema=spec.input_schema,
            output_schema=spec.output_schema,
            annotations=types.ToolAnnotations(
                title=f"{agent.name}: {spec.display_name or spec.name}",
                read_only_hint=not writes,
                # The catalogue does not tell an update from a delete: a write may destroy.
                destructive_hint=writes,
                idempotent_hint=not write,
            ),
        )

    # === CALLS === #

    def call_tool(self, name, arguments):
        entry = self.entries().get(name)
        if entry is None:
            raise protocol.McpError(
                protocol.jsonrpc.INVALID_PARAMS,
                f"Unknown tool: {name}. tools/list names the tools this API key may call.",
            )
        agent, spec, _setup = entry
        self.call.agent = agent.code
        if spec is None:
            return self._ask(agent, arguments)
        return self._run_tool(agent, spec, arguments)

    def _open_session(self, agent, name, mcp_call=None):
        # One session per call: its chatter is not followed, its creation and state changes are
        # not logged there (the session, its execution and ledger rows say what happened).
        env = self.env(
            context=dict(
                self.env.context, mail_create_nolog=True, mail_create_nosubscribe=True, mail_notrack=True
            )
        )
        session = env["aia.session"].create({"agent_id": agent.id, "name": f"MCP: {name}"})
        session.sudo().write({"channel": "mcp", "mcp_call": mcp_call})
        self.call.session_id = session.id
        return session

    def _accept(self, session, text):
        """The user's message, committed before the turn runs (as the REST chat does); None when
        the turn service refuses it (a budget, an empty question): the caller says why."""
        try:
            return turn.accept(session, text, run_in_request=True)
        except turn.AgentsDisabled as exc:
            raise protocol.McpError(protocol.AGENTS_DISABLED, str(exc)) from exc
        except UserError as exc:
            self.refusal = str(exc)
            return None

    def _run_tool(self, agent, spec, arguments):
        with self.take_slot():
            session = self._open_session(agent, spec.name, {"name": spec.wire_name, "arguments": arguments})
            message = self._accept(session, f"MCP client: tools/call {spec.name}")
            if message is None:
                return _result(self.refusal, {"session_id": session.id}, is_error=True)
            events = list(session._aia_run_turn(user_message=message))
            # The transcript holds the call now; a resumed approval needs nothing more.
            session.sudo().mcp_call = {"name": spec.wire_name}
        session.invalidate_recordset()
        held = next((e for e in events if isinstance(e, (ApprovalRequired, WouldExecute))), None)
        result = next((e for e in events if isinstance(e, ToolResult)), None)
        meta = {"session_id": session.id}
        if isinstance(held, ApprovalRequired):
            approval = session.sudo().approval_ids.filtered(lambda a: a.call_id == CALL_ID)[:1]
            text = (
                f"Not executed yet: this write awaits approval #{approval.id} (session {session.id}). "
                f"It runs when a person approves it. It would: {held.preview}"
            )
            data = {
                "executed": False,
                "awaiting_approval": True,
                "approval_id": approval.id,
                "preview": held.preview,
            }
            return _result(text, data | meta)
        if isinstance(held, WouldExecute):
            text = f"Not executed (shadow mode): nothing was written. It would have: {held.preview}"
            data = {"executed": False, "shadow_mode": True, "preview": held.preview}
            return _result(text, data | meta)
        if result is None:
            return _result(_failure(events, session), meta, is_error=True)
        output = result.output if isinstance(result.output, dict) else None
        if result.status != "ok":
            return _result(result.content, meta | {"status": result.status}, is_error=True)
        return _result(result.content, output)

    def _ask(self, agent, arguments):
        errors = sorted(ASK_VALIDATOR.iter_errors(arguments), key=str)
        if errors:
            return _result(f"Invalid arguments: {errors[0].message}", None, is_error=True)
        with self.take_slot():
            session = self._open_session(agent, ASK)
            message = self._accept(session, arguments["question"])
            if message is None:
                return _result(self.refusal, {"session_id": session.id}, is_error=True)
            events = list(session._aia_run_turn(user_message=message))
        session.invalidate_recordset()
        done = next((e for e in events if isinstance(e, Done)), None)
        data = {"session_id": session.id, "state": session.state}
        if done is None or done.stop_reason == "error":
            return _result(_failure(events, session), data, is_error=True)
        citations = list(done.citations)
        text = done.text
        held = next((e for e in events if isinstance(e, ApprovalRequired)), None)
        if held is not None:
            approval = session.sudo().approval_ids.filtered(lambda a: a.call_id == held.call_id)[:1]
            data["approval_id"] = approval.id
            text = (text + "\n\n" if text else "") + (
                f"The agent waits for approval #{approval.id} of: {held.preview}"
            )
        return _result(text, data | {"answer": done.text, "citations": citations})


def _failure(events, session):
    error = next((e for e in events if isinstance(e, Error)), None)
    return (error and error.message) or session.error_message or "The call ended without a result."


def _result(text, data, is_error=False):
    """A ``CallToolResult``: ``text`` for the client's model, ``data`` as structured content."""
    return types.CallToolResult(
        content=[types.TextContent(text=text)],
        structured_content=data if data else None,
        is_error=is_error,
    )
