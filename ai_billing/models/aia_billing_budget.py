import logging
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount

from .aia_billing_plan import month_bounds, month_start

_logger = logging.getLogger(__name__)


class AiaBillingBudget(models.Model):
    """A monthly spending limit on AI usage, for a whole company, one user or one agent.

    Usage is valued at the company's plan prices, before the included quota, from 00:00 UTC on
    the first of the month. Without a plan, it is the provider cost recorded in the ledger.
    """

    _name = "aia.billing.budget"
    _description = "AI Budget"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "company_id, scope, id"

    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    scope = fields.Selection(
        [("company", "Whole company"), ("user", "One user"), ("agent", "One agent")],
        required=True,
        default="company",
    )
    user_id = fields.Many2one("res.users", ondelete="cascade", index=True)
    agent_id = fields.Many2one("aia.agent", ondelete="cascade", index=True)
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id", store=True)
    amount = fields.Monetary("Monthly budget", required=True, tracking=True)
    warning_percent = fields.Float(
        "Warn at (%)",
        default=80.0,
        tracking=True,
        help="AI managers get an activity once a month when usage reaches this share of the "
        "budget; 0 disables the warning.",
    )
    hard_stop = fields.Boolean(
        default=True,
        tracking=True,
        help="Refuse new turns once the month's usage reaches the budget, before any provider call.",
    )
    warned_period = fields.Date("Warned for month", readonly=True, copy=False)
    used_amount = fields.Monetary("Used this month", compute="_compute_usage")
    used_percent = fields.Float("Used (%)", compute="_compute_usage")

    _amount_positive = models.Constraint("CHECK(amount > 0)", "A budget must be positive.")
    _warning_percent_range = models.Constraint(
        "CHECK(warning_percent >= 0 AND warning_percent <= 100)", "The warning level is a percentage."
    )
    _scope_target = models.Constraint(
        "CHECK((scope = 'user') = (user_id IS NOT NULL) AND (scope = 'agent') = (agent_id IS NOT NULL))",
        "A user budget names its user, an agent budget its agent, a company budget neither.",
    )
    _scope_unique = models.UniqueIndex(
        "(company_id, scope, COALESCE(user_id, 0), COALESCE(agent_id, 0)) WHERE active",
        "There is already an active budget for this company, user or agent.",
    )

    @api.depends("scope", "user_id.name", "agent_id.name", "company_id.name")
    def _compute_display_name(self):
        for budget in self:
            if budget.scope == "user":
                target = budget.user_id.name
            elif budget.scope == "agent":
                target = budget.agent_id.name
            else:
                target = budget.company_id.name
            budget.display_name = self.env._("AI budget: %(target)s", target=target)

    @api.depends("company_id.aia_billing_plan_id.currency_id", "company_id.currency_id")
    def _compute_currency_id(self):
        for budget in self:
            company = budget.company_id
            budget.currency_id = company.aia_billing_plan_id.currency_id or company.currency_id

    def _compute_usage(self):
        start, stop = month_bounds(month_start(fields.Datetime.now()))
        for budget in self:
            used = budget._aia_used_amount(start, stop) if budget.company_id else Decimal(0)
            budget.used_amount = float(used)
            budget.used_percent = float(100 * used / Decimal(str(budget.amount))) if budget.amount else 0.0

    @api.onchange("scope")
    def _onchange_scope(self):
        if self.scope != "user":
            self.user_id = False
        if self.scope != "agent":
            self.agent_id = False

    # === BUSINESS METHODS === #

    def _aia_used_amount(self, start, stop):
        """What the budget's usage between ``start`` and ``stop`` is worth (a Decimal)."""
        self.ensure_one()
        company = self.company_id
        user = self.user_id if self.scope == "user" else None
        agent = self.agent_id if self.scope == "agent" else None
        plan = company.aia_billing_plan_id.sudo()
        if plan:
            groups = plan._aia_usage_groups(company, start, stop, user=user, agent=agent)
            lines = plan._aia_price_lines(groups, plan.currency_id)
            return sum((line["amount"] for line in lines), Decimal(0))
        conditions = [
            SQL("company_id = %s", company.id),
            SQL("date >= %s", start),
            SQL("date < %s", stop),
        ]
        if user:
            conditions.append(SQL("user_id = %s", user.id))
        if agent:
            conditions.append(SQL("agent_id = %s", agent.id))
        self.env["aia.usage.event"].flush_model()
        self.env.cr.execute(
            SQL("SELECT COALESCE(SUM(cost), 0) FROM aia_usage_event WHERE %s", SQL(" AND ").join(conditions))
        )
        return Decimal(self.env.cr.fetchone()[0])

    @api.model
    def _aia_budgets_for(self, session):
        return self.search(
            [
                ("company_id", "=", session.company_id.id),
                "|",
                "|",
                ("scope", "=", "company"),
                "&",
                ("scope", "=", "user"),
                ("user_id", "=", session.user_id.id),
                "&",
                ("scope", "=", "agent"),
                ("agent_id", "=", session.agent_id.id),
            ]
        )

    @api.model
    def _aia_check_sessions(self, sessions):
        """Refuse to start a turn of ``sessions`` whose company, user or agent spent its budget
        this month; warn AI managers of budgets past their warning level."""
        now = fields.Datetime.now()
        period_start = month_start(now)
        start, stop = month_bounds(period_start)
        for session in sessions:
            for budget in self._aia_budgets_for(session):
                used = budget._aia_used_amount(start, stop)
                budget._aia_warn_if_due(used, period_start)
                if budget.hard_stop and used >= Decimal(str(budget.amount)):
                    raise UserError(budget._aia_refusal_message(used, period_start))

    def _aia_refusal_message(self, used, period_start):
        self.ensure_one()
        currency = self.currency_id
        if self.scope == "user":
            scope = self.env._("your monthly AI budget")
        elif self.scope == "agent":
            scope = self.env._("the monthly AI budget of the agent %(agent)s", agent=self.agent_id.name)
        else:
            scope = self.env._("the monthly AI budget of %(company)s", company=self.company_id.name)
        return self.env._(
            "This turn was not started: %(scope)s is spent (%(used)s used of %(budget)s in "
            "%(month)s). Turns resume next month, or when an AI manager raises the budget.",
            scope=scope,
            used=format_amount(self.env, float(used), currency),
            budget=format_amount(self.env, self.amount, currency),
            month=period_start.strftime("%Y-%m"),
        )

    def _aia_warn_if_due(self, used, period_start):
        """Once a month: a warning activity for each AI manager of the company."""
        self.ensure_one()
        if not self.warning_percent or self.warned_period == period_start:
            return False
        if used * 100 < Decimal(str(self.amount)) * Decimal(str(self.warning_percent)):
            return False
        self.warned_period = period_start
        note = self.env._(
            "%(budget)s: %(used)s used of %(amount)s in %(month)s (warning at %(percent)s %%).",
            budget=self.display_name,
            used=format_amount(self.env, float(used), self.currency_id),
            amount=format_amount(self.env, self.amount, self.currency_id),
            month=period_start.strftime("%Y-%m"),
            percent=f"{self.warning_percent:g}",
        )
        _logger.info("AI budget %s of company %s reached its warning level", self.id, self.company_id.id)
        self.message_post(body=note)
        for manager in self._aia_managers():
            self.activity_schedule(
                "mail.mail_activity_data_warning",
                user_id=manager.id,
                summary=self.env._("AI budget almost spent"),
                note=note,
            )
        return True

    def _aia_managers(self):
        self.ensure_one()
        company = self.company_id
        return (
            self.env.ref("ai_core.group_aia_manager")
            .sudo()
            .all_user_ids.filtered(
                lambda user: user.active and not user.share and company in user.company_ids
            )
        )

    # === CRON === #

    @api.model
    def _cron_aia_budget_warnings(self):
        """Warn on budgets that crossed their level since the last turn started (the last turn
        before a hard stop, usage from automation)."""
        period_start = month_start(fields.Datetime.now())
        start, stop = month_bounds(period_start)
        budgets = self.search(
            [
                ("warning_percent", ">", 0),
                "|",
                ("warned_period", "=", False),
                ("warned_period", "!=", period_start),
            ]
        )
        for index, budget in enumerate(budgets, start=1):
            budget._aia_warn_if_due(budget._aia_used_amount(start, stop), period_start)
            self.env["ir.cron"]._commit_progress(1, remaining=len(budgets) - index)
