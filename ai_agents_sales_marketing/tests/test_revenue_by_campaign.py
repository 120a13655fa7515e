from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolDenied

from .common import SalesMarketingCase

TOOL = "sales.get_revenue_by_campaign"
APRIL = {"date_from": "2025-04-01", "date_to": "2025-04-30"}
IN_APRIL = [("state", "=", "sale"), ("date", ">=", "2025-04-01"), ("date", "<", "2025-05-01")]
EMPTY = {"campaign": "No campaign", "source": "No source", "medium": "No medium"}


@tagged("post_install", "-at_install")
class TestRevenueByCampaign(SalesMarketingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_orders()
        cls.spring, cls.fall = cls.utm("campaign", "Spring promo", "Fall promo")
        cls.newsletter, cls.search_engine = cls.utm("source", "Zq Newsletter", "Zq Search engine")
        [cls.email] = cls.utm("medium", "Zq Email")
        # April: Spring brought John's 1 000 and Beta's 1 000 EUR; Fall, Gamma's 800; Acme's 500 none.
        (cls.order_a1 + cls.order_b1).write(
            {"campaign_id": cls.spring.id, "source_id": cls.newsletter.id, "medium_id": cls.email.id}
        )
        cls.order_g1.write({"campaign_id": cls.fall.id, "source_id": cls.search_engine.id})
        # Company B's order and company A's quotation in the Spring campaign are not A's revenue.
        (cls.order_b + cls.quotation).campaign_id = cls.spring

    def report(self, groupby, user=None, company=None):
        return self.sales_report(
            user or self.manager,
            IN_APRIL,
            [groupby] if groupby else [],
            ["order_reference:count_distinct", "price_subtotal:sum"],
            company=company,
        )

    def test_revenue_per_campaign_source_and_medium_is_the_sales_analysis_one(self):
        result = self.call(TOOL, APRIL)
        self.assertEqual((result["company"], result["currency"]), (self.company_a.name, "USD"))
        total_orders, total = self.report(None)[()]
        self.assertEqual(result["totals"], {"orders": total_orders, "revenue": round(total, 2)})
        self.assertEqual(result["totals"]["revenue"], 3550.0, "the April orders of _build_orders")
        for key in ("campaign", "source", "medium"):
            with self.subTest(breakdown=key):
                groups = self.report(f"{key}_id")
                expected = [
                    {
                        key: record.display_name if record else EMPTY[key],
                        f"{key}_id": record.id or None,
                        "orders": orders,
                        "revenue": round(revenue, 2),
                        "share_pct": round(100 * revenue / total, 1),
                    }
                    for record, (orders, revenue) in sorted(groups.items(), key=lambda item: -item[1][1])
                ]
                self.assertEqual(result[f"by_{key}"], expected)
        self.assertEqual(
            [(row["campaign"], row["revenue"]) for row in result["by_campaign"]],
            [("Spring promo", 2250.0), ("Fall promo", 800.0), ("No campaign", 500.0)],
        )
        self.assertFalse(result["truncated"])

    def test_filters_and_limit(self):
        result = self.call(TOOL, {**APRIL, "campaign": "Spring promo", "limit": 1})
        self.assertEqual(result["filters"], {"campaign": "Spring promo"})
        self.assertEqual(result["totals"]["revenue"], 2250.0)
        self.assertFalse(result["truncated"])
        result = self.call(TOOL, {**APRIL, "limit": 1})
        self.assertEqual([row["campaign"] for row in result["by_campaign"]], ["Spring promo"])
        self.assertTrue(result["truncated"])
        self.assertInputErrors(TOOL, [({"medium": "Carrier pigeon"}, "unknown medium 'Carrier pigeon'")])

    def test_a_salesperson_sees_their_own_orders_only(self):
        self.order_b1.user_id = self.bob
        result = self.call(TOOL, APRIL, user=self.bob)
        [(campaign, (orders, revenue))] = self.report("campaign_id", user=self.bob).items()
        self.assertEqual(
            result["by_campaign"],
            [
                {
                    "campaign": campaign.name,
                    "campaign_id": campaign.id,
                    "orders": orders,
                    "revenue": revenue,
                    "share_pct": 100.0,
                }
            ],
        )
        self.assertEqual(revenue, 1250.0)

    def test_company_b_revenue_only_in_a_company_b_session(self):
        result = self.call(TOOL, APRIL, company=self.company_b)
        [(campaign, (orders, revenue))] = self.report("campaign_id", company=self.company_b).items()
        self.assertEqual(
            [(row["campaign"], row["orders"], row["revenue"]) for row in result["by_campaign"]],
            [(campaign.name, orders, revenue)],
        )
        # Company A's session asking for the campaign gets A's revenue of it only.
        result = self.call(TOOL, {**APRIL, "campaign": self.spring.id})
        self.assertEqual(result["totals"]["revenue"], 2250.0)
        with self.assertRaises(ToolDenied):
            self.call(TOOL, APRIL, user=self.user)
