from odoo import fields, models


class AiaToolExecution(models.Model):
    _name = "aia.tool.execution"
    _description = "AI Tool Execution"
    _order = "id desc"

    session_id = fields.Many2one("aia.session", required=True, ondelete="cascade", index=True)
    agent_id = fields.Many2one(related="session_id.agent_id", store=True, index=True)
    user_id = fields.Many2one(related="session_id.user_id", store=True, index=True)
    company_id = fields.Many2one(related="session_id.company_id", store=True, index=True)
    tool_id = fields.Many2one("aia.tool", ondelete="set null", index=True)
    tool_name = fields.Char(required=True, index=True)
    call_id = fields.Char(required=True)
    arguments = fields.Json(help="Redacted.")
    output = fields.Json(help="Redacted raw output.")
    content = fields.Text(help="What the model read.")
    preview = fields.Text(help="What a shadowed or pending write would do.")
    result_size = fields.Integer()
    latency_ms = fields.Integer("Latency (ms)")
    status = fields.Selection(
        [
            ("ok", "OK"),
            ("error", "Error"),
            ("timeout", "Timeout"),
            ("shadowed", "Shadowed"),
            ("denied", "Denied"),
        ],
        required=True,
        index=True,
    )

    _session_date_idx = models.Index("(company_id, create_date)")
