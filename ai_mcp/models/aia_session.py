from odoo import fields, models

from ..direct_call import DirectCall


class AiaSession(models.Model):
    _inherit = "aia.session"

    channel = fields.Selection(selection_add=[("mcp", "MCP")], ondelete={"mcp": "set default"})
    # Written by the MCP server only (with superuser rights; a user's own write of it is refused
    # like any field outside ai_core's USER_WRITE_FIELDS): the tool call this session runs.
    mcp_call = fields.Json(
        "MCP tool call",
        readonly=True,
        copy=False,
        help="The tool call (wire name, arguments) an MCP client asked for; the session runs it alone.",
    )

    def _aia_runner(self, recorder, resuming=False):
        runner = super()._aia_runner(recorder, resuming)
        call = self.sudo().mcp_call
        if call:
            # The same turn, with the client's call in the model's place: a resumed approval
            # runs the held write and ends, without ever calling a provider.
            runner.adapter = DirectCall(call["name"], call.get("arguments") or {})
            runner.knowledge = None
        return runner
