from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolInputError

from .common import FinanceCase

CASH_FLOW = "finance.get_cash_flow"
BANK_BALANCE = "finance.get_bank_balance"
TRANSACTIONS = "finance.get_bank_transactions"


def _flow(rows):
    return [
        (row["start"], row["end"], row["opening"], row["inflows"], row["outflows"], row["closing"])
        for row in rows
    ]


@tagged("post_install", "-at_install")
class TestBankTools(FinanceCase):
    """GetCashFlow, GetBankBalance, GetBankTransactions (one class: the books take a while to build)."""

    # === GetCashFlow === #

    def periods(self, date_from, date_to, **arguments):
        """The cash flow's periods from ``date_from`` to ``date_to``, as :func:`_flow` rows."""
        result = self.call(CASH_FLOW, {"date_from": date_from, "date_to": date_to, **arguments})
        return _flow(result["periods"])

    def test_monthly_cash_flow_of_the_liquidity_accounts(self):
        result = self.call(CASH_FLOW, {"date_from": "2019-01-01", "date_to": "2019-03-31"})
        # Bank lines in USD, the cash payment, and 600 EUR at 0.5 in March; company B's 7000 is not there.
        self.assertEqual(
            _flow(result["periods"]),
            [
                ("2019-01-01", "2019-01-31", 0.0, 1150.0, 800.0, 350.0),
                ("2019-02-01", "2019-02-28", 350.0, 750.0, 0.0, 1100.0),
                ("2019-03-01", "2019-03-31", 1100.0, 300.0, 30.0, 1370.0),
            ],
        )
        self.assertEqual(
            (result["opening"], result["inflows"], result["outflows"], result["closing"]),
            (0.0, 2200.0, 830.0, 1370.0),
        )
        self.assertEqual(result["currency"], "USD")
        self.assertEqual(len(result["accounts"]), 3)

    def test_opening_balance_is_everything_before_the_range(self):
        self.assertEqual(
            self.periods("2019-02-01", "2019-02-28"),
            [("2019-02-01", "2019-02-28", 350.0, 750.0, 0.0, 1100.0)],
        )

    def test_weeks_start_on_the_users_first_day_of_week(self):
        # en_US weeks start on Sunday: 2019-01-13 and 2019-01-20 are Sundays.
        self.assertEqual(
            self.periods("2019-01-13", "2019-01-26", granularity="week"),
            [
                ("2019-01-13", "2019-01-19", 0.0, 1150.0, 0.0, 1150.0),
                ("2019-01-20", "2019-01-26", 1150.0, 0.0, 800.0, 350.0),
            ],
        )

    def test_daily_rows_include_days_without_movement(self):
        self.assertEqual(
            self.periods("2019-01-14", "2019-01-16", granularity="day"),
            [
                ("2019-01-14", "2019-01-14", 0.0, 0.0, 0.0, 0.0),
                ("2019-01-15", "2019-01-15", 0.0, 1150.0, 0.0, 1150.0),
                ("2019-01-16", "2019-01-16", 1150.0, 0.0, 0.0, 1150.0),
            ],
        )

    def test_cash_flow_of_one_journal(self):
        result = self.call(
            CASH_FLOW, {"date_from": "2019-03-01", "date_to": "2019-03-31", "journal": self.cash.id}
        )
        self.assertEqual(_flow(result["periods"]), [("2019-03-01", "2019-03-31", 0.0, 0.0, 30.0, -30.0)])
        self.assertEqual(result["accounts"], [self.cash.default_account_id.code])

    def test_cash_flow_bad_input_is_a_clear_error(self):
        cases = [
            ({"date_from": "2019-01-01", "date_to": "2019-12-31", "granularity": "day"}, "365 day periods"),
            ({"date_from": "2019-02-01", "date_to": "2019-01-01"}, "range is reversed"),
            ({"date_from": "2019-01-01", "date_to": "2019-01-31", "journal": "INV"}, "is a sale journal"),
            (
                {"date_from": "2019-01-01", "date_to": "2019-01-31", "journal": self.bank_b.id},
                "belongs to Company B",
            ),
        ]
        self.assertInputErrors(CASH_FLOW, cases)

    # === GetBankBalance === #

    def test_ledger_statement_and_unreconciled_per_journal(self):
        result = self.call(BANK_BALANCE, {"date": "2019-12-31"})
        journals = {row["journal"]: row for row in result["journals"]}
        self.assertEqual(set(journals), {"BNK1", self.cash.code, "BEUR"})
        self.assertEqual(
            journals["BNK1"],
            {
                "journal": "BNK1",
                "name": self.bank.name,
                "type": "bank",
                "account": self.bank.default_account_id.code,
                "currency": "USD",
                "gl_balance": 1100.0,
                "last_statement": {"name": "FEB", "date": "2019-02-12", "ending_balance": 1100.0},
                # st_inv 1150, st_bill -800, st_unknown 250; the paid line is reconciled.
                "unreconciled": {"count": 3, "amount": 600.0},
            },
        )
        self.assertEqual(journals[self.cash.code]["gl_balance"], -30.0)
        self.assertIsNone(journals[self.cash.code]["last_statement"])
        self.assertEqual(journals[self.cash.code]["unreconciled"], {"count": 1, "amount": -30.0})
        eur = journals["BEUR"]
        self.assertEqual(
            (eur["currency"], eur["gl_balance"], eur["gl_balance_company_currency"]), ("EUR", 600.0, 300.0)
        )
        self.assertEqual(result["total_gl_balance_company_currency"], 1370.0)
        self.assertEqual(result["company_currency"], "USD")

    def test_bank_balance_as_of_an_earlier_date(self):
        result = self.call(BANK_BALANCE, {"journal": "BNK1", "date": "2019-01-31"})
        [row] = result["journals"]
        self.assertEqual(row["gl_balance"], 350.0)
        self.assertEqual(
            row["last_statement"], {"name": "JAN", "date": "2019-01-25", "ending_balance": 350.0}
        )
        self.assertEqual(row["unreconciled"], {"count": 2, "amount": 350.0})

    def test_bank_balance_refuses_bad_journals(self):
        with self.assertRaisesRegex(ToolInputError, "belongs to Company B"):
            self.call(BANK_BALANCE, {"journal": self.bank_b.id})
        with self.assertRaisesRegex(ToolInputError, "is a purchase journal"):
            self.call(BANK_BALANCE, {"journal": "BILL"})
        # A user of company B only cannot even read company A's journal.
        with self.assertRaisesRegex(ToolInputError, f"no journal with id {self.bank.id}"):
            self.call(BANK_BALANCE, {"journal": self.bank.id}, user=self.accountant_b)

    # === Archived bank journals and accounts === #

    def close_bank(self, journal):
        """Archive ``journal`` and its account, as an accountant does once the bank account is
        closed; returns the account, whose entries stay in the ledger."""
        account = journal.default_account_id
        journal.action_archive()
        account.action_archive()
        self.assertFalse(journal.active or account.active)
        return account

    def liquidity_items(self, company, date_from=None, date_to=None):
        """(debit, credit, balance) of ``company``'s posted journal items on the accounts of type
        Bank and Cash, as the journal items pivot filtered on that account type gives them: Odoo's
        own domain, in which an account's archived state plays no part."""
        domain = [
            ("company_id", "=", company.id),
            ("parent_state", "=", "posted"),
            ("account_id.account_type", "=", "asset_cash"),
            ("date", "<=", date_to),
        ]
        if date_from:
            domain.append(("date", ">=", date_from))
        [(debit, credit, balance)] = self.env["account.move.line"]._read_group(
            domain, [], ["debit:sum", "credit:sum", "balance:sum"]
        )
        return tuple(company.currency_id.round(amount) for amount in (debit, credit, balance))

    def test_cash_flow_counts_archived_bank_accounts(self):
        for company, journal in ((self.company_a, self.bank), (self.company_b, self.bank_b)):
            with self.subTest(company=company.name):
                account = self.close_bank(journal).with_company(company)  # its code is per company
                result = self.call(
                    CASH_FLOW, {"date_from": "2019-01-16", "date_to": "2019-03-31"}, company=company
                )
                _debit, _credit, opening = self.liquidity_items(company, date_to="2019-01-15")
                inflows, outflows, _balance = self.liquidity_items(company, "2019-01-16", "2019-03-31")
                _debit, _credit, closing = self.liquidity_items(company, date_to="2019-03-31")
                self.assertEqual(
                    (result["opening"], result["inflows"], result["outflows"], result["closing"]),
                    (opening, inflows, outflows, closing),
                )
                self.assertIn(account.code, result["accounts"])
                # The closed account's own balance (all its entries are of early 2019) is the
                # closing of its journal's cash flow, and is not nothing.
                own = account.current_balance
                self.assertTrue(own)
                one = self.call(
                    CASH_FLOW,
                    {"date_from": "2019-01-16", "date_to": "2019-03-31", "journal": journal.id},
                    company=company,
                )
                self.assertEqual((one["accounts"], one["closing"]), ([account.code], own))

    def test_bank_balance_counts_archived_journals(self):
        as_of = "2019-12-31"
        for company, journal in ((self.company_a, self.bank), (self.company_b, self.bank_b)):
            with self.subTest(company=company.name):
                self.close_bank(journal)
                # An archived journal that never held anything.
                unused = (
                    self.env["account.journal"]
                    .with_company(company)
                    .create({"name": "Old bank", "code": "OLDB", "type": "bank", "company_id": company.id})
                )
                unused.action_archive()
                result = self.call(BANK_BALANCE, {"date": as_of}, company=company)
                rows = {row["journal"]: row for row in result["journals"]}
                # Odoo's own figure for the journal: the bank balance of its dashboard card.
                balance, _count = journal._get_journal_bank_account_balance(
                    domain=[("parent_state", "=", "posted"), ("date", "<=", as_of)]
                )
                self.assertTrue(balance)
                self.assertEqual(
                    (rows[journal.code]["gl_balance"], rows[journal.code].get("archived")), (balance, True)
                )
                self.assertEqual([code for code, row in rows.items() if row.get("archived")], [journal.code])
                self.assertEqual(
                    result["total_gl_balance_company_currency"],
                    self.liquidity_items(company, date_to=as_of)[2],
                )
                # Asked for by name, an archived journal answers even with nothing in it.
                [asked] = self.call(BANK_BALANCE, {"date": as_of, "journal": "OLDB"}, company=company)[
                    "journals"
                ]
                self.assertEqual((asked["gl_balance"], asked["archived"]), (0.0, True))

    # === GetBankTransactions === #

    def _ids(self, result):
        return [line["id"] for line in result["lines"]]

    def test_lists_lines_with_totals_per_currency(self):
        result = self.call(TRANSACTIONS)
        self.assertEqual(result["count"], 6)
        self.assertEqual(
            sorted(result["totals"], key=lambda total: total["currency"]),
            [
                {"currency": "EUR", "count": 1, "inflows": 600.0, "outflows": 0.0},
                {"currency": "USD", "count": 5, "inflows": 1900.0, "outflows": 830.0},
            ],
        )
        self.assertNotIn(self.st_b.id, self._ids(result))
        line = next(line for line in result["lines"] if line["id"] == self.st_inv.id)
        self.assertEqual(
            line,
            {
                "id": self.st_inv.id,
                "date": "2019-01-15",
                "journal": "BNK1",
                "label": f"Payment {self.inv_tax.name} thanks",
                "partner": "partner_a",
                "amount": 1150.0,
                "currency": "USD",
                "reconciled": False,
                "statement": "JAN",
            },
        )

    def test_transaction_filters(self):
        cases = [
            ({"reconciled": True}, [self.st_paid]),
            ({"reconciled": False, "journal": "BNK1"}, [self.st_unknown, self.st_bill, self.st_inv]),
            ({"amount_min": 500}, [self.st_eur, self.st_paid, self.st_bill, self.st_inv]),
            ({"amount_min": 500, "amount_max": 1000}, [self.st_eur, self.st_paid, self.st_bill]),
            ({"direction": "out"}, [self.st_cash, self.st_bill]),
            ({"direction": "in", "amount_max": 300}, [self.st_unknown]),
            ({"partner": "partner_a"}, [self.st_bill, self.st_inv]),
            ({"label": "coffee"}, [self.st_cash]),
            ({"date_from": "2019-02-01", "date_to": "2019-02-28"}, [self.st_paid, self.st_unknown]),
        ]
        for args, expected in cases:
            with self.subTest(args=args):
                result = self.call(TRANSACTIONS, args)
                self.assertEqual(self._ids(result), [line.id for line in expected])
                self.assertEqual(result["count"], len(expected))

    def test_pagination(self):
        first = self.call(TRANSACTIONS, {"journal": "BNK1", "limit": 2})
        self.assertEqual(self._ids(first), [self.st_paid.id, self.st_unknown.id])
        self.assertEqual((first["count"], first["truncated"]), (4, True))
        rest = self.call(TRANSACTIONS, {"journal": "BNK1", "limit": 2, "offset": 2})
        self.assertEqual(self._ids(rest), [self.st_bill.id, self.st_inv.id])
        self.assertFalse(rest["truncated"])

    def test_transactions_bad_input_is_a_clear_error(self):
        with self.assertRaisesRegex(ToolInputError, "amount_min 900 is above amount_max 100"):
            self.call(TRANSACTIONS, {"amount_min": 900, "amount_max": 100})
        with self.assertRaisesRegex(ToolInputError, "belongs to Company B"):
            self.call(TRANSACTIONS, {"journal": self.bank_b.id})
