from odoo import Command
from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolDenied, ToolInputError

from .common import SalesMarketingCase

TOOL = "sales.get_sales_by_product"
APRIL = {"date_from": "2025-04-01", "date_to": "2025-04-30"}
IN_APRIL = [("state", "=", "sale"), ("date", ">=", "2025-04-01"), ("date", "<", "2025-05-01")]
COSTS = {"laptop": 500.0, "mouse": 40.0, "bag": 80.0, "screen": 250.0}


@tagged("post_install", "-at_install")
class TestSalesByProduct(SalesMarketingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_orders()
        Category = cls.env["product.category"]
        cls.hardware = Category.create({"name": "Hardware"})
        cls.accessories = Category.create({"name": "Accessories", "parent_id": cls.hardware.id})
        cls.services = Category.create({"name": "Services"})
        (cls.laptop + cls.screen + cls.dock).categ_id = cls.hardware
        (cls.mouse + cls.bag).categ_id = cls.accessories
        cls.kit.categ_id = cls.services
        # Costs are per company: company B pays more for its laptops. The dock and the kit have none.
        for name, cost in COSTS.items():
            getattr(cls, name).with_company(cls.company_a).standard_price = cost
        cls.laptop.with_company(cls.company_b).standard_price = 700.0
        # A dozen mice sold in April: 12 units of the mouse's own unit.
        dozen = cls.env.ref("uom.product_uom_dozen")
        cls.order_dozen = cls.env["sale.order"].create(
            {
                "partner_id": cls.delta.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": cls.mouse.id,
                            "product_uom_qty": 1,
                            "product_uom_id": dozen.id,
                            "price_unit": 600,
                        }
                    )
                ],
            }
        )
        cls.order_dozen.action_confirm()
        cls.order_dozen.date_order = "2025-04-25 10:00:00"

    def report(self, groupby, domain=(), user=None, company=None):
        return self.sales_report(
            user or self.manager,
            IN_APRIL + list(domain),
            [groupby],
            ["product_uom_qty:sum", "price_subtotal:sum", "order_reference:count_distinct"],
            company=company,
        )

    def test_quantities_revenue_and_margin_per_product_and_category(self):
        result = self.call(TOOL, APRIL)
        self.assertEqual((result["company"], result["currency"]), (self.company_a.name, "USD"))
        per_product = self.report("product_id")
        products = self.laptop + self.mouse + self.bag + self.kit
        self.assertEqual(set(per_product), set(products), "the April orders of the class docs")
        expected = []
        for product in products:  # by revenue, as the tool sorts them
            quantity, revenue, orders = per_product[product]
            # What sale_margin would show: revenue - cost x quantity, the product's cost in company A.
            cost = product.with_company(self.company_a).standard_price * quantity
            expected.append(
                {
                    "product": product.display_name,
                    "product_id": product.id,
                    "category": product.categ_id.display_name,
                    "quantity": quantity,
                    "unit": product.uom_id.name,
                    "orders": orders,
                    "revenue": round(revenue, 2),
                    "cost": round(cost, 2),
                    "margin": round(revenue - cost, 2),
                    "margin_pct": round(100 * (revenue - cost) / revenue, 1) if revenue else None,
                }
            )
        self.assertEqual(result["products"], expected)
        # The figures of the class docs: the EUR order at its rate, a dozen mice as 12 mice.
        self.assertEqual(
            [(row["product"], row["quantity"], row["revenue"], row["cost"]) for row in result["products"]],
            [
                ("Laptop", 3.0, 2525.0, 1500.0),
                ("Mouse", 14.0, 925.0, 560.0),
                ("Bag", 2.0, 700.0, 160.0),
                ("Kit", 2.0, 0.0, 0.0),
            ],
        )
        per_category = self.report("categ_id")
        self.assertEqual(
            [(row["category"], row["revenue"]) for row in result["categories"]],
            [
                (category.display_name, round(per_category[category][1], 2))
                for category in (self.hardware, self.accessories, self.services)
            ],
        )
        self.assertEqual(result["categories"][1]["margin"], 925.0 + 700.0 - 560.0 - 160.0)
        total_orders = self.sales_report(self.manager, IN_APRIL, [], ["order_reference:count_distinct"])[()]
        self.assertEqual(
            result["totals"],
            {
                "products": 4,
                "orders": total_orders,
                "revenue": 4150.0,
                "cost": 2220.0,
                "margin": 1930.0,
                "margin_pct": 46.5,
                "products_without_cost": 1,
            },
        )
        self.assertFalse(result["truncated"])

    def test_category_filter_includes_subcategories(self):
        result = self.call(TOOL, {**APRIL, "category": "Hardware", "limit": 1})
        self.assertEqual(result["filters"], {"category": "Hardware"})
        self.assertEqual([row["product"] for row in result["products"]], ["Laptop"])
        self.assertTrue(result["truncated"])
        hardware = self.report("categ_id", [("categ_id", "child_of", self.hardware.id)])
        self.assertEqual(result["totals"]["revenue"], round(sum(group[1] for group in hardware.values()), 2))
        result = self.call(TOOL, {**APRIL, "category": "Hardware / Accessories"})
        self.assertEqual([row["product"] for row in result["products"]], ["Mouse", "Bag"])
        self.assertInputErrors(TOOL, [({"category": "Furniture"}, "unknown product category 'Furniture'")])

    def test_a_salesperson_sees_their_own_orders_only(self):
        self.order_g1.user_id = self.bob
        result = self.call(TOOL, APRIL, user=self.bob)
        self.assertEqual(
            [(row["product"], row["revenue"]) for row in result["products"]],
            [
                (p.display_name, round(r, 2))
                for p, (_q, r, _o) in self.report("product_id", user=self.bob).items()
            ],
        )
        self.assertEqual([row["product"] for row in result["products"]], ["Laptop"])

    def test_company_b_sales_at_company_b_costs(self):
        result = self.call(TOOL, APRIL, company=self.company_b)
        [row] = result["products"]
        quantity, revenue, _orders = self.report("product_id", company=self.company_b)[self.laptop]
        self.assertEqual(
            (row["quantity"], row["revenue"], row["cost"]), (quantity, revenue, 700.0 * quantity)
        )
        self.assertEqual(row["margin"], 9000.0 - 6300.0)
        with self.assertRaisesRegex(ToolInputError, "unknown salesperson"):
            self.call(TOOL, {**APRIL, "salesperson": self.user_b.id})
        with self.assertRaises(ToolDenied):
            self.call(TOOL, APRIL, user=self.user)
