import logging
from collections import defaultdict
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.ai_core import telemetry

from .aia_billing_plan import month_bounds, month_start

_logger = logging.getLogger(__name__)

JOB_THRESHOLD_PARAM = "aia_billing.job_threshold"
# Above this many ledger events in the period, "Compute" runs in a queue job.
DEFAULT_JOB_THRESHOLD = 200_000
LIVE_JOB_STATES = ("wait_dependencies", "pending", "enqueued", "started")


class AiaBillingStatement(models.Model):
    _name = "aia.billing.statement"
    _description = "AI Usage Statement"
    _inherit = ["mail.thread"]
    _order = "period_start desc, company_id, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True, tracking=True
    )
    period_start = fields.Date(
        "Month",
        required=True,
        default=lambda self: month_start(fields.Date.context_today(self)) - relativedelta(months=1),
        help="First day of the billed month. Months run from 00:00 UTC on the first day to 00:00 "
        "UTC on the first day of the next month.",
    )
    period_end = fields.Date(compute="_compute_period_end", store=True)
    state = fields.Selection(
        [("draft", "Draft"), ("confirmed", "Confirmed"), ("invoiced", "Invoiced")],
        default="draft",
        required=True,
        index=True,
        tracking=True,
        copy=False,
    )
    plan_id = fields.Many2one("aia.billing.plan", readonly=True, copy=False)
    version_ids = fields.Many2many(
        "aia.billing.plan.version", string="Plan versions used", readonly=True, copy=False
    )
    currency_id = fields.Many2one("res.currency", readonly=True, copy=False)
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        compute="_compute_partner_id",
        store=True,
        readonly=False,
        tracking=True,
        help="Invoices of this statement go to this partner; empty: the statement is not invoiced.",
    )
    invoice_company_id = fields.Many2one(
        "res.company",
        compute="_compute_invoice_company_id",
        help="The plan's seller when it has one, else the statement's own company.",
    )
    invoice_id = fields.Many2one("account.move", readonly=True, copy=False, ondelete="set null", index=True)
    line_ids = fields.One2many("aia.billing.statement.line", "statement_id", string="Lines", readonly=True)
    event_count = fields.Integer("Usage events", readonly=True, copy=False)
    amount_usage = fields.Monetary("Usage", readonly=True, copy=False)
    amount_included = fields.Monetary("Included quota", readonly=True, copy=False)
    amount_total = fields.Monetary("Total", readonly=True, copy=False)
    computed_on = fields.Datetime(readonly=True, copy=False)
    compute_job_uuid = fields.Char(readonly=True, copy=False)
    compute_progress = fields.Integer(
        readonly=True, copy=False, help="Percentage of the period summed by the running compute job."
    )
    computing = fields.Boolean(compute="_compute_computing")

    _company_period_unique = models.Constraint(
        "UNIQUE(company_id, period_start)", "A company has one AI usage statement per month."
    )
    _period_first_day = models.Constraint(
        "CHECK(EXTRACT(DAY FROM period_start) = 1)", "A statement's month starts on its first day."
    )

    @api.depends("company_id.name", "period_start")
    def _compute_name(self):
        for statement in self:
            period = statement.period_start and statement.period_start.strftime("%Y-%m")
            statement.name = self.env._(
                "AI usage %(period)s · %(company)s", period=period, company=statement.company_id.name
            )

    @api.depends("period_start")
    def _compute_period_end(self):
        for statement in self:
            statement.period_end = statement.period_start and (
                statement.period_start + relativedelta(months=1, days=-1)
            )

    @api.depends("company_id")
    def _compute_partner_id(self):
        for statement in self:
            statement.partner_id = statement.company_id.aia_billing_partner_id

    @api.depends("plan_id.company_id", "company_id")
    def _compute_invoice_company_id(self):
        for statement in self:
            statement.invoice_company_id = statement.plan_id.company_id or statement.company_id

    @api.depends("compute_job_uuid")
    def _compute_computing(self):
        uuids = [uuid for uuid in self.mapped("compute_job_uuid") if uuid]
        live = set()
        if uuids:
            jobs = self.env["queue.job"].sudo().search_fetch([("uuid", "in", uuids)], ["uuid", "state"])
            live = {job.uuid for job in jobs if job.state in LIVE_JOB_STATES}
        for statement in self:
            statement.computing = statement.compute_job_uuid in live

    # === CRUD === #

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("period_start"):
                vals["period_start"] = month_start(fields.Date.to_date(vals["period_start"]))
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("period_start"):
            vals["period_start"] = month_start(fields.Date.to_date(vals["period_start"]))
        if {"company_id", "period_start"} & set(vals) and self.filtered(lambda s: s.state != "draft"):
            raise UserError(self.env._("A confirmed statement's company and month cannot change."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_draft(self):
        if self.filtered(lambda statement: statement.state != "draft"):
            raise UserError(self.env._("Only draft statements can be deleted."))

    # === ACTIONS === #

    def action_compute(self):
        """Compute button: at once for an ordinary month, in a queue job for a big one."""
        for statement in self:
            statement._aia_compute_or_enqueue()
        return True

    def action_confirm(self):
        for statement in self:
            statement._aia_check_draft()
            if not statement.computed_on:
                raise UserError(self.env._("Compute %(name)s before confirming it.", name=statement.name))
        self.state = "confirmed"
        return True

    def action_reset_to_draft(self):
        if self.filtered(lambda statement: statement.state != "confirmed"):
            raise UserError(self.env._("Only confirmed statements without an invoice go back to draft."))
        self.state = "draft"
        return True

    def action_create_invoice(self):
        """Create each statement's draft customer invoice, once: a statement that already has one
        keeps it (whoever asks, however often)."""
        invoices = self.env["account.move"]
        for statement in self:
            # Two simultaneous clicks: the second waits here, then sees the first one's invoice.
            statement.lock_for_update()
            statement.invalidate_recordset(["invoice_id", "state"])
            if not statement.invoice_id:
                statement._aia_check_invoiceable()
                invoice = self.env["account.move"]._aia_create_from_statement(statement)
                statement.write({"invoice_id": invoice.id, "state": "invoiced"})
            invoices |= statement.invoice_id
        return invoices._get_records_action(name=self.env._("AI usage invoices"))

    def action_open_invoice(self):
        self.ensure_one()
        return self.invoice_id._get_records_action()

    def action_open_events(self):
        self.ensure_one()
        start, stop = month_bounds(self.period_start)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Usage of %(name)s", name=self.name),
            "res_model": "aia.usage.event",
            "view_mode": "list,pivot,graph",
            "domain": [
                ("company_id", "=", self.company_id.id),
                ("date", ">=", fields.Datetime.to_string(start)),
                ("date", "<", fields.Datetime.to_string(stop)),
            ],
        }

    # === BUSINESS METHODS === #

    @api.model
    def _aia_get_or_create(self, company, period_start):
        period_start = month_start(period_start)
        statement = self.search([("company_id", "=", company.id), ("period_start", "=", period_start)])
        return statement or self.create({"company_id": company.id, "period_start": period_start})

    def _aia_check_draft(self, in_job=False):
        for statement in self:
            if statement.state != "draft":
                raise UserError(
                    self.env._("%(name)s is confirmed: its lines are frozen.", name=statement.name)
                )
            if statement.computing and not in_job:
                raise UserError(self.env._("%(name)s is being computed: wait for it.", name=statement.name))

    def _aia_plan(self):
        self.ensure_one()
        plan = self.company_id.aia_billing_plan_id
        if not plan:
            raise UserError(self.env._("%(company)s has no AI billing plan.", company=self.company_id.name))
        return plan

    def _aia_event_count(self):
        self.ensure_one()
        start, stop = month_bounds(self.period_start)
        self.env["aia.usage.event"].flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT COUNT(*) FROM aia_usage_event WHERE company_id = %s AND date >= %s AND date < %s",
                self.company_id.id,
                start,
                stop,
            )
        )
        return self.env.cr.fetchone()[0]

    def _aia_compute_or_enqueue(self):
        self.ensure_one()
        self._aia_check_draft()
        self._aia_plan()
        threshold = int(
            self.env["ir.config_parameter"].sudo().get_param(JOB_THRESHOLD_PARAM, DEFAULT_JOB_THRESHOLD)
        )
        if self._aia_event_count() > threshold:
            self._aia_enqueue_compute()
        else:
            self._aia_compute()

    def _aia_enqueue_compute(self):
        self.ensure_one()
        job = self.with_delay(
            channel="root.aia.billing", description=self.env._("Compute %(name)s", name=self.name)
        )._aia_job_compute(**telemetry.job_trace())
        self.write({"compute_job_uuid": job.uuid, "compute_progress": 0})

    @telemetry.traced_job
    def _aia_job_compute(self):
        """Queue job: compute a big month day by day, saving the progress after each day.

        The sums of every day add up to the month's: the lines are the same as an inline compute.
        """
        self.ensure_one()
        start, stop = month_bounds(self.period_start)
        days = [(start + relativedelta(days=day), start + relativedelta(days=day + 1)) for day in range(31)]
        slices = [(day_start, min(day_stop, stop)) for day_start, day_stop in days if day_start < stop]

        def progress(done):
            self.compute_progress = round(100 * done / len(slices))
            # Committed so that the form shows it while the job runs. Only the progress is written
            # before the end: a failed job leaves no partial lines.
            self.env.cr.commit()  # pylint: disable=invalid-commit

        self._aia_compute(slices=slices, progress=progress, in_job=True)

    def _aia_compute(self, slices=None, progress=None, in_job=False):
        """(Re)compute the lines from the ledger, priced with the company's plan.

        Args:
            slices: [(start, stop)] ranges covering the month, summed one after the other
                (default: the whole month in one query).
            progress: Called with the number of slices done after each one.
            in_job: The compute job of this statement runs this.
        """
        self.ensure_one()
        self._aia_check_draft(in_job=in_job)
        plan = self._aia_plan()
        currency = plan.currency_id
        slices = slices or [month_bounds(self.period_start)]
        groups = defaultdict(lambda: [0, 0, 0, 0, 0])
        for done, (start, stop) in enumerate(slices, start=1):
            for key, sums in plan._aia_usage_groups(self.company_id, start, stop).items():
                total = groups[key]
                for index, value in enumerate(sums):
                    total[index] += value
            if progress:
                progress(done)
        lines = plan._aia_price_lines(groups, currency)
        usage = sum((line["amount"] for line in lines), Decimal(0))
        included = self._aia_included_amount(plan, usage)
        if included:
            lines.append(
                {
                    "version_id": self._aia_quota_version(plan).id,
                    "agent_id": False,
                    "model_name": False,
                    "kind": "quota",
                    "quantity": 1,
                    "unit_price": -included,
                    "amount": -included,
                }
            )
        kinds = dict(self.env["aia.billing.statement.line"]._fields["kind"]._description_selection(self.env))
        agent_ids = {line["agent_id"] for line in lines if line["agent_id"]}
        agents = {agent.id: agent.name for agent in self.env["aia.agent"].sudo().browse(agent_ids)}
        self.line_ids.with_context(aia_billing_compute=True).unlink()
        self.env["aia.billing.statement.line"].with_context(aia_billing_compute=True).create(
            [
                {
                    **line,
                    "quantity": float(line["quantity"]),
                    "unit_price": float(line["unit_price"]),
                    "amount": float(line["amount"]),
                    "statement_id": self.id,
                    "sequence": sequence,
                    "name": self._aia_line_label(line, kinds, agents),
                }
                for sequence, line in enumerate(lines, start=1)
            ]
        )
        self.write(
            {
                "plan_id": plan.id,
                "currency_id": currency.id,
                "version_ids": [Command.set(sorted({line["version_id"] for line in lines}))],
                "event_count": sum(sums[4] for sums in groups.values()),
                "amount_usage": float(usage),
                "amount_included": float(-included),
                "amount_total": float(usage - included),
                "computed_on": fields.Datetime.now(),
                "compute_progress": 100,
            }
        )

    def _aia_quota_version(self, plan):
        """The version whose quota the month gets: the one in force on its first day, else the
        first one starting during the month."""
        start, stop = month_bounds(self.period_start)
        version = plan._aia_version_at(self.period_start)
        return version or self.env["aia.billing.plan.version"].search(
            [("plan_id", "=", plan.id), ("date_from", ">=", start.date()), ("date_from", "<", stop.date())],
            order="date_from",
            limit=1,
        )

    def _aia_included_amount(self, plan, usage):
        """The quota deducted: the version's included amount, at most the month's usage."""
        version = self._aia_quota_version(plan)
        if not version or usage <= 0:
            return Decimal(0)
        included = plan._aia_price_book()[version.id].included
        return min(included, usage)

    def _aia_line_label(self, line, kinds, agents):
        if line["kind"] == "quota":
            return kinds["quota"]
        parts = [agents.get(line["agent_id"]) or self.env._("No agent")]
        if line["model_name"]:
            parts.append(line["model_name"])
        parts.append(kinds[line["kind"]])
        return " · ".join(parts)

    def _aia_check_invoiceable(self):
        self.ensure_one()
        if self.state == "draft":
            raise UserError(self.env._("Confirm %(name)s before invoicing it.", name=self.name))
        if not self.partner_id:
            raise UserError(self.env._("%(name)s has no customer to invoice.", name=self.name))
        if not self.line_ids.filtered("amount"):
            raise UserError(self.env._("%(name)s has nothing to invoice.", name=self.name))

    # === CRON === #

    @api.model
    def _cron_aia_monthly_statements(self):
        """On the 1st: last month's statement of every company with a plan, computed (big months
        in a job). Confirmed statements are left as they are."""
        period_start = month_start(fields.Datetime.now()) - relativedelta(months=1)
        companies = self.env["res.company"].search([("aia_billing_plan_id", "!=", False)])
        for index, company in enumerate(companies, start=1):
            statement = self._aia_get_or_create(company, period_start)
            if statement.state == "draft" and not statement.computing:
                statement._aia_compute_or_enqueue()
            self.env["ir.cron"]._commit_progress(1, remaining=len(companies) - index)
