import importlib.util
import json
from pathlib import Path

from odoo import Command
from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine.testing import reply, tool_calls, unwrap_tool_result
from odoo.addons.ai_core.ai_engine.untrusted import TOOL_OUTPUT_TAG

from .common import FinanceCase

TOOLS = {
    "finance.get_gl_balance": "GetGLBalance",
    "finance.list_gl_accounts": "ListGLAccounts",
    "finance.get_cash_flow": "GetCashFlow",
    "finance.get_bank_balance": "GetBankBalance",
    "finance.get_bank_transactions": "GetBankTransactions",
    "finance.reconcile_account": "ReconcileAccount",
    "finance.get_profit_and_loss": "GetProfitAndLoss",
    "finance.get_balance_sheet": "GetBalanceSheet",
    "finance.get_trial_balance": "GetTrialBalance",
    "finance.get_aged_balance": "GetAgedBalance",
    "finance.get_overdue_invoices": "GetOverdueInvoices",
    "finance.get_tax_totals": "GetTaxTotals",
    "finance.get_unmatched_payments": "GetUnmatchedPayments",
    "finance.send_payment_reminder": "SendPaymentReminder",
    "finance.draft_vendor_bill": "DraftVendorBill",
    "finance.reconcile_match": "ReconcileMatch",
}
WRITE_TOOLS = ("finance.send_payment_reminder", "finance.draft_vendor_bill", "finance.reconcile_match")
# The smallest valid arguments of each tool.
JANUARY = {"date_from": "2019-01-01", "date_to": "2019-01-31"}
ARGUMENTS = {
    "finance.get_cash_flow": JANUARY,
    "finance.get_profit_and_loss": JANUARY,
    "finance.get_trial_balance": JANUARY,
    "finance.get_tax_totals": JANUARY,
    "finance.send_payment_reminder": {"customer": "partner_a"},
    "finance.draft_vendor_bill": {
        "vendor": "partner_a",
        "lines": [{"description": "Paper", "unit_price": 5}],
    },
    "finance.reconcile_match": {"payment_line": 1, "invoice": 1},
}


