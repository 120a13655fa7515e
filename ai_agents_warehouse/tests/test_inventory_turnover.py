from datetime import timedelta

from lxml import etree

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.ai_core.ai_engine import ToolInputError

from .common import WarehouseCase

TOOL = "warehouse.get_inventory_turnover"


@tagged("post_install", "-at_install")
class TestInventoryTurnover(WarehouseCase):
    """Deliveries in the case: Widget 5 from North Depot 10 days ago, Bolt 50 kg 60 days ago; here
    company B also delivered 100 Widget from Beta Depot 20 days ago."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        beta_out = cls._transfer(
            cls.beta.out_type_id, cls.beta.lot_stock_id, cls.customer_location, [(cls.widget, 100)]
        )
        cls._validate(beta_out, days_ago=20)

    def odoo_figures(self, user, company, days, warehouses):
        """Odoo's own figures, read as ``user`` in ``company``: on hand now and at the start of the
        period (the product's quantity on hand at a date, in ``warehouses``), the quantity delivered
        (the Moves History report, ``stock.move.line``, with its Done and Outgoing filters, in the
        product's unit) and the product's cost."""
        env = self.env(user=user, context={"allowed_company_ids": company.ids})
        since = self.now - timedelta(days=days)
        view = env.ref("stock.stock_move_line_view_search")
        MoveLine = env["stock.move.line"]
        arch = etree.fromstring(MoveLine.get_view(view.id, "search")["arch"])
        domain = [("date", ">=", since), ("location_id.warehouse_id", "in", warehouses.ids)]
        for name in ("done", "outgoing"):
            [node] = arch.xpath(f"//filter[@name='{name}']")
            domain += safe_eval(node.get("domain"))
        delivered = dict(MoveLine._read_group(domain, ["product_id"], ["quantity_product_uom:sum"]))
        products = (
            env["product.product"]
            .with_context(warehouse_id=warehouses.ids)
            .search([("is_storable", "=", True)])
        )
        figures = {}
        for product in products:
            start = product.with_context(to_date=since).qty_available
            if product.qty_available or delivered.get(product):
                figures[product.display_name] = {
                    "delivered": delivered.get(product, 0.0),
                    "on_hand_start": start,
                    "on_hand": product.qty_available,
                    "unit_cost": product.standard_price,
                }
        return figures

    def assertTurnoverAsOdoo(self, user, company, args, warehouses):
        result = self.call(TOOL, args, user=user, company=company)
        days = args.get("days", 90)
        figures = self.odoo_figures(user, company, days, warehouses)
        self.assertTrue(figures)
        self.assertEqual(result["currency"], company.currency_id.name)
        self.assertEqual(
            {
                row["product"]: {
                    key: row[key] for key in ("delivered", "on_hand_start", "on_hand", "unit_cost")
                }
                for row in result["rows"]
            },
            figures,
        )
        currency = company.currency_id
        cogs = average_value = value = 0.0
        for row in result["rows"]:
            odoo = figures[row["product"]]
            average = (odoo["on_hand_start"] + odoo["on_hand"]) / 2
            self.assertEqual(row["average_on_hand"], average)
            # Turnover = cost of goods delivered / average stock value, at the product's cost.
            turnover = (
                odoo["delivered"] * odoo["unit_cost"] / (average * odoo["unit_cost"]) if average else None
            )
            self.assertEqual(row["turnover"], turnover if turnover is None else round(turnover, 2))
            cover = odoo["on_hand"] / (odoo["delivered"] / days) if odoo["delivered"] else None
            self.assertEqual(row["days_of_cover"], cover if cover is None else round(cover, 1))
            self.assertEqual(
                row["cost_of_goods_delivered"], currency.round(odoo["delivered"] * odoo["unit_cost"])
            )
            cogs += odoo["delivered"] * odoo["unit_cost"]
            average_value += average * odoo["unit_cost"]
            value += odoo["on_hand"] * odoo["unit_cost"]
        self.assertEqual(result["totals"]["cost_of_goods_delivered"], currency.round(cogs))
        self.assertEqual(result["totals"]["average_stock_value"], currency.round(average_value))
        self.assertEqual(result["totals"]["stock_value"], currency.round(value))
        self.assertEqual(result["totals"]["turnover"], round(cogs / average_value, 2))
        self.assertEqual(result["totals"]["days_of_cover"], round(value / (cogs / days), 1) if cogs else None)
        return result

    def test_turnover_and_days_of_cover_from_odoos_quantities_in_each_company(self):
        self.assertNotEqual(self.company_a.currency_id, self.company_b.currency_id)
        result = self.assertTurnoverAsOdoo(self.keeper, self.company_a, {}, self.north | self.south)
        # What runs out first: Bolt (450 days), Widget (2,340 days), then what did not ship.
        self.assertEqual(
            [(row["product"], row["days_of_cover"], row["turnover"]) for row in result["rows"]],
            [
                ("[BLT] Bolt", 450.0, 0.18),
                ("[WID] Widget", 2340.0, 0.04),
                ("[GAD] Gadget", None, 0.0),
                ("[SER] Serum", None, 0.0),
            ],
        )
        self.assertEqual(result["rows"][0]["uom"], "kg")
        beta = self.assertTurnoverAsOdoo(self.keeper_b, self.company_b, {}, self.beta)
        self.assertEqual(
            [(row["product"], row["delivered"], row["cost_of_goods_delivered"]) for row in beta["rows"]],
            [("[WID] Widget", 100.0, 1200.0)],
        )
        self.assertEqual(beta["currency"], "EUR")
        both = self.assertTurnoverAsOdoo(self.keeper_ab, self.company_b, {}, self.beta)
        self.assertEqual(both["rows"], beta["rows"])

    def test_period_order_and_warehouse(self):
        # Thirty days: the Bolt delivery (60 days ago) falls out of the period.
        result = self.assertTurnoverAsOdoo(self.keeper, self.company_a, {"days": 30}, self.north | self.south)
        self.assertEqual(result["rows"][0]["product"], "[WID] Widget")
        slowest = self.assertTurnoverAsOdoo(
            self.keeper, self.company_a, {"order": "turnover"}, self.north | self.south
        )
        self.assertEqual(
            [row["product"] for row in slowest["rows"]],
            ["[GAD] Gadget", "[SER] Serum", "[WID] Widget", "[BLT] Bolt"],
        )
        south = self.assertTurnoverAsOdoo(self.keeper, self.company_a, {"warehouse": "SOU"}, self.south)
        self.assertEqual([row["product"] for row in south["rows"]], ["[WID] Widget"])
        self.assertIsNone(south["totals"]["days_of_cover"])

    def test_top_n_keeps_the_totals(self):
        full = self.call(TOOL)
        top = self.call(TOOL, {"limit": 1})
        self.assertEqual(top["rows"], full["rows"][:1])
        self.assertTrue(top["truncated"])
        self.assertEqual(top["totals"], full["totals"])

    def test_company_b_warehouse_and_products_cannot_be_named_from_company_a(self):
        kestrel = self.env["product.product"].create(
            {"name": "Kestrel", "default_code": "KES", "is_storable": True, "company_id": self.company_b.id}
        )
        for args in ({"warehouse": self.beta.id}, {"warehouse": "BET"}, {"product": kestrel.id}):
            with self.subTest(args=args), self.assertRaises(ToolInputError):
                self.call(TOOL, args, user=self.keeper_ab, company=self.company_a)

    def test_bad_input(self):
        self.assertInputErrors(
            TOOL,
            [
                ({"days": 0}, "days: 0 is less than the minimum of 1"),
                ({"order": "value"}, "order: 'value' is not one of"),
            ],
        )

    def test_a_user_without_inventory_rights_is_denied(self):
        self.assertDenied(TOOL)
