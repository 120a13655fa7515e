from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolInputError

from .common import FinanceCase

RECONCILE = "finance.reconcile_account"


@tagged("post_install", "-at_install")
class TestReconcileAccount(FinanceCase):
    def _by_line(self, result):
        return {entry["statement_line"]["id"]: entry["suggestion"] for entry in result["lines"]}

    def test_suggests_open_invoices_and_bills_with_confidence_and_reasons(self):
        result = self.call(RECONCILE)
        suggestions = self._by_line(result)
        self.assertEqual(result["unreconciled_count"], 5)
        self.assertEqual(
            set(suggestions),
            {*(self.st_inv + self.st_bill + self.st_unknown + self.st_cash + self.st_eur).ids},
        )

        receivable_line = self.inv_tax.line_ids.filtered(lambda line: line.account_id == self.receivable)
        self.assertEqual(
            suggestions[self.st_inv.id],
            {
                "document": self.inv_tax.name,
                "journal_item_ids": receivable_line.ids,
                "installment": False,
                "partner": "partner_a",
                "due_date": "2019-01-10",
                "open_amount": 1150.0,
                "currency": "USD",
                "confidence": 0.99,
                "level": "high",
                "reasons": [
                    "amount 1150.00 equals the open amount",
                    f"reference {self.inv_tax.name} appears in the bank label",
                    "same partner",
                ],
                "other_candidates": 0,
            },
        )
        bill = suggestions[self.st_bill.id]
        self.assertEqual((bill["document"], bill["open_amount"]), (self.bill.name, -800.0))
        self.assertEqual((bill["confidence"], bill["level"]), (0.7, "medium"))
        self.assertEqual(bill["reasons"], ["amount 800.00 equals the open amount", "same partner"])
        # A EUR bank line is compared with the EUR invoice in EUR, whose payment terms split it in
        # two installments (30 % now, 70 % later): the 600 pays the whole document.
        eur = suggestions[self.st_eur.id]
        installments = self.inv_eur.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        self.assertEqual(
            (eur["document"], eur["open_amount"], eur["currency"], eur["installment"], eur["level"]),
            (self.inv_eur.name, 600.0, "EUR", False, "medium"),
        )
        self.assertEqual(sorted(eur["journal_item_ids"]), sorted(installments.ids))
        self.assertIsNone(suggestions[self.st_unknown.id])
        self.assertIsNone(suggestions[self.st_cash.id])

    def test_an_installment_is_matched_on_its_own(self):
        advance = self.env["account.bank.statement.line"].create(
            {
                "journal_id": self.bank_eur.id,
                "date": "2019-03-02",
                "amount": 180.0,
                "payment_ref": f"Advance 30% {self.inv_eur.name}",
                "partner_id": self.partner_b.id,
            }
        )
        [entry] = self.call(RECONCILE, {"statement_line_ids": [advance.id]})["lines"]
        first = self.inv_eur.line_ids.filtered(lambda line: line.amount_residual_currency == 180.0)
        suggestion = entry["suggestion"]
        self.assertEqual(
            (suggestion["journal_item_ids"], suggestion["installment"], suggestion["open_amount"]),
            (first.ids, True, 180.0),
        )
        self.assertEqual((suggestion["confidence"], suggestion["level"]), (0.99, "high"))
        # The whole document and the other installment quote the same reference: two candidates.
        self.assertEqual(suggestion["other_candidates"], 2)

    def test_never_reconciles(self):
        partials = self.env["account.partial.reconcile"].search_count([])
        self.call(RECONCILE)
        self.assertEqual(self.env["account.partial.reconcile"].search_count([]), partials)
        self.assertFalse(self.st_inv.is_reconciled)
        self.assertEqual(self.inv_tax.payment_state, "not_paid")

    def test_scope_and_threshold(self):
        only = self.call(RECONCILE, {"statement_line_ids": [self.st_inv.id]})
        self.assertEqual(list(self._by_line(only)), [self.st_inv.id])
        cash = self.call(RECONCILE, {"journal": self.cash.code})
        self.assertEqual(list(self._by_line(cash)), [self.st_cash.id])
        strict = self._by_line(self.call(RECONCILE, {"min_confidence": 0.8}))
        self.assertIsNone(strict[self.st_bill.id])
        self.assertEqual(strict[self.st_inv.id]["level"], "high")
        first = self.call(RECONCILE, {"limit": 2})
        self.assertEqual((len(first["lines"]), first["truncated"]), (2, True))

    def test_lines_of_another_company_are_refused(self):
        with self.assertRaisesRegex(ToolInputError, f"no statement line {self.st_b.id}"):
            self.call(RECONCILE, {"statement_line_ids": [self.st_b.id]})
        with self.assertRaisesRegex(ToolInputError, "belongs to Company B"):
            self.call(RECONCILE, {"journal": self.bank_b.id})