@tagged("post_install", "-at_install")
class TestFinanceAgent(FinanceCase):
    def test_the_agent_ships_in_shadow_mode_with_its_read_and_write_tools(self):
        self.assertShipsInShadowMode(self.agent, TOOLS, writes=WRITE_TOOLS)

    def test_the_model_calls_a_tool_and_the_answer_carries_the_figure(self):
        model, session = self.run_turn(
            "How much did customers owe us at the end of 2019?",
            ("finance_get_gl_balance", {"account_types": ["asset_receivable"], "date_to": "2019-12-31"}),
            "Customers owed 1,450.00 USD at the end of 2019.",
        )
        # The agent's accounting prompt and rules are what the model was given.
        execution = self.assertAnswered(
            model,
            session,
            TOOLS,
            "finance.get_gl_balance",
            "finance assistant",
            "Never invent or estimate a figure",
        )
        # What the model read before answering is the ledger's figure, inside the wrapper that
        # marks it as untrusted data.
        result = self.told(model)
        self.assertTrue(result.content.startswith(f'<{TOOL_OUTPUT_TAG} status="ok">\n'), result.content)
        self.assertPersisted(session, model, execution)
        totals = json.loads(unwrap_tool_result(result.content))["totals"]
        self.assertEqual(totals, {"debit": 1950.0, "credit": 500.0, "balance": 1450.0})
        self.assertIn("1,450.00 USD", session.last_text)

    def test_a_session_in_company_b_sees_company_b_books_only(self):
        args = {"account_types": ["asset_receivable"], "date_to": "2019-12-31"}
        model = self.script(tool_calls(("finance_get_gl_balance", args)), reply("7,000.00"))
        # Same user, two companies: each session reads the books of its own company.
        session_b = self.new_session(user=self.accountant, company_id=self.company_b.id)
        self.chat(session_b, "Receivables?")
        output_b = json.loads(unwrap_tool_result(self.told(model).content))
        self.assertEqual((output_b["company"], output_b["totals"]["balance"]), ("Company B", 7000.0))

        model, session_a = self.run_turn("Receivables?", ("finance_get_gl_balance", args), "1,450.00")
        output_a = json.loads(unwrap_tool_result(self.told(model).content))
        self.assertEqual((output_a["company"], output_a["totals"]["balance"]), (self.company_a.name, 1450.0))

    def test_a_user_without_accounting_rights_gets_a_denied_result(self):
        _execution, result = self.assertDeniedTurn(
            "What is our revenue?",
            ("finance_get_gl_balance", {"date_to": "2019-12-31"}),
            "You lack accounting access.",
        )
        self.assertNotIn("1800", result.content)

    def test_every_tool_denies_users_without_accounting_rights(self):
        for name in TOOLS:
            with self.subTest(tool=name):
                self.assertDenied(name, ARGUMENTS.get(name))

    def test_a_managers_question_on_the_results_gets_the_statements_figures(self):
        args = {"date_from": "2019-03-01", "date_to": "2019-03-31"}
        model, session = self.run_turn(
            "How did March go compared with February?",
            ("finance_get_profit_and_loss", args),
            "Net profit: 300.00 USD in March, 2,100.00 USD in February.",
        )
        self.assertAnswered(model, session, TOOLS, "finance.get_profit_and_loss", "GetProfitAndLoss")
        told = json.loads(unwrap_tool_result(self.told(model).content))
        self.assertEqual(told["net_profit"], self.call("finance.get_profit_and_loss", args)["net_profit"])
        self.assertEqual(told["comparison_period"], {"date_from": "2019-02-01", "date_to": "2019-02-28"})

    def test_the_upgrade_gives_an_existing_agent_the_new_tools(self):
        """The agent is noupdate data: databases installed before the new tools get them from the
        migration, with the rest of the agent's configuration untouched."""
        agent = self.agent.sudo()
        new = agent.tool_ids.filtered(lambda tool: tool.name in list(TOOLS)[6:13])
        self.assertEqual(len(new), 7)
        agent.write(
            {"tool_ids": [Command.unlink(tool.id) for tool in new], "system_prompt": "Our own prompt."}
        )
        path = Path(__file__).parents[1] / "migrations" / "19.0.1.1.0" / "post-migrate.py"
        spec = importlib.util.spec_from_file_location("finance_post_migrate", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "19.0.1.0.0")
        self.assertEqual(set(agent.tool_ids.mapped("name")), set(TOOLS))
        self.assertEqual(agent.system_prompt, "Our own prompt.")

    def test_the_upgrade_gives_an_existing_agent_the_write_tools_and_when_to_use_them(self):
        """Databases installed before the write tools get them, the prompt paragraph on them and
        the rule, appended to what the company wrote; a second run adds nothing twice."""
        agent = self.agent.sudo()
        writes = agent.tool_ids.filtered(lambda tool: tool.name in WRITE_TOOLS)
        agent.write(
            {
                "tool_ids": [Command.unlink(tool.id) for tool in writes],
                "system_prompt": "Our own prompt.",
                "rules": "Our own rule.",
            }
        )
        path = Path(__file__).parents[1] / "migrations" / "19.0.1.2.0" / "post-migrate.py"
        spec = importlib.util.spec_from_file_location("finance_post_migrate_writes", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        for _run in range(2):
            migration.migrate(self.env.cr, "19.0.1.1.0")
        self.assertEqual(set(agent.tool_ids.mapped("name")), set(TOOLS))
        prompt, paragraph = agent.system_prompt.split("\n\n", 1)
        self.assertEqual(prompt, "Our own prompt.")
        self.assertTrue(paragraph.startswith("Changing the books:\n- Three tools change data"))
        self.assertEqual(paragraph.count("SendPaymentReminder"), 1)
        self.assertEqual(
            agent.rules.splitlines(),
            [
                "Our own rule.",
                "Send reminders, draft bills or reconcile only when the user asks; never post a bill. If a "
                "write tool is refused, tell the user they need Invoicing rights.",
            ],
        )
