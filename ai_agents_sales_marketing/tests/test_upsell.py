from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolDenied, ToolInputError

from .common import SalesMarketingCase

TOOL = "sales.get_upsell_opportunities"
APRIL = {"date_from": "2025-04-01", "date_to": "2025-04-30"}


@tagged("post_install", "-at_install")
class TestUpsellOpportunities(SalesMarketingCase):
    """April's confirmed orders hold Laptop in 3 orders (Beta, John for Acme, Gamma), Mouse in 2
    (Beta, John), both together in 2; Bag with Laptop and with Mouse in 1 (John's). Kit, in Beta's
    and John's orders, is no longer saleable."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_orders()

    def suggestion(self, product, because, together, confidence):
        return {
            "product": product.display_name,
            "product_id": product.id,
            "because_they_buy": because.display_name,
            "orders_together": together,
            "confidence_pct": confidence,
        }

    def test_products_bought_together_that_the_top_customers_never_bought(self):
        result = self.call(TOOL, APRIL)
        # The period's top customers by revenue, in that order; only Gamma lacks a product
        # often bought with what it buys: Mouse, in 2 of the 3 orders holding Laptop.
        self.assertEqual(
            result["recommendations"],
            [
                {"customer": "Acme Corp", "customer_id": self.acme.id, "suggestions": []},
                {"customer": "Beta Ltd", "customer_id": self.beta.id, "suggestions": []},
                {
                    "customer": "Gamma LLC",
                    "customer_id": self.gamma.id,
                    "suggestions": [self.suggestion(self.mouse, self.laptop, 2, 66.7)],
                },
            ],
        )

    def test_rarer_pairs_on_request_with_the_best_reason_first(self):
        result = self.call(TOOL, {**APRIL, "min_orders_together": 1})
        recommendations = {row["customer"]: row["suggestions"] for row in result["recommendations"]}
        self.assertEqual(recommendations["Acme Corp"], [])  # it bought them all
        # Bag for Beta: with Mouse in 1 of 2 orders (50 %) beats with Laptop (1 of 3); Kit, never
        # suggested itself, ties with Mouse and loses on the product order.
        self.assertEqual(recommendations["Beta Ltd"], [self.suggestion(self.bag, self.mouse, 1, 50.0)])
        self.assertEqual(
            recommendations["Gamma LLC"],
            [
                self.suggestion(self.mouse, self.laptop, 2, 66.7),
                self.suggestion(self.bag, self.laptop, 1, 33.3),
            ],
        )
        result = self.call(
            TOOL, {**APRIL, "min_orders_together": 1, "suggestions": 1, "customer": "gamma llc"}
        )
        self.assertEqual(result["filters"], {"customer": "Gamma LLC"})
        self.assertEqual(
            result["recommendations"],
            [
                {
                    "customer": "Gamma LLC",
                    "customer_id": self.gamma.id,
                    "suggestions": [self.suggestion(self.mouse, self.laptop, 2, 66.7)],
                }
            ],
        )

    def test_a_contact_stands_for_its_company(self):
        result = self.call(TOOL, {**APRIL, "customer": "John Buyer", "min_orders_together": 1})
        self.assertEqual(
            result["recommendations"],
            [{"customer": "Acme Corp", "customer_id": self.acme.id, "suggestions": []}],
        )

    def test_customers_whose_order_frequency_dropped(self):
        result = self.call(TOOL, APRIL)
        self.assertEqual(
            result["declining_customers"],
            [
                {
                    "customer": "Delta Inc",
                    "customer_id": self.delta.id,
                    "previous_orders": 2,
                    "orders": 0,
                    "change_pct": -100.0,
                    "last_order": "2025-03-20",
                    "days_since_last_order": 41,
                }
            ],
        )
        self.assertFalse(result["truncated"])
        # One order of Delta in April is a 50 % drop: listed at 50, not above.
        self.order_d2.date_order = "2025-04-02 10:00:00"
        extra = self.order_d1.copy()
        extra.action_confirm()
        extra.date_order = "2025-03-06 10:00:00"
        self.assertEqual(
            [row["orders"] for row in self.call(TOOL, {**APRIL, "min_drop_pct": 50})["declining_customers"]],
            [1],
        )
        self.assertEqual(self.call(TOOL, {**APRIL, "min_drop_pct": 60})["declining_customers"], [])

    def test_company_b_and_access(self):
        result = self.call(TOOL, APRIL, company=self.company_b)
        self.assertEqual(
            result["recommendations"],
            [{"customer": "Acme Corp", "customer_id": self.acme.id, "suggestions": []}],
        )
        self.assertEqual(result["declining_customers"], [])
        with self.assertRaises(ToolDenied):
            self.call(TOOL, APRIL, user=self.user)
        with self.assertRaisesRegex(ToolInputError, "unknown customer 'Nobody Inc'"):
            self.call(TOOL, {**APRIL, "customer": "Nobody Inc"})
