from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

from .aia_billing_plan import LINE_KINDS, PRICE_DIGITS


class AiaBillingStatementLine(models.Model):
    _name = "aia.billing.statement.line"
    _description = "AI Usage Statement Line"
    _order = "statement_id, sequence, id"

    statement_id = fields.Many2one("aia.billing.statement", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer()
    name = fields.Char("Description")
    company_id = fields.Many2one(related="statement_id.company_id", store=True, index=True)
    period_start = fields.Date(related="statement_id.period_start", store=True, string="Month")
    state = fields.Selection(related="statement_id.state")
    currency_id = fields.Many2one(related="statement_id.currency_id")
    version_id = fields.Many2one("aia.billing.plan.version", string="Plan version", ondelete="restrict")
    agent_id = fields.Many2one("aia.agent", ondelete="restrict", index=True)
    model_name = fields.Char("Model", index=True)
    kind = fields.Selection(LINE_KINDS, required=True)
    quantity = fields.Float(
        digits=(20, 0), aggregator="sum", help="Tokens for token lines, calls for call lines."
    )
    unit_price = fields.Float(
        digits=PRICE_DIGITS, aggregator=False, help="Per one million tokens for token lines, per call else."
    )
    price_basis = fields.Char("Per", compute="_compute_price_basis")
    amount = fields.Monetary(aggregator="sum")

    @api.depends("kind")
    def _compute_price_basis(self):
        for line in self:
            if line.kind and line.kind.startswith("tokens_"):
                line.price_basis = self.env._("1M tokens")
            elif line.kind == "quota":
                line.price_basis = self.env._("month")
            else:
                line.price_basis = self.env._("call")

    # === CRUD === #

    @api.model_create_multi
    def create(self, vals_list):
        self._aia_check_compute()
        return super().create(vals_list)

    def write(self, vals):
        self._aia_check_compute()
        return super().write(vals)

    def unlink(self):
        self._aia_check_compute()
        return super().unlink()

    # === BUSINESS METHODS === #

    def _aia_check_compute(self):
        """Lines are written by the compute of a draft statement only."""
        if not self.env.context.get("aia_billing_compute"):
            raise UserError(
                self.env._("Statement lines come from the usage ledger: recompute the statement.")
            )

    def _aia_invoice_label(self):
        self.ensure_one()
        if self.kind == "quota":
            return self.name
        quantity = f"{int(self.quantity):,}"
        unit_price = Decimal(str(self.unit_price)).quantize(Decimal("0.000001"))
        if self.kind.startswith("tokens_"):
            return self.env._(
                "%(label)s: %(quantity)s tokens × %(price)s per 1M",
                label=self.name,
                quantity=quantity,
                price=unit_price,
            )
        return self.env._(
            "%(label)s: %(quantity)s × %(price)s", label=self.name, quantity=quantity, price=unit_price
        )
