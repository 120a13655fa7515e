from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .. import secret_box
from ..ai_engine import ToolSpec
from ..safe_fetch import Allowlist
from ..tools import CATALOGUE
from ..tools.catalogue import addon_of
from ..tools.http_tools import make_http_handler
from .aia_secret_mixin import secret_headers_field


class AiaTool(models.Model):
    _name = "aia.tool"
    _inherit = ["aia.secret.mixin", "aia.setup.mixin"]
    _description = "AI Tool"
    _order = "name"

    name = fields.Char(required=True, help="Catalogue name, namespace.name (e.g. finance.get_gl_balance).")
    label = fields.Char(help="Human name, e.g. GetGLBalance.")
    description = fields.Text(help="What the model reads to decide when to call the tool.")
    active = fields.Boolean(default=True)
    kind = fields.Selection(
        [("python", "Python handler"), ("http", "HTTP request")], required=True, default="python"
    )
    mode = fields.Selection([("read", "Read"), ("write", "Write")], required=True, default="read")
    company_id = fields.Many2one("res.company", index=True, help="Empty: available to every company.")
    is_available = fields.Boolean(compute="_compute_is_available", help="A handler exists for this tool.")
    requirements = fields.Char(
        compute="_compute_requirements",
        help="What a user needs to call the tool, declared with its handler; others get a denied result.",
    )
    input_schema = fields.Json(help="JSON Schema 2020-12 of the arguments (HTTP tools).")
    http_url = fields.Char("URL", help="May contain {argument} placeholders.")
    http_method = fields.Selection(
        [("GET", "GET"), ("POST", "POST"), ("PUT", "PUT"), ("PATCH", "PATCH"), ("DELETE", "DELETE")],
        default="GET",
    )
    http_headers = secret_headers_field(
        "HTTP headers",
        help="Sent with every call; may hold secrets (encrypted when the server has an aia_secret_key).",
    )
    http_allowed_domains = fields.Char("Allowed domains", help="Comma-separated hosts the URL may point to.")
    http_timeout = fields.Integer("Timeout (s)", default=10)
    http_max_bytes = fields.Integer("Max response bytes", default=200_000)

    _name_company_unique = models.Constraint(
        "UNIQUE(name, company_id)", "A tool name must be unique per company."
    )

    @api.depends("kind", "name")
    def _compute_is_available(self):
        for tool in self:
            tool.is_available = tool.kind == "http" or tool.name in CATALOGUE

    @api.depends("kind", "name")
    def _compute_requirements(self):
        for tool in self:
            spec = CATALOGUE.get(tool.name) if tool.kind == "python" else None
            requires = getattr(spec and spec.handler, "requires", None)
            parts = [requires.describe(self.env)] if requires else []
            if spec and spec.needs_approval:
                parts.append(self.env._("a person's approval of each call (agents in approval mode only)"))
            tool.requirements = "; ".join(parts) or False

    @api.constrains("kind", "input_schema", "http_url")
    def _check_http_definition(self):
        for tool in self.filtered(lambda t: t.kind == "http"):
            if not tool.http_url:
                raise ValidationError(self.env._("HTTP tool %(name)s needs a URL.", name=tool.name))
            try:
                tool._aia_spec()
            except Exception as exc:
                raise ValidationError(
                    self.env._("Tool %(name)s: %(error)s", name=tool.name, error=exc)
                ) from exc

    # === BUSINESS METHODS === #

    def _aia_spec(self):
        """The engine's spec of this tool, or None when its handler is not installed."""
        self.ensure_one()
        if self.kind == "python":
            return CATALOGUE.get(self.name)
        headers = secret_box.decrypt_mapping(self.sudo().http_headers, self.env)
        return ToolSpec(
            name=self.name,
            description=self.description or self.label or self.name,
            input_schema=self.input_schema or {"type": "object"},
            handler=make_http_handler(
                url=self.http_url,
                method=self.http_method,
                headers=headers,
                allowed_domains=[d for d in (self.http_allowed_domains or "").split(",") if d.strip()],
                timeout=self.http_timeout,
                max_bytes=self.http_max_bytes,
                allowlist=Allowlist.from_env(self.env),
            ),
            mode=self.mode,
            timeout=float(self.http_timeout),
            redact_keys=tuple(headers),
            display_name=self.label or "",
        )

    @api.model
    def _aia_sync_catalogue(self, module):
        """Make the catalogue rows of the tools whose handlers ``module`` defines.

        Called by a ``<function>`` of the addon's data on install and upgrade: the Python
        declaration (``@tool``) is the one source of a tool's name, label, description and mode.
        Each row gets the xml id ``<module>.tool_<name>`` (dots as underscores), so agent records
        can ``ref()`` it, an upgrade drops the rows of tools the addon no longer defines and an
        uninstall removes them all. What an administrator sets on a row (archiving it) is kept; a
        row of the same name made before (by an older version's XML) is taken over.

        Returns:
            The rows of ``module``'s tools.
        """
        Tool = self.with_context(active_test=False)
        imd = self.env["ir.model.data"]
        data_list = []
        for spec in sorted((s for s in CATALOGUE if addon_of(s) == module), key=lambda s: s.name):
            xml_id = f"{module}.tool_{spec.name.replace('.', '_')}"
            if not self.env.ref(xml_id, raise_if_not_found=False):
                former = Tool.search([("name", "=", spec.name), ("company_id", "=", False)], limit=1)
                if former:
                    imd._update_xmlids([{"xml_id": xml_id, "record": former, "noupdate": False}])
            values = {
                "name": spec.name,
                "label": spec.display_name or spec.name,
                "description": spec.description,
                "kind": "python",
                "mode": spec.mode,
            }
            data_list.append({"xml_id": xml_id, "noupdate": False, "values": values})
        return Tool._load_records(data_list, update=True)
