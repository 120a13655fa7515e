from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged

from odoo.addons.ai_core.ai_engine import tracing
from odoo.addons.ai_core.tests.common import perform_jobs
from odoo.addons.ai_core.tests.tracing_case import TracingMixin
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import MARCH, BillingCase, at

MARCH_LINES = [
    ("assistant", False, "tool_call", 3, 0.002, 0.01),  # 0.006
    ("assistant", "claude-test", "tokens_input", 1_234_567, 3.0, 3.70),  # 3.703701
    ("assistant", "claude-test", "tokens_output", 201_001, 15.0, 3.02),  # 3.015015
    ("assistant", "claude-test", "tokens_cache_read", 500_000, 0.3, 0.15),
    ("assistant", "claude-test", "tokens_cache_write", 10_000, 3.75, 0.04),  # 0.0375
    ("analyst", False, "kb_query", 2, 0.0015, 0.0),  # 0.003
    # Exactly half a cent rounds up: 1.005 (a float would hold 1.00499999...) and 0.025.
    ("analyst", "other-model", "tokens_input", 1_005_000, 1.0, 1.01),
    ("analyst", "other-model", "tokens_cache_write", 20_000, 1.25, 0.03),
]


@tagged("post_install", "-at_install")
class TestStatement(BillingCase):
    def test_exact_amounts_of_a_hand_built_ledger(self):
        self.march_ledger()
        statement = self.statement()
        statement.action_compute()
        self.assertEqual(self.lines(statement), MARCH_LINES)
        self.assertEqual(statement.event_count, 8)
        self.assertEqual(statement.amount_usage, 7.96)
        self.assertEqual(statement.amount_included, 0.0)
        self.assertEqual(statement.amount_total, 7.96)
        self.assertEqual((statement.plan_id, statement.version_ids), (self.plan, self.version))
        self.assertEqual(statement.currency_id, self.usd)
        self.assertEqual(statement.period_end.isoformat(), "2026-03-31")
        # Stored as numeric: the database holds exactly these amounts.
        self.env.cr.execute(
            "SELECT SUM(amount)::text, SUM(quantity)::text FROM aia_billing_statement_line "
            "WHERE statement_id = %s",
            [statement.id],
        )
        self.assertEqual(self.env.cr.fetchone(), ("7.96", "2970573"))

    def test_a_plan_change_mid_month_prices_each_event_with_the_version_in_force(self):
        new_prices = self.env["aia.billing.plan.version"].create(
            {
                "plan_id": self.plan.id,
                "date_from": "2026-03-16",
                "price_input": 2,
                "price_output": 4,
                "price_ids": [Command.create({"model_name": "claude-test", "price_input": 6})],
            }
        )
        self.event(at("2026-03-15 23:59:59"), input_tokens=1_000_000)
        self.event(at("2026-03-16 00:00:00"), input_tokens=1_000_000)
        self.event(at("2026-03-16 00:00:00"), model_name="other-model", input_tokens=1_000_000)
        self.event(at("2026-03-31 12:00:00"), kind="tool_call")
        statement = self.statement()
        statement.action_compute()
        self.assertEqual(
            self.lines(statement),
            [
                ("assistant", "claude-test", "tokens_input", 1_000_000, 3.0, 3.0),
                # The new version prices tool calls at 0 (its default): a quantity, no amount.
                ("assistant", False, "tool_call", 1, 0.0, 0.0),
                ("assistant", "claude-test", "tokens_input", 1_000_000, 6.0, 6.0),
                ("assistant", "other-model", "tokens_input", 1_000_000, 2.0, 2.0),
            ],
        )
        self.assertEqual(statement.version_ids, self.version | new_prices)
        self.assertEqual(statement.amount_total, 11.0)

    def test_events_before_the_plans_first_version_are_not_billed(self):
        self.version.date_from = "2026-03-10"
        self.event(at("2026-03-09 23:59:59"), input_tokens=1_000_000)
        self.event(at("2026-03-10 00:00:00"), input_tokens=2_000_000)
        statement = self.statement()
        statement.action_compute()
        self.assertEqual(
            self.lines(statement), [("assistant", "claude-test", "tokens_input", 2_000_000, 3.0, 6.0)]
        )
        self.assertEqual(statement.event_count, 1)

    def test_the_included_quota_is_deducted_up_to_the_months_usage(self):
        self.version.included_amount = 5
        self.march_ledger()
        statement = self.statement()
        statement.action_compute()
        self.assertEqual(self.lines(statement)[-1], (False, False, "quota", 1, -5.0, -5.0))
        self.assertEqual(
            (statement.amount_usage, statement.amount_included, statement.amount_total), (7.96, -5.0, 2.96)
        )
        # A quota above the usage brings the month to zero, never below.
        self.version.included_amount = 10
        statement.action_compute()
        self.assertEqual(self.lines(statement)[-1], (False, False, "quota", 1, -7.96, -7.96))
        self.assertEqual(statement.amount_total, 0.0)

    def test_the_quota_is_the_one_of_the_version_in_force_when_the_month_starts(self):
        self.version.included_amount = 1
        self.env["aia.billing.plan.version"].create(
            {"plan_id": self.plan.id, "date_from": "2026-03-16", "price_input": 1, "included_amount": 50}
        )
        self.event(at("2026-03-20 00:00:00"), model_name="other-model", input_tokens=4_000_000)
        statement = self.statement()
        statement.action_compute()
        self.assertEqual((statement.amount_usage, statement.amount_included), (4.0, -1.0))

    def test_a_plan_starting_during_the_month_gives_the_quota_of_its_first_version(self):
        self.version.write({"date_from": "2026-03-10", "included_amount": 3})
        self.event(at("2026-03-12 00:00:00"), model_name="other-model", input_tokens=4_000_000)
        statement = self.statement()
        statement.action_compute()
        self.assertEqual((statement.amount_usage, statement.amount_included), (4.0, -3.0))

    def test_recomputing_a_draft_statement_gives_identical_lines(self):
        self.version.included_amount = 2
        self.march_ledger()
        statement = self.statement()
        statement.action_compute()
        first = self.lines(statement)
        first_versions = statement.line_ids.version_id
        statement.action_compute()
        self.assertEqual(self.lines(statement), first)
        self.assertEqual(statement.line_ids.version_id, first_versions)
        self.assertEqual(statement.amount_total, 5.96)

    def test_big_months_are_computed_in_a_job_day_by_day_to_the_same_lines(self):
        self.march_ledger()
        inline = self.statement()
        inline.action_compute()
        expected = self.lines(inline)
        inline.line_ids.with_context(aia_billing_compute=True).unlink()
        self.env["ir.config_parameter"].set_param("aia_billing.job_threshold", "7")
        with trap_jobs() as trap:
            inline.action_compute()
            trap.assert_jobs_count(1, only=inline._aia_job_compute)
            self.assertFalse(inline.line_ids)
            perform_jobs(self, trap)
        self.assertEqual(self.lines(inline), expected)
        self.assertEqual((inline.compute_progress, inline.amount_total), (100, 7.96))

    def test_a_statement_being_computed_in_a_job_cannot_be_computed_again(self):
        self.env["ir.config_parameter"].set_param("aia_billing.job_threshold", "0")
        self.event(at("2026-03-02 00:00:00"), input_tokens=10)
        statement = self.statement()
        statement.action_compute()  # a stored, pending queue job
        self.assertTrue(statement.computing)
        with self.assertRaisesRegex(UserError, "being computed"):
            statement.action_compute()
        with self.assertRaisesRegex(UserError, "being computed"):
            statement.action_confirm()

    def test_confirmed_statements_are_frozen(self):
        self.march_ledger()
        statement = self.statement()
        statement.action_compute()
        statement.action_confirm()
        frozen = self.lines(statement)
        self.event(at("2026-03-05 00:00:00"), input_tokens=5_000_000)
        with self.assertRaisesRegex(UserError, "frozen"):
            statement.action_compute()
        with self.assertRaises(UserError):
            statement.line_ids[0].write({"amount": 0})
        with self.assertRaises(UserError):
            statement.line_ids[0].unlink()
        with self.assertRaises(UserError):
            statement.unlink()
        # The prices it used cannot change either: a new version is the way.
        with self.assertRaisesRegex(UserError, "later effective date"):
            self.version.price_input = 9
        with self.assertRaisesRegex(UserError, "later effective date"):
            self.version.price_ids.price_input = 9
        statement.invalidate_recordset()
        self.assertEqual(self.lines(statement), frozen)
        # Back to draft, a recompute sees the new event.
        statement.action_reset_to_draft()
        statement.action_compute()
        self.assertEqual(statement.amount_usage, 22.96)

    def test_the_usage_ledger_is_never_modified(self):
        self.march_ledger()
        self.env.flush_all()
        query = "SELECT * FROM aia_usage_event ORDER BY id"
        self.env.cr.execute(query)
        before = self.env.cr.fetchall()
        statement = self.statement()
        statement.action_compute()
        statement.action_compute()
        statement.action_confirm()
        self.env.flush_all()
        self.env.cr.execute(query)
        self.assertEqual(self.env.cr.fetchall(), before)
        event = self.env["aia.usage.event"].search([], limit=1)
        with self.assertRaises(UserError):
            event.write({"input_tokens": 0})
        with self.assertRaises(UserError):
            event.unlink()

    def test_statement_lines_are_only_written_by_the_compute(self):
        statement = self.statement()
        with self.assertRaisesRegex(UserError, "usage ledger"):
            self.env["aia.billing.statement.line"].create(
                {"statement_id": statement.id, "kind": "tool_call", "quantity": 1, "amount": 100}
            )

    def test_the_period_is_a_month_starting_on_its_first_day(self):
        statement = self.env["aia.billing.statement"].create(
            {"company_id": self.company.id, "period_start": "2026-03-17"}
        )
        self.assertEqual(statement.period_start.isoformat(), "2026-03-01")
        self.assertEqual(statement.name, f"AI usage 2026-03 · {self.company.name}")

    def test_the_monthly_cron_computes_last_months_statements_once(self):
        self.march_ledger()
        cron = self.env.ref("ai_billing.ir_cron_aia_monthly_statements")
        for _run in range(2):
            with freeze_time("2026-04-01 01:00:00"), self.enter_registry_test_mode():
                cron.method_direct_trigger()
        statements = self.env["aia.billing.statement"].search([("period_start", "=", MARCH)])
        self.assertEqual(statements.company_id, self.company | self.other_company)
        mine = statements.filtered(lambda s: s.company_id == self.company)
        self.assertEqual(self.lines(mine), MARCH_LINES)
        theirs = statements - mine
        self.assertEqual(
            self.lines(theirs), [("assistant", "claude-test", "tokens_input", 7_000_000, 3.0, 21.0)]
        )

    def test_the_priced_usage_report_matches_the_statement(self):
        self.march_ledger()
        statement = self.statement()
        statement.action_compute()
        Report = self.env["aia.billing.usage.report"]
        domain = [
            ("company_id", "=", self.company.id),
            ("date", ">=", "2026-03-01"),
            ("date", "<", "2026-04-01"),
        ]
        by_kind = {
            (agent.code, model or False, kind): (quantity, amount)
            for agent, model, kind, quantity, amount in Report._read_group(
                domain, ["agent_id", "model_name", "kind"], ["quantity:sum", "amount:sum"]
            )
        }
        self.assertEqual(len(by_kind), len(MARCH_LINES))
        for code, model, kind, quantity, _price, amount in MARCH_LINES:
            report_quantity, report_amount = by_kind[code, model, kind]
            self.assertEqual(report_quantity, quantity)
            # The report is unrounded, the statement rounds each line to the cent.
            self.assertAlmostEqual(report_amount, amount, delta=0.00501)
        # Per user and month, as the pivot shows it.
        [(user, month, total)] = Report._read_group(domain, ["user_id", "date:month"], ["amount:sum"])
        self.assertEqual(user, self.user)
        self.assertAlmostEqual(total, 7.96, delta=0.02)


@tagged("post_install", "-at_install")
class TestStatementTraces(TracingMixin, BillingCase):
    def test_a_statements_compute_job_continues_the_trace_that_queued_it(self):
        self.march_ledger()
        statement = self.statement()
        self.env["ir.config_parameter"].set_param("aia_billing.job_threshold", "0")
        caller = tracing.start_span("caller")
        with trap_jobs() as trap, tracing.using(caller):
            statement.action_compute()
        caller.end()
        perform_jobs(self, trap)
        [job] = self.finished("job aia.billing.statement._aia_job_compute")
        self.assertChildOf(job, self.finished("caller")[0])
        self.assertEqual(statement.compute_progress, 100)
