from odoo import fields, models
from odoo.exceptions import UserError

COST_DIGITS = (16, 6)


class AiaUsageEvent(models.Model):
    """The append-only usage ledger: one row per provider call, tool call and knowledge query.

    Rows are written by the platform only; nobody, not even an administrator, edits or deletes
    them through the ORM (billing is computed from them).
    """

    _name = "aia.usage.event"
    _description = "AI Usage Event"
    _order = "id desc"

    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    kind = fields.Selection(
        [("provider_call", "Provider call"), ("tool_call", "Tool call"), ("kb_query", "Knowledge query")],
        required=True,
        index=True,
    )
    # restrict: deleting what a ledger row points to would rewrite the ledger.
    session_id = fields.Many2one("aia.session", ondelete="restrict", index=True)
    agent_id = fields.Many2one("aia.agent", ondelete="restrict", index=True)
    user_id = fields.Many2one("res.users", ondelete="restrict", index=True)
    company_id = fields.Many2one("res.company", required=True, ondelete="restrict", index=True)
    provider = fields.Char()
    model_name = fields.Char("Model", index=True)
    tool_name = fields.Char("Tool", index=True)
    input_tokens = fields.Integer(aggregator="sum")
    output_tokens = fields.Integer(aggregator="sum")
    cache_read_tokens = fields.Integer(aggregator="sum")
    cache_write_tokens = fields.Integer(aggregator="sum")
    total_tokens = fields.Integer(aggregator="sum")
    cost = fields.Float(digits=COST_DIGITS, aggregator="sum")
    latency_ms = fields.Integer("Latency (ms)", aggregator="avg")
    status = fields.Char()

    _company_date_idx = models.Index("(company_id, date)")

    # The ledger is append-only: neither method reaches the ORM (hence no super call).
    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self.env._("Usage events are an append-only ledger: they cannot be changed."))

    def unlink(self):  # pylint: disable=method-required-super
        raise UserError(self.env._("Usage events are an append-only ledger: they cannot be deleted."))
