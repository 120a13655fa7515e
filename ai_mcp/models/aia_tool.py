from odoo import api, fields, models


class AiaTool(models.Model):
    _inherit = "aia.tool"

    kind = fields.Selection(selection_add=[("mcp", "MCP server tool")], ondelete={"mcp": "cascade"})
    mcp_server_id = fields.Many2one(
        "aia.mcp.server", "MCP server", ondelete="cascade", index="btree_not_null", groups="base.group_system"
    )
    mcp_tool_name = fields.Char("Remote tool", readonly=True, help="The tool's name on its MCP server.")

    @api.depends("mcp_tool_name")
    def _compute_is_available(self):
        mcp_tools = self.filtered(lambda t: t.kind == "mcp")
        for tool in mcp_tools:
            tool.is_available = bool(tool.sudo().mcp_server_id.active)
        return super(AiaTool, self - mcp_tools)._compute_is_available()

    # === BUSINESS METHODS === #

    def _aia_spec(self):
        self.ensure_one()
        if self.kind != "mcp":
            return super()._aia_spec()
        server = self.sudo().mcp_server_id
        return server._aia_tool_spec(self) if server else None
