from odoo import api, fields, models


class AiaAgentVersion(models.Model):
    _name = "aia.agent.version"
    _description = "AI Agent Version"
    _order = "agent_id, version desc"

    agent_id = fields.Many2one("aia.agent", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="agent_id.company_id", store=True)
    version = fields.Integer(required=True)
    snapshot = fields.Json(required=True)

    @api.depends("agent_id.name", "version")
    def _compute_display_name(self):
        for version in self:
            version.display_name = f"{version.agent_id.name} v{version.version}"

    def action_restore(self):
        """Restore this configuration; the restore itself becomes the newest version."""
        self.ensure_one()
        values = {}
        for name, value in self.snapshot.items():
            field = self.agent_id._fields.get(name)
            if field is None:
                continue
            if field.type == "many2many":
                model = self.env[field.comodel_name]
                value = [fields.Command.set(model.browse(value).exists().ids)]
            elif field.type == "many2one":
                value = self.env[field.comodel_name].browse(value).exists().id if value else False
            values[name] = value
        self.agent_id.write(values)
        return True
