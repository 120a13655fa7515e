from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolDenied, ToolInputError
from odoo.addons.ai_core.rendering import records_in
from odoo.addons.ai_core.tools.catalogue import RECORD_KEYS

from .common import SalesMarketingCase

TOOL = "sales.get_top_customers"
APRIL = {"date_from": "2025-04-01", "date_to": "2025-04-30"}


@tagged("post_install", "-at_install")
class TestTopCustomers(SalesMarketingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_orders()

    def test_top_customers_with_the_change_against_the_previous_period(self):
        self.assertEqual(self.order_b1.currency_id, self.eur)
        self.assertEqual(self.order_b1.currency_rate, 0.8)
        result = self.call(TOOL, APRIL)
        self.assertEqual(result["currency"], "USD")
        self.assertEqual(result["period"], {"from": "2025-04-01", "to": "2025-04-30"})
        self.assertEqual(result["previous_period"], {"from": "2025-03-02", "to": "2025-03-31"})
        self.assertEqual(
            result["customers"],
            [
                {
                    "rank": 1,
                    "customer": "Acme Corp",  # its contact John's order counts for it
                    "customer_id": self.acme.id,
                    "revenue": 1500.0,
                    "orders": 2,
                    "share_pct": 42.3,
                    "previous_revenue": 1000.0,
                    "previous_orders": 1,
                    "change": 500.0,
                    "change_pct": 50.0,
                },
                {
                    "rank": 2,
                    "customer": "Beta Ltd",  # 1 000 EUR at the order's rate 0.8
                    "customer_id": self.beta.id,
                    "revenue": 1250.0,
                    "orders": 1,
                    "share_pct": 35.2,
                    "previous_revenue": 0.0,
                    "previous_orders": 0,
                    "change": 1250.0,
                    "change_pct": None,
                },
                {
                    "rank": 3,
                    "customer": "Gamma LLC",
                    "customer_id": self.gamma.id,
                    "revenue": 800.0,
                    "orders": 1,
                    "share_pct": 22.5,
                    "previous_revenue": 2000.0,
                    "previous_orders": 1,
                    "change": -1200.0,
                    "change_pct": -60.0,
                },
            ],
        )
        # Quotations, cancelled orders and company B's orders are not revenue of company A.
        self.assertEqual(
            result["totals"],
            {"revenue": 3550.0, "orders": 4, "customers": 3, "previous_revenue": 3200.0, "change_pct": 10.9},
        )
        self.assertFalse(result["truncated"])
        # An answer naming a customer links to its contact.
        self.assertIn(("res.partner", self.acme.id, "Acme Corp"), records_in(result, RECORD_KEYS[TOOL]))

    def test_limit_and_salesperson_filter(self):
        result = self.call(TOOL, {**APRIL, "limit": 1})
        self.assertEqual([row["customer"] for row in result["customers"]], ["Acme Corp"])
        self.assertTrue(result["truncated"])
        self.assertEqual(result["totals"]["revenue"], 3550.0)
        (self.order_g1 + self.order_g0).user_id = self.alice
        result = self.call(TOOL, {**APRIL, "salesperson": "Alice Seller"})
        self.assertEqual(
            [(row["customer"], row["revenue"], row["previous_revenue"]) for row in result["customers"]],
            [("Gamma LLC", 800.0, 2000.0)],
        )

    def test_a_salesperson_sees_their_own_orders(self):
        self.order_a1.user_id = self.bob
        result = self.call(TOOL, APRIL, user=self.bob)
        self.assertEqual(
            [(row["customer"], row["revenue"]) for row in result["customers"]], [("Acme Corp", 1000.0)]
        )

    def test_a_company_b_session_sees_company_b_orders(self):
        result = self.call(TOOL, APRIL, company=self.company_b)
        self.assertEqual(result["company"], "Company B")
        self.assertEqual(
            [(row["customer"], row["revenue"]) for row in result["customers"]], [("Acme Corp", 9000.0)]
        )

    def test_reversed_period_and_no_rights(self):
        with self.assertRaisesRegex(
            ToolInputError, "the period is reversed: date_from 2025-04-30 is after date_to 2025-04-01"
        ):
            self.call(TOOL, {"date_from": "2025-04-30", "date_to": "2025-04-01"})
        with self.assertRaises(ToolDenied):
            self.call(TOOL, APRIL, user=self.user)
