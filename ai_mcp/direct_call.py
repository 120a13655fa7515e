"""The model of a session that runs one tool call an MCP client asked for.

An MCP ``tools/call`` of an agent's tool runs as a turn of a session of its own, so that it goes
through everything a turn does to a tool call: the schema check, rate limits, call budgets, read-only
agents, shadow mode, approvals (a held write resumes as any other), the audit row and the ledger.
This adapter stands where the provider stands in that turn: it asks for the one call, then ends
the turn. It costs nothing and reads nothing of what the tool returned.
"""

from odoo.addons.ai_core.ai_engine import Message, ModelResponse, TextBlock, TokenUsage, ToolUseBlock

PROVIDER = "mcp"
# The usage rows of a direct call: named after what made them, never after a provider's model.
MODEL = "mcp-direct-call"
CALL_ID = "mcp_call"
DONE_TEXT = "Tool call of an MCP client; its result is above."


class DirectCall:
    """A model adapter (the engine's ``ModelAdapter`` port) asking for ``name`` (wire name) with
    ``arguments``, once; after the call's result (or its refusal), it ends the turn."""

    provider = PROVIDER

    def __init__(self, name, arguments):
        self.name = name
        self.arguments = dict(arguments)

    def stream(self, request):
        if any(message.role == "tool" for message in request.messages):
            message = Message("assistant", (TextBlock(DONE_TEXT),))
            yield ModelResponse(message, "end_turn", TokenUsage(0, 0), MODEL, PROVIDER)
            return
        message = Message("assistant", (ToolUseBlock(CALL_ID, self.name, self.arguments),))
        yield ModelResponse(message, "tool_use", TokenUsage(0, 0), MODEL, PROVIDER)
