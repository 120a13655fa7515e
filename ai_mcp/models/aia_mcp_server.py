import re

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.ai_core import secret_box
from odoo.addons.ai_core.ai_engine import ToolSpec
from odoo.addons.ai_core.models.aia_secret_mixin import secret_headers_field
from odoo.addons.ai_core.safe_fetch import Allowlist

from ..mcp_client import McpServerError, list_tools, make_mcp_handler

CODE = re.compile(r"^[a-z0-9_]{1,20}$")
_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")


class AiaMcpServer(models.Model):
    """An outside MCP server whose allowlisted tools agents may be given, like any other tool.

    Administrators only: its URL and headers decide where the Odoo server connects and with
    which credentials.
    """

    _name = "aia.mcp.server"
    _inherit = ["aia.secret.mixin", "aia.setup.mixin"]
    _description = "AI MCP Server"
    _order = "name"

    name = fields.Char(required=True)
    code = fields.Char(
        required=True,
        help="Lower-case letters, digits and underscores; the tools are named mcp_<code>.<tool>.",
    )
    url = fields.Char(
        "URL", required=True, help="The server's Streamable HTTP endpoint, e.g. https://host/mcp."
    )
    headers = secret_headers_field(
        "HTTP headers",
        help="Sent with every request (e.g. Authorization); encrypted when the server has an aia_secret_key.",
    )
    allowed_tools = fields.Text(
        help="Names of the server's tools offered to agents, separated by commas, spaces or new lines. "
        "Tools not listed are never created nor called.",
    )
    timeout = fields.Integer(
        "Timeout (s)", default=30, help="Bounds each listing and each call, connection included."
    )
    max_bytes = fields.Integer("Max answer bytes", default=200_000, help="Larger answers are refused.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", index=True, help="Empty: its tools serve every company.")
    tool_ids = fields.One2many("aia.tool", "mcp_server_id", "Tools", context={"active_test": False})

    _code_company_unique = models.Constraint(
        "UNIQUE(code, company_id)", "An MCP server code must be unique per company."
    )

    @api.constrains("code", "timeout", "max_bytes")
    def _check_settings(self):
        for server in self:
            if not CODE.match(server.code or ""):
                raise ValidationError(
                    self.env._(
                        "MCP server code %(code)s: use 1 to 20 lower-case letters, digits or underscores.",
                        code=server.code,
                    )
                )
            if server.timeout <= 0 or server.max_bytes <= 0:
                raise ValidationError(self.env._("The timeout and the answer size must be positive."))

    # === ACTION METHODS === #

    def action_discover_tools(self):
        """Read the server's tools and make (or update) a tool row for each allowlisted one;
        rows of tools no longer offered or allowlisted are archived."""
        self.ensure_one()
        try:
            remote_tools = list_tools(**self._aia_connection(), max_bytes=max(self.max_bytes, 1_000_000))
        except McpServerError as exc:
            raise UserError(self.env._("Tools of %(name)s: %(error)s", name=self.name, error=exc)) from None
        allowed = self._aia_allowed_tools()
        Tool = self.env["aia.tool"].with_context(active_test=False)
        kept = Tool
        for remote in remote_tools:
            if remote.name not in allowed:
                continue
            tool = Tool.search(
                [("mcp_server_id", "=", self.id), ("mcp_tool_name", "=", remote.name)], limit=1
            )
            values = {
                "label": remote.name,
                "description": remote.description or remote.name,
                "input_schema": remote.input_schema,
                "active": True,
                "mcp_read_only": remote.read_only,
            }
            if not remote.read_only:
                # Without readOnlyHint a remote tool may change something: it obeys shadow mode.
                values["mode"] = "write"
            if tool:
                tool.write(values)
            else:
                tool = Tool.create(
                    {
                        **values,
                        "name": f"mcp_{self.code}.{_UNSAFE.sub('_', remote.name)}",
                        "kind": "mcp",
                        "mode": "read" if remote.read_only else "write",
                        "mcp_server_id": self.id,
                        "mcp_tool_name": remote.name,
                        "company_id": self.company_id.id,
                    }
                )
            kept |= tool
        (self.with_context(active_test=False).tool_ids - kept).write({"active": False})
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "%(count)s tools of %(name)s offered to agents.", count=len(kept), name=self.name
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # === BUSINESS METHODS === #

    def _aia_allowed_tools(self):
        self.ensure_one()
        return {name for name in (self.allowed_tools or "").replace(",", " ").split() if name}

    def _aia_connection(self):
        """What :mod:`mcp_client` needs to reach the server, the headers decrypted."""
        self.ensure_one()
        server = self.sudo()
        return {
            "url": server.url,
            "headers": secret_box.decrypt_mapping(server.headers, self.env),
            "allowlist": Allowlist.from_env(self.env),
            "timeout": server.timeout,
        }

    def _aia_tool_spec(self, tool):
        """The engine's spec of ``tool``, one of this server's; None when the server is archived or
        no longer allowlists it."""
        self.ensure_one()
        server = self.sudo()
        if not server.active or tool.mcp_tool_name not in server._aia_allowed_tools():
            return None
        connection = server._aia_connection()
        return ToolSpec(
            name=tool.name,
            description=tool.description or tool.label or tool.name,
            input_schema=tool.input_schema or {"type": "object"},
            handler=make_mcp_handler(tool_name=tool.mcp_tool_name, max_bytes=server.max_bytes, **connection),
            # A manager may make a read-only tool a write tool, never the other way round.
            mode=tool.mode if tool.mcp_read_only else "write",
            timeout=float(server.timeout),
            redact_keys=tuple(connection["headers"]),
            display_name=tool.label or "",
        )
