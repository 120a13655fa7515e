from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, tagged

from odoo.addons.ai_core.ai_engine.testing import reply

from .common import BillingCase, at


@tagged("post_install", "-at_install")
class TestMultiCompany(BillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager_b = cls.make_user("aia_billing_manager_b", "ai_core.group_aia_manager", cls.other_company)

    def test_statements_are_computed_and_seen_per_company(self):
        self.march_ledger()
        self.event(at("2026-03-02 00:00:00"), company=self.other_company, user=self.user_b, kind="tool_call")
        mine, theirs = self.statement(), self.statement(company=self.other_company)
        (mine | theirs).action_compute()
        self.assertEqual(mine.amount_total, 7.96)
        self.assertEqual(theirs.event_count, 2)
        self.assertEqual(theirs.amount_total, 21.0)  # 7M tokens × 3, the tool call rounds to 0.00
        Statement = self.env["aia.billing.statement"].with_user(self.manager_b)
        self.assertEqual(Statement.search([]), theirs.with_user(self.manager_b))
        with self.assertRaises(AccessError):
            mine.with_user(self.manager_b).read(["amount_total"])
        Line = self.env["aia.billing.statement.line"].with_user(self.manager_b)
        self.assertEqual(Line.search([]).statement_id, theirs)
        Report = self.env["aia.billing.usage.report"].with_user(self.manager_b)
        self.assertEqual(set(Report.search([]).mapped("company_id.id")), {self.other_company.id})
        # A manager of the other company cannot compute ours either.
        with self.assertRaises(AccessError):
            mine.with_user(self.manager_b).action_compute()

    def test_budgets_are_per_company(self):
        Budget = self.env["aia.billing.budget"]
        mine = Budget.create({"company_id": self.company.id, "amount": 1})
        theirs = Budget.create({"company_id": self.other_company.id, "amount": 1})
        self.assertEqual(Budget.with_user(self.manager_b).search([]), theirs.with_user(self.manager_b))
        with self.assertRaises(AccessError):
            mine.with_user(self.manager_b).read(["amount"])
        with freeze_time("2026-05-20 12:00:00"):
            # The other company spent its budget; this company's users chat on.
            may = at("2026-05-02 00:00:00")
            self.event(may, company=self.other_company, user=self.user_b, input_tokens=10**6)
            self.script(reply("Hi."))
            session = self.new_session()
            self.chat(session, "Hello")
            self.assertEqual(session.state, "done")
            with self.assertRaisesRegex(UserError, "Company B is spent"):
                self.new_session(user=self.user_b).post_message("Hello")

    def test_ai_users_cannot_read_billing(self):
        self.march_ledger()
        statement = self.statement()
        statement.action_compute()
        for model in ("aia.billing.statement", "aia.billing.budget", "aia.billing.plan"):
            with self.assertRaises(AccessError):
                self.env[model].with_user(self.user).search([])
        with self.assertRaises(AccessError):
            self.env["aia.billing.usage.report"].with_user(self.user).search([])
