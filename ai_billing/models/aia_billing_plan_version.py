from odoo import api, fields, models
from odoo.exceptions import UserError

from .aia_billing_plan import PRICE_DIGITS


class AiaBillingPlanVersion(models.Model):
    _name = "aia.billing.plan.version"
    _description = "AI Billing Plan Version"
    _order = "plan_id, date_from desc"

    plan_id = fields.Many2one("aia.billing.plan", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="plan_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    date_from = fields.Date(
        "Effective from",
        required=True,
        help="In force from 00:00 UTC on this day until the next version of the plan starts.",
    )
    price_input = fields.Float("Input / 1M tokens", digits=PRICE_DIGITS, default=0.0)
    price_output = fields.Float("Output / 1M tokens", digits=PRICE_DIGITS, default=0.0)
    price_cache_read = fields.Float("Cache read / 1M tokens", digits=PRICE_DIGITS, default=0.0)
    price_cache_write = fields.Float("Cache write / 1M tokens", digits=PRICE_DIGITS, default=0.0)
    price_tool_call = fields.Float("Per tool call", digits=PRICE_DIGITS, default=0.0)
    price_kb_query = fields.Float("Per knowledge query", digits=PRICE_DIGITS, default=0.0)
    included_amount = fields.Monetary(
        "Included each month",
        currency_field="currency_id",
        default=0.0,
        help="Usage worth this amount is included each month: the statement deducts it, at most "
        "what the month's usage is worth.",
    )
    price_ids = fields.One2many("aia.billing.plan.price", "version_id", string="Prices per model")

    _plan_date_unique = models.Constraint(
        "UNIQUE(plan_id, date_from)", "A plan has one version per effective date."
    )
    _prices_positive = models.Constraint(
        "CHECK(price_input >= 0 AND price_output >= 0 AND price_cache_read >= 0 "
        "AND price_cache_write >= 0 AND price_tool_call >= 0 AND price_kb_query >= 0 "
        "AND included_amount >= 0)",
        "Prices and included amounts cannot be negative.",
    )

    @api.depends("plan_id.name", "date_from")
    def _compute_display_name(self):
        for version in self:
            version.display_name = self.env._(
                "%(plan)s from %(date)s", plan=version.plan_id.name, date=version.date_from
            )

    # === CRUD === #

    def write(self, vals):
        self._aia_check_not_billed()
        return super().write(vals)

    def unlink(self):
        self._aia_check_not_billed()
        return super().unlink()

    # === BUSINESS METHODS === #

    def _aia_check_not_billed(self):
        """Prices that confirmed statements used stay as they were: add a new version instead."""
        billed = (
            self.env["aia.billing.statement.line"]
            .sudo()
            .search_count([("version_id", "in", self.ids), ("statement_id.state", "!=", "draft")], limit=1)
        )
        if billed:
            raise UserError(
                self.env._(
                    "This plan version priced confirmed statements: it cannot change. Add a version "
                    "with a later effective date instead."
                )
            )
