from datetime import timedelta

from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolInputError

from .common import WarehouseCase

TOOL = "warehouse.get_stock_forecast"


@tagged("post_install", "-at_install")
class TestStockForecast(WarehouseCase):
    """Beside the case's open transfers: a delivery of 30 Gadget from South Depot in ten days, more
    than South Depot will ever have (its 12 come with the receipt due in five days)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gadget_delivery = cls._transfer(
            cls.south.out_type_id,
            cls.south.lot_stock_id,
            cls.customer_location,
            [(cls.gadget, 30)],
            scheduled_date=cls.now + timedelta(days=10),
        )

    def odoo_forecast(self, user, company, until, warehouses):
        """Odoo's own figures for the question, read as ``user`` in ``company``: the products'
        quantities at ``until`` in ``warehouses`` (the product form's Forecasted button), and the
        Forecasted Stock of Odoo's stock report (``report.stock.quantity``) on that day."""
        env = self.env(user=user, context={"allowed_company_ids": company.ids})
        products = (
            env["product.product"]
            .with_context(warehouse_id=warehouses.ids, to_date=until)
            .search([("is_storable", "=", True)])
        )
        quantities = {
            product.display_name: (
                product.qty_available,
                product.incoming_qty,
                product.outgoing_qty,
                product.virtual_available,
            )
            for product in products
            if product.qty_available or product.incoming_qty or product.outgoing_qty
        }
        report = {
            product.display_name: quantity
            for product, quantity in env["report.stock.quantity"]._read_group(
                [
                    ("state", "=", "forecast"),
                    ("date", "=", until.date()),
                    ("warehouse_id", "in", warehouses.ids),
                ],
                ["product_id"],
                ["product_qty:sum"],
            )
        }
        return quantities, report

    def assertForecastAsOdoo(self, user, company, args, warehouses):
        result = self.call(TOOL, args, user=user, company=company)
        until = self.now + timedelta(days=args.get("days", 30))
        self.assertEqual(result["until"], until.strftime("%Y-%m-%d %H:%M:%S"))
        quantities, report = self.odoo_forecast(user, company, until, warehouses)
        self.assertTrue(quantities)
        self.assertEqual(
            {
                row["product"]: (row["on_hand"], row["incoming"], row["outgoing"], row["forecast"])
                for row in result["rows"]
            },
            quantities,
        )
        self.assertEqual({row["product"]: row["forecast"] for row in result["rows"]}, report)
        forecasts = [row["forecast"] for row in result["rows"]]
        self.assertEqual(forecasts, sorted(forecasts))
        self.assertEqual(result["totals"]["products"], len(quantities))
        return result

    def test_forecast_per_product_is_odoos_in_each_company(self):
        result = self.assertForecastAsOdoo(self.keeper, self.company_a, {}, self.north | self.south)
        rows = {row["product"]: row for row in result["rows"]}
        # The Bolt receipt of 500 g is counted in the product's unit, kg.
        self.assertEqual(
            rows["[BLT] Bolt"],
            {
                "product": "[BLT] Bolt",
                "uom": "kg",
                "on_hand": 250.0,
                "incoming": 100.5,
                "outgoing": 0.0,
                "forecast": 350.5,
            },
        )
        self.assertEqual(result["rows"][0]["product"], "[GAD] Gadget")
        self.assertEqual(result["totals"]["shortages"], 1)
        beta = self.assertForecastAsOdoo(self.keeper_b, self.company_b, {}, self.beta)
        self.assertEqual([row["forecast"] for row in beta["rows"]], [1006.0])
        # A keeper of both companies gets the session's company only.
        both = self.assertForecastAsOdoo(self.keeper_ab, self.company_b, {}, self.beta)
        self.assertEqual(both["rows"], beta["rows"])

    def test_the_horizon_and_a_warehouse(self):
        # In two days neither the Gadget receipt nor its delivery is due.
        self.assertForecastAsOdoo(self.keeper, self.company_a, {"days": 2}, self.north | self.south)
        south = self.assertForecastAsOdoo(self.keeper, self.company_a, {"warehouse": "SOU"}, self.south)
        self.assertEqual(south["filters"], {"days": 30, "warehouse": "South Depot"})
        self.assertEqual(
            [(row["product"], row["forecast"]) for row in south["rows"]],
            [("[GAD] Gadget", -18.0), ("[BLT] Bolt", 0.5), ("[WID] Widget", 30.0)],
        )

    def test_shortages_only_filters_and_top_n(self):
        result = self.call(TOOL, {"shortages_only": True})
        self.assertEqual(
            [(row["product"], row["forecast"]) for row in result["rows"]], [("[GAD] Gadget", -10.0)]
        )
        self.assertEqual(result["totals"], {"products": 1, "shortages": 1})
        result = self.call(TOOL, {"category": "Hardware"})
        self.assertEqual([row["product"] for row in result["rows"]], ["[WID] Widget", "[BLT] Bolt"])
        result = self.call(TOOL, {"limit": 1})
        self.assertEqual(len(result["rows"]), 1)
        self.assertTrue(result["truncated"])
        self.assertEqual(result["totals"]["products"], 4)

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
                ({"days": -1}, "days: -1 is less than the minimum of 0"),
                ({"warehouse": "Nowhere"}, "unknown warehouse 'Nowhere'"),
            ],
        )

    def test_a_user_without_inventory_rights_is_denied(self):
        self.assertDenied(TOOL)
