import datetime as dt

from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolDenied, ToolInputError

from .common import SalesMarketingCase

TOOL = "sales.get_quotations_pipeline"
OPEN = [("state", "in", ["draft", "sent"])]


@tagged("post_install", "-at_install")
class TestQuotationsPipeline(SalesMarketingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.quotations_and_orders()

    def report_of(self, orders, user=None, company=None):
        """Odoo's sales analysis of ``orders``: (count, untaxed, total) in the company currency."""
        count, untaxed, total = self.sales_report(
            user or self.manager,
            [("name", "in", [order.name for order in orders])],
            [],
            ["order_reference:count_distinct", "price_subtotal:sum", "price_total:sum"],
            company=company,
        )[()]
        return {"quotations": count, "amount_untaxed": round(untaxed, 2), "amount_total": round(total, 2)}

    def test_amounts_per_status_and_expiration_are_the_sales_analysis_ones(self):
        result = self.call(TOOL, {})
        self.assertEqual((result["company"], result["currency"]), (self.company_a.name, "USD"))
        self.assertEqual(result["today"], str(dt.date.today()))
        self.assertEqual(self.q1.currency_id, self.eur)
        Order = self.user_env(self.manager)["sale.order"]
        quotations = Order.search(OPEN)
        self.assertEqual(quotations, self.q1 + self.q2 + self.q3 + self.q4 + self.quotation)
        # Odoo's pivot of the sales analysis, per status, converts each order at its own rate.
        per_status = self.sales_report(
            self.manager,
            OPEN,
            ["state"],
            ["order_reference:count_distinct", "price_subtotal:sum", "price_total:sum"],
        )
        self.assertEqual(
            result["by_status"],
            [
                {
                    "status": label,
                    "quotations": per_status[state][0],
                    "amount_untaxed": round(per_status[state][1], 2),
                    "amount_total": round(per_status[state][2], 2),
                }
                for state, label in (("draft", "Quotation"), ("sent", "Quotation Sent"))
            ],
        )
        self.assertEqual(result["totals"], self.report_of(quotations))
        self.assertEqual(result["totals"]["amount_untaxed"], 7200.0, "Q1-Q5 of the class doc")
        # Expired as Odoo's is_expired says; expiring: the expiration date within the next 7 days.
        today = dt.date.today()
        expired = quotations.filtered("is_expired")
        self.assertEqual(expired, self.q3)
        expiring = quotations.filtered(
            lambda o: o.validity_date and today <= o.validity_date <= today + dt.timedelta(days=7)
        )
        self.assertEqual(expiring, self.q1 + self.quotation)
        later = quotations.filtered(
            lambda o: o.validity_date and o.validity_date > today + dt.timedelta(days=7)
        )
        self.assertEqual(
            result["by_expiration"],
            {
                "expired": self.report_of(expired),
                "expiring": self.report_of(expiring),
                "valid_later": self.report_of(later),
                "no_expiration": self.report_of(quotations.filtered(lambda o: not o.validity_date)),
            },
        )
        # Soonest first; the EUR quotation's total at its own rate (the order's total / 0.8).
        self.assertEqual(
            [(row["quotation"], row["days_left"], row["expiration_date"]) for row in result["expiring"]],
            [(self.quotation.name, 0, str(today)), (self.q1.name, 3, str(today + dt.timedelta(days=3)))],
        )
        self.assertEqual(result["expiring"][1]["amount_total"], self.report_of(self.q1)["amount_total"])
        self.assertEqual(
            result["expiring"][1],
            {
                **result["expiring"][1],
                "customer": "Beta Ltd",
                "status": "Quotation",
                "quotation_id": self.q1.id,
                "salesperson": self.q1.user_id.name,
            },
        )
        self.assertEqual(
            [(row["quotation"], row["days_left"]) for row in result["expired"]], [(self.q3.name, -5)]
        )
        self.assertFalse(result["truncated"])

    def test_horizon_limit_and_filters(self):
        result = self.call(TOOL, {"expiring_within_days": 30, "limit": 1})
        self.assertEqual(result["by_expiration"]["expiring"]["quotations"], 3)
        self.assertEqual([row["quotation"] for row in result["expiring"]], [self.quotation.name])
        self.assertTrue(result["truncated"])
        self.q2.user_id = self.alice
        result = self.call(TOOL, {"salesperson": "Alice Seller"})
        self.assertEqual(result["filters"], {"salesperson": "Alice Seller"})
        self.assertEqual(result["totals"], self.report_of(self.q2))

    def test_a_salesperson_sees_their_own_quotations_only(self):
        (self.q1 + self.q3).user_id = self.bob
        result = self.call(TOOL, {}, user=self.bob)
        # What Odoo shows Bob: his own quotations only.
        self.assertEqual(self.user_env(self.bob)["sale.order"].search(OPEN), self.q1 + self.q3)
        self.assertEqual(result["totals"], self.report_of(self.q1 + self.q3, user=self.bob))
        self.assertEqual([row["quotation"] for row in result["expired"]], [self.q3.name])

    def test_company_b_figures_only_in_a_company_b_session(self):
        result = self.call(TOOL, {}, company=self.company_b)
        self.assertEqual(result["company"], "Company B")
        self.assertEqual(result["totals"], self.report_of(self.q_b, company=self.company_b))
        self.assertEqual([row["quotation"] for row in result["expiring"]], [self.q_b.name])
        # A company A session cannot reach company B's quotations through the arguments.
        with self.assertRaisesRegex(ToolInputError, "unknown sales team"):
            self.call(TOOL, {"team": self.team_b.id})
        self.assertNotIn(self.q_b.name, str(self.call(TOOL, {"expiring_within_days": 365, "limit": 100})))
        # A user without Sales rights is refused before anything is read.
        with self.assertRaises(ToolDenied):
            self.call(TOOL, {}, user=self.user)
