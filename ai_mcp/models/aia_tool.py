from odoo import api, fields, models
from odoo.exceptions import AccessError

# What ties a tool to a remote one, and whether the server calls it read-only: set by discovery.
_DISCOVERED_FIELDS = {"mcp_tool_name", "mcp_read_only"}


class AiaTool(models.Model):
    _inherit = "aia.tool"

    kind = fields.Selection(selection_add=[("mcp", "MCP server tool")], ondelete={"mcp": "cascade"})
    mcp_server_id = fields.Many2one(
        "aia.mcp.server", "MCP server", ondelete="cascade", index="btree_not_null", groups="base.group_system"
    )
    mcp_tool_name = fields.Char("Remote tool", readonly=True, help="The tool's name on its MCP server.")
    mcp_read_only = fields.Boolean(
        "Read-only on the server",
        readonly=True,
        help="The server marks the tool readOnlyHint; without it the tool is always run as a write tool.",
    )

    @api.depends("mcp_tool_name")
    def _compute_is_available(self):
        mcp_tools = self.filtered(lambda t: t.kind == "mcp")
        for tool in mcp_tools:
            tool.is_available = bool(tool.sudo().mcp_server_id.active)
        return super(AiaTool, self - mcp_tools)._compute_is_available()

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.is_system() and any(
            vals.get("kind") == "mcp" or _DISCOVERED_FIELDS & vals.keys() for vals in vals_list
        ):
            raise AccessError(self.env._("Only administrators add the tools of MCP servers."))
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.is_system() and (
            _DISCOVERED_FIELDS & vals.keys()
            or ("kind" in vals and (vals["kind"] == "mcp" or any(tool.kind == "mcp" for tool in self)))
        ):
            raise AccessError(self.env._("Only administrators change what ties a tool to an MCP server."))
        return super().write(vals)

    # === BUSINESS METHODS === #

    def _aia_spec(self):
        self.ensure_one()
        if self.kind != "mcp":
            return super()._aia_spec()
        server = self.sudo().mcp_server_id
        return server._aia_tool_spec(self) if server else None
