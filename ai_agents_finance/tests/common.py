from odoo import Command

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.ai_core.tests.pack_case import AgentPackMixin


class FinanceCase(AgentPackMixin, AccountTestInvoicingCommon):
    """Books of two companies built with Odoo's own account test helpers, and the Finance agent.

    Company A (USD, generic chart), all dated 2019 (EUR is worth 0.5 USD that year):

    ====================  ==========  =============================================  =============
    document              date        what                                           receivable
    ====================  ==========  =============================================  =============
    inv_tax               2019-01-10  partner_a, 1000 + 15 % tax = 1150              +1150
    bill                  2019-01-20  partner_a, 800, no tax                         (payable -800)
    inv_analytic          2019-02-05  partner_b, 500, analytic "Project X"           +500
    st_paid (bank)        2019-02-12  +500 from partner_b, reconciled with it        -500
    inv_eur               2019-03-01  partner_b, 600 EUR = 300 USD                   +300
    inv_draft (draft)     2019-03-15  partner_a, 999                                 (+999 draft)
    ====================  ==========  =============================================  =============

    Unreconciled bank lines: st_inv 2019-01-15 +1150 "Payment <inv_tax>" partner_a, st_bill
    2019-01-25 -800 partner_a, st_unknown 2019-02-10 +250; statements JAN (st_inv, st_bill, ending
    350) and FEB (st_unknown, st_paid, ending 1100). Cash journal: -30 on 2019-03-03. EUR bank
    journal: +600 EUR (300 USD) from partner_b on 2019-03-05. Company B: an invoice of 7000 and a
    bank line of +7000, which company A's figures must never include.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.company_data["company"]
        cls.company_b_data = cls.setup_other_company(name="Company B")
        cls.company_b = cls.company_b_data["company"]
        cls.eur = cls.setup_other_currency("EUR")
        cls.bank = cls.company_data["default_journal_bank"]
        cls.cash = cls.company_data["default_journal_cash"]
        cls.receivable = cls.company_data["default_account_receivable"]
        cls.revenue = cls.company_data["default_account_revenue"]
        cls._build_books()
        cls._build_agent_side()

    @classmethod
    def _build_books(cls):
        cls.inv_tax = cls.init_invoice(
            "out_invoice", cls.partner_a, "2019-01-10", amounts=[1000.0], taxes=cls.tax_sale_a, post=True
        )
        cls.bill = cls.init_invoice(
            "in_invoice", cls.partner_a, "2019-01-20", amounts=[800.0], taxes=[], post=True
        )
        cls.inv_analytic = cls.init_invoice(
            "out_invoice", cls.partner_b, "2019-02-05", amounts=[500.0], taxes=[], post=True
        )
        plan = cls.env["account.analytic.plan"].create({"name": "Projects"})
        cls.project_x = cls.env["account.analytic.account"].create(
            {"name": "Project X", "code": "PX", "plan_id": plan.id, "company_id": cls.company_a.id}
        )
        cls.inv_analytic.invoice_line_ids.analytic_distribution = {str(cls.project_x.id): 100}
        cls.inv_eur = cls.init_invoice(
            "out_invoice", cls.partner_b, "2019-03-01", amounts=[600.0], taxes=[], currency=cls.eur, post=True
        )
        cls.inv_draft = cls.init_invoice(
            "out_invoice", cls.partner_a, "2019-03-15", amounts=[999.0], taxes=[]
        )

        StLine = cls.env["account.bank.statement.line"]
        cls.st_inv = StLine.create(
            {
                "journal_id": cls.bank.id,
                "date": "2019-01-15",
                "amount": 1150.0,
                "payment_ref": f"Payment {cls.inv_tax.name} thanks",
                "partner_id": cls.partner_a.id,
            }
        )
        cls.st_bill = StLine.create(
            {
                "journal_id": cls.bank.id,
                "date": "2019-01-25",
                "amount": -800.0,
                "payment_ref": "Supplier transfer",
                "partner_id": cls.partner_a.id,
            }
        )
        cls.st_unknown = StLine.create(
            {
                "journal_id": cls.bank.id,
                "date": "2019-02-10",
                "amount": 250.0,
                "payment_ref": "Unknown deposit",
            }
        )
        cls.st_paid = cls.pay_with_statement_line(cls.inv_analytic, cls.bank.id, "2019-02-12", 500.0)[
            "statement_line_reconciled"
        ].statement_line_id
        Statement = cls.env["account.bank.statement"]
        cls.statement_jan = Statement.create(
            {
                "name": "JAN",
                "line_ids": [Command.set((cls.st_inv + cls.st_bill).ids)],
                "balance_end_real": 350.0,
            }
        )
        cls.statement_feb = Statement.create(
            {
                "name": "FEB",
                "line_ids": [Command.set((cls.st_unknown + cls.st_paid).ids)],
                "balance_start": 350.0,
                "balance_end_real": 1100.0,
            }
        )
        cls.st_cash = StLine.create(
            {"journal_id": cls.cash.id, "date": "2019-03-03", "amount": -30.0, "payment_ref": "Coffee"}
        )
        cls.bank_eur = cls.env["account.journal"].create(
            {
                "name": "Bank EUR",
                "code": "BEUR",
                "type": "bank",
                "currency_id": cls.eur.id,
                "company_id": cls.company_a.id,
            }
        )
        cls.st_eur = StLine.create(
            {
                "journal_id": cls.bank_eur.id,
                "date": "2019-03-05",
                "amount": 600.0,
                "payment_ref": "Transfer",
                "partner_id": cls.partner_b.id,
            }
        )

        # Company B's books: same partner, other company.
        cls.inv_b = cls.init_invoice(
            "out_invoice",
            cls.partner_a,
            "2019-01-10",
            amounts=[7000.0],
            taxes=[],
            company=cls.company_b,
            post=True,
        )
        cls.bank_b = cls.company_b_data["default_journal_bank"]
        cls.st_b = StLine.with_company(cls.company_b).create(
            {
                "journal_id": cls.bank_b.id,
                "date": "2019-01-15",
                "amount": 7000.0,
                "payment_ref": "Big customer",
            }
        )

    @classmethod
    def _build_agent_side(cls):
        # AI configuration is the AI Manager's: the test env's user is an accountant, not one.
        provider = cls.env["aia.provider"].sudo().create({"name": "Test provider", "api_key": "test-key"})
        usd = cls.env.ref("base.USD")
        cls.llm = (
            cls.env["aia.model"]
            .sudo()
            .create({"name": "claude-test", "provider_id": provider.id, "currency_id": usd.id})
        )
        cls.agent = cls.env.ref("ai_agents_finance.agent_finance")
        a, b = cls.company_a, cls.company_b
        cls.accountant = cls.new_user(
            "fin_accountant", "account.group_account_readonly,ai_core.group_aia_user", a + b
        )
        cls.billing_user = cls.new_user(
            "fin_billing", "account.group_account_invoice,ai_core.group_aia_user", a
        )
        cls.accountant_b = cls.new_user(
            "fin_accountant_b", "account.group_account_readonly,ai_core.group_aia_user", b
        )
        # Without accounting rights: the user assertDenied() and assertDeniedTurn() run as by default.
        cls.user = cls.new_user("fin_employee", "base.group_user,ai_core.group_aia_user", a)
        cls.tool_user = cls.accountant


class FinanceReportsCase(FinanceCase):
    """:class:`FinanceCase`'s books plus what the report tools need (company A, 2019):

    ============  ==========  ========================================================  ============
    document      date        what                                                      due
    ============  ==========  ========================================================  ============
    inv_due       2019-02-01  partner_a, 2000 + 15 % tax = 2300                         2019-03-03
    pay_partial   2019-04-10  1000 received on inv_due, registered, not on a statement
    refund        2019-03-20  partner_b, credit note of 100
    bill_tax      2019-02-15  partner_b, 400 + 15 % purchase tax = 460                   2019-02-15
    pay_matched   2019-01-28  800 paid on ``bill``, then matched with a bank line (01-29)
    misc          2019-03-31  100 from an account archived since, to the bank suspense
    ============  ==========  ========================================================  ============

    Company B: 2000 received on its 7000 invoice on 2019-02-01, registered only; inv_b_due, an
    invoice of 900 to partner_b dated 2019-02-10, due 30 days later.
    """

    @classmethod
    def _build_books(cls):
        built = super()._build_books()
        cls.inv_due = cls.init_invoice(
            "out_invoice", cls.partner_a, "2019-02-01", amounts=[2000.0], taxes=cls.tax_sale_a
        )
        cls.inv_due.write(
            {
                "invoice_payment_term_id": cls.env.ref("account.account_payment_term_30days").id,
                # A section line: no account, no amount; the statements must not trip on it.
                "invoice_line_ids": [Command.create({"display_type": "line_section", "name": "Services"})],
            }
        )
        cls.inv_due.action_post()
        cls.pay_partial = cls._register_payment(
            cls.inv_due, amount=1000.0, payment_date="2019-04-10", journal_id=cls.bank.id
        )
        cls.refund = cls.init_invoice(
            "out_refund", cls.partner_b, "2019-03-20", amounts=[100.0], taxes=[], post=True
        )
        cls.bill_tax = cls.init_invoice(
            "in_invoice", cls.partner_b, "2019-02-15", amounts=[400.0], taxes=cls.tax_purchase_a, post=True
        )
        cls.pay_matched = cls._register_payment(cls.bill, payment_date="2019-01-28", journal_id=cls.bank.id)
        st_matched = cls.env["account.bank.statement.line"].create(
            {"journal_id": cls.bank.id, "date": "2019-01-29", "amount": -800.0, "payment_ref": "Bill paid"}
        )
        _liquidity, suspense, _other = st_matched.with_context(
            skip_account_move_synchronization=True
        )._seek_for_lines()
        outstanding = cls.pay_matched.move_id.line_ids.filtered(
            lambda line: line.account_id == cls.pay_matched.outstanding_account_id
        )
        suspense.account_id = outstanding.account_id
        (suspense + outstanding).reconcile()
        cls.closed_account = cls.env["account.account"].create(
            {"code": "499900", "name": "Closed income", "account_type": "income_other"}
        )
        cls.misc = cls.env["account.move"].create(
            {
                "move_type": "entry",
                "date": "2019-03-31",
                "journal_id": cls.company_data["default_journal_misc"].id,
                "line_ids": [
                    Command.create({"account_id": cls.bank.suspense_account_id.id, "debit": 100.0}),
                    Command.create({"account_id": cls.closed_account.id, "credit": 100.0}),
                ],
            }
        )
        cls.misc.action_post()
        cls.closed_account.active = False
        cls.inv_b_due = cls.init_invoice(
            "out_invoice", cls.partner_b, "2019-02-10", amounts=[900.0], taxes=[], company=cls.company_b
        )
        cls.inv_b_due.invoice_payment_term_id = cls.env.ref("account.account_payment_term_30days")
        cls.inv_b_due.action_post()
        cls.pay_b = cls._register_payment(
            cls.inv_b.with_company(cls.company_b),
            amount=2000.0,
            payment_date="2019-02-01",
            journal_id=cls.bank_b.id,
        )
        return built


class FinanceWriteCase(FinanceCase):
    """:class:`FinanceCase`'s books for the write tools, run by a billing user (Odoo's Invoicing
    group) of company A, with an AI operator to approve. Customers have e-mail addresses, as
    reminders need them; ``billing_ab`` works in both companies."""

    @classmethod
    def _build_agent_side(cls):
        built = super()._build_agent_side()
        cls.partner_a.email = "partner_a@example.com"
        cls.partner_b.email = "partner_b@example.com"
        a, b = cls.company_a, cls.company_b
        groups = "account.group_account_invoice,ai_core.group_aia_user"
        cls.billing_ab = cls.new_user("fin_billing_ab", groups, a + b)
        cls.operator = cls.new_user("fin_operator", "ai_core.group_aia_operator", a)
        cls.tool_user = cls.billing_user
        return built
