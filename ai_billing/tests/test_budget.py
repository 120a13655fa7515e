from psycopg2 import IntegrityError

from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from odoo.addons.ai_core.ai_engine.testing import reply
from odoo.addons.ai_core.tests.common import perform_jobs
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import BillingCase, at

NOW = at("2026-05-20 12:00:00")


@tagged("post_install", "-at_install")
class TestBudget(BillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.colleague = cls.make_user("aia_colleague", "ai_core.group_aia_user")

    def setUp(self):
        super().setUp()
        self.startPatcher(freeze_time(NOW))

    def budget(self, amount, scope="company", company=None, **values):
        return self.env["aia.billing.budget"].create(
            {"company_id": (company or self.company).id, "scope": scope, "amount": amount, **values}
        )

    def spend(self, amount, **values):
        """Usage worth ``amount`` USD this month (claude-test input: 3 USD per 1M tokens)."""
        return self.event(at("2026-05-02 00:00:00"), input_tokens=int(amount * 1_000_000 / 3), **values)

    def test_a_spent_budget_refuses_the_turn_before_any_provider_call(self):
        self.budget(5)
        self.spend(6)
        model = self.script(reply("never sent"))
        session = self.new_session()
        spent = r"monthly AI budget of .* is spent \(\$\xa0?6\.00 used of \$\xa0?5\.00 in 2026-05\)"
        with self.assertRaisesRegex(UserError, spent):
            session.post_message("Hello")
        self.assertEqual(model.requests, [])
        with self.assertRaisesRegex(UserError, "is spent"):
            self.env["aia.session"].with_user(self.user).start("assistant", "Hello")
        self.assertEqual(model.requests, [])
        # Last month's usage does not count: May started afresh for another company's budget.
        april = at("2026-04-30 23:59:59")
        self.event(april, company=self.other_company, user=self.user_b, input_tokens=10**8)
        self.budget(5, company=self.other_company)
        other = self.new_session(user=self.user_b)
        self.chat(other, "Hello")
        self.assertEqual(model.requests[0].messages[-1].text, "Hello")

    def test_a_turn_already_queued_is_refused_when_the_budget_is_spent_meanwhile(self):
        self.budget(5)
        model = self.script(reply("never sent"))
        session = self.new_session()
        with trap_jobs() as trap:
            session.post_message("Hello")
            self.spend(5)
            perform_jobs(self, trap)
        self.assertEqual(model.requests, [])
        session.invalidate_recordset()
        self.assertEqual(session.state, "error")
        self.assertIn("is spent", session.error_message)
        self.assertEqual(session.message_ids_aia.mapped("role"), ["user"])

    def test_a_budget_without_hard_stop_only_warns(self):
        self.budget(5, hard_stop=False)
        self.spend(6)
        self.script(reply("Hi."))
        session = self.new_session()
        self.chat(session, "Hello")
        self.assertEqual(session.state, "done")

    def test_the_warning_level_notifies_the_ai_managers_once_a_month(self):
        budget = self.budget(10, warning_percent=80)
        self.spend(7.9)
        self.script(reply("One."), reply("Two."), reply("Three."))
        session = self.new_session()
        self.chat(session, "First")
        self.assertFalse(budget.activity_ids)
        self.spend(0.2)  # 8.10 of 10
        self.chat(session, "Second")
        self.assertEqual(session.state, "done")
        activity = budget.activity_ids.filtered(lambda a: a.user_id == self.manager)
        self.assertEqual(len(activity), 1)
        self.assertIn("8.10", activity.note)
        self.assertEqual(budget.warned_period.isoformat(), "2026-05-01")
        self.assertNotIn(self.user_b, budget.activity_ids.user_id)
        self.chat(session, "Third")
        self.assertEqual(budget.activity_ids.filtered(lambda a: a.user_id == self.manager), activity)

    def test_the_hourly_cron_warns_of_budgets_crossed_since_the_last_turn(self):
        budget = self.budget(10, warning_percent=50)
        self.spend(6)
        with freeze_time(NOW), self.enter_registry_test_mode():
            self.env.ref("ai_billing.ir_cron_aia_budget_warnings").method_direct_trigger()
        self.assertTrue(budget.activity_ids.filtered(lambda a: a.user_id == self.manager))

    def test_user_and_agent_budgets_apply_to_their_user_and_agent_only(self):
        self.budget(1, scope="user", user_id=self.colleague.id)
        self.budget(1, scope="agent", agent_id=self.analyst.id)
        self.spend(2, user=self.colleague)
        self.spend(2, agent=self.analyst)
        model = self.script(reply("Hi."))
        # The colleague's own budget is spent.
        with self.assertRaisesRegex(UserError, "your monthly AI budget is spent"):
            self.new_session(user=self.colleague).post_message("Hello")
        # The analyst agent's budget is spent, whoever uses it.
        with self.assertRaisesRegex(UserError, "budget of the agent Analyst is spent"):
            self.new_session(agent=self.analyst).post_message("Hello")
        self.assertEqual(model.requests, [])
        # Neither concerns this user with this agent, although the company used 4.00 this month.
        session = self.new_session()
        self.chat(session, "Hello")
        self.assertEqual(session.state, "done")

    def test_usage_is_valued_at_the_plan_prices_and_shown_on_the_budget(self):
        budget = self.budget(10)
        self.spend(3)
        self.event(at("2026-05-03 00:00:00"), kind="tool_call")  # 0.002
        self.event(at("2026-05-03 00:00:00"), kind="tool_call")  # 0.002: 0.004 rounds to 0.00
        self.assertEqual((budget.used_amount, budget.used_percent), (3.0, 30.0))
        self.assertEqual(budget.currency_id, self.usd)

    def test_a_company_without_a_plan_measures_the_provider_cost(self):
        self.company.aia_billing_plan_id = False
        budget = self.budget(1)
        self.event(at("2026-05-03 00:00:00"), input_tokens=10, cost=0.75)
        self.assertEqual(budget.used_amount, 0.75)
        self.event(at("2026-05-03 00:00:00"), input_tokens=10, cost=0.25)
        with self.assertRaisesRegex(UserError, "is spent"):
            self.new_session().post_message("Hello")

    @mute_logger("odoo.sql_db")
    def test_one_active_budget_per_target_and_a_target_per_scope(self):
        self.budget(5, scope="user", user_id=self.colleague.id)
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            self.budget(7, scope="user", user_id=self.colleague.id)
            self.env.flush_all()
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            self.budget(7, scope="user")
            self.env.flush_all()
        # Archived budgets do not count.
        self.env["aia.billing.budget"].search([]).active = False
        self.env.flush_all()
        self.budget(7, scope="user", user_id=self.colleague.id)
