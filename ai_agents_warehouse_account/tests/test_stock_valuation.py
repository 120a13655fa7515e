from collections import defaultdict

from odoo import Command
from odoo.tests import tagged

from odoo.addons.ai_agents_warehouse.tests.common import WarehouseCase
from odoo.addons.ai_core.ai_engine import ToolInputError

TOOL = "warehouse.get_stock_valuation"


@tagged("post_install", "-at_install")
class TestStockValuation(WarehouseCase):
    """Beside the case's stock (standard cost): in company A, Anvil (AVCO) received 10 at 4 and 5 at
    7 into North Depot, 5 delivered; Flask (FIFO) received 10 at 3 and 10 at 5, 8 delivered; 20
    Widget in North Depot owned by Acme Supplies (consignment). In company B (euros), 4 Anvil
    received at 7.50 into Beta Depot, where Anvil is at standard cost."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        A, B = cls.company_a, cls.company_b
        Category = env["product.category"]
        cls.averaged = Category.create({"name": "Averaged"})
        cls.averaged.with_company(A).property_cost_method = "average"
        cls.first_in = Category.create({"name": "First in"})
        cls.first_in.with_company(A).property_cost_method = "fifo"
        Product = env["product.product"]
        cls.anvil = Product.create(
            {"name": "Anvil", "default_code": "ANV", "is_storable": True, "categ_id": cls.averaged.id}
        )
        cls.anvil.with_company(B).standard_price = 7.5
        cls.flask = Product.create(
            {"name": "Flask", "default_code": "FLK", "is_storable": True, "categ_id": cls.first_in.id}
        )
        for product, quantity, price in (
            (cls.anvil, 10, 4.0),
            (cls.anvil, 5, 7.0),
            (cls.flask, 10, 3.0),
            (cls.flask, 10, 5.0),
        ):
            cls._validate(cls._priced_receipt(cls.north, product, quantity, price))
        for product, quantity in ((cls.anvil, 5), (cls.flask, 8)):
            out = cls._transfer(
                cls.north.out_type_id, cls.north.lot_stock_id, cls.customer_location, [(product, quantity)]
            )
            cls._validate(out)
        cls._validate(cls._priced_receipt(cls.beta, cls.anvil, 4, 7.5))
        env["stock.quant"]._update_available_quantity(
            cls.widget, cls.north.lot_stock_id, 20, owner_id=cls.acme
        )

    @classmethod
    def _priced_receipt(cls, warehouse, product, quantity, price):
        stock = warehouse.lot_stock_id
        picking = (
            cls.env["stock.picking"]
            .with_company(warehouse.company_id)
            .create(
                {
                    "picking_type_id": warehouse.in_type_id.id,
                    "location_id": cls.supplier_location.id,
                    "location_dest_id": stock.id,
                    "partner_id": cls.acme.id,
                    "move_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "product_uom_qty": quantity,
                                "price_unit": price,
                                # What a vendor bill or a purchase line would give the receipt.
                                "value_manual": price * quantity,
                                "location_id": cls.supplier_location.id,
                                "location_dest_id": stock.id,
                            }
                        )
                    ],
                }
            )
        )
        picking.action_confirm()
        return picking

    def odoo_env(self, company, **context):
        """A keeper of ``company`` working in it alone: Odoo's valuation reads quants and locations
        with the user's record rules (the superuser would count every company's stock)."""
        user = self.keeper if company == self.company_a else self.keeper_b
        return self.env(user=user, context={"allowed_company_ids": company.ids, **context})

    def odoo_values(self, company, warehouse=None):
        """Odoo's own valuation in ``company`` alone: each product's Total Value (Odoo 19's
        stock_account, what its Inventory Valuation report sums), within ``warehouse`` when given."""
        env = self.odoo_env(company, warehouse_id=warehouse and warehouse.id)
        products = env["product.product"].search([("is_storable", "=", True)])
        return {product: product.total_value for product in products if product.total_value}

    def assertValuationAsOdoo(self, user, company):
        currency = company.currency_id
        odoo = self.odoo_values(company)
        result = self.call(TOOL, {"limit": 100}, user=user, company=company)
        self.assertEqual(result["currency"], currency.name)
        self.assertEqual(
            {row["product"]: row["value"] for row in result["rows"]},
            {product.display_name: currency.round(value) for product, value in odoo.items()},
        )
        # The total is the Inventory Valuation report's ending stock (company.stock_value(), the sum
        # of the products' Total Value). The quants' Value column is not used: it spreads a
        # product's value over all its stock, consigned stock included.
        env = self.odoo_env(company)
        self.assertAlmostEqual(result["totals"]["value"], sum(env.company.stock_value().values()), places=2)
        self.assertEqual(result["totals"]["products"], len(odoo))
        return result

    def test_valuation_per_product_is_odoos_in_each_company_and_currency(self):
        self.assertNotEqual(self.company_a.currency_id, self.company_b.currency_id)
        result = self.assertValuationAsOdoo(self.keeper, self.company_a)
        rows = {row["product"]: row for row in result["rows"]}
        # AVCO: (10 x 4 + 5 x 7) / 15 = 5 per unit; FIFO: 2 left at 3 and 10 at 5.
        self.assertEqual(
            rows["[ANV] Anvil"],
            {
                "product": "[ANV] Anvil",
                "category": "Averaged",
                "cost_method": "average",
                "quantity": 10.0,
                "uom": "Units",
                "unit_value": 5.0,
                "value": 50.0,
            },
        )
        self.assertEqual((rows["[FLK] Flask"]["cost_method"], rows["[FLK] Flask"]["value"]), ("fifo", 56.0))
        # The consigned Widget is not the company's: 130 valued, not 150.
        self.assertEqual(rows["[WID] Widget"]["quantity"], 130.0)
        self.assertEqual(self.widget.with_company(self.company_a).qty_available, 150.0)
        values = [row["value"] for row in result["rows"]]
        self.assertEqual(values, sorted(values, reverse=True))

        beta = self.assertValuationAsOdoo(self.keeper_b, self.company_b)
        self.assertEqual(beta["currency"], "EUR")
        self.assertEqual(
            [(row["product"], row["cost_method"], row["value"]) for row in beta["rows"]],
            [("[WID] Widget", "standard", 11988.0), ("[ANV] Anvil", "standard", 30.0)],
        )
        both = self.call(TOOL, user=self.keeper_ab, company=self.company_b)
        self.assertEqual(both["rows"], beta["rows"])

    def test_products_valued_per_lot_take_their_lots_values(self):
        vial = self.env["product.product"].create(
            {
                "name": "Vial",
                "default_code": "VIA",
                "is_storable": True,
                "tracking": "lot",
                "lot_valuated": True,
                "standard_price": 2.0,
                "categ_id": self.electronics.id,
            }
        )
        cheap, dear = self.env["stock.lot"].create(
            [
                {"name": name, "product_id": vial.id, "company_id": self.company_a.id}
                for name in ("V-1", "V-2")
            ]
        )
        dear.with_company(self.company_a).with_context(disable_auto_revaluation=True).standard_price = 3.0
        for lot in (cheap, dear):
            self.env["stock.quant"]._update_available_quantity(vial, self.north.lot_stock_id, 10, lot_id=lot)
        odoo = self.odoo_values(self.company_a)
        # 10 at 2 and 10 at 3, not 20 at the product's cost.
        self.assertEqual(odoo[vial], 50.0)
        [row] = [row for row in self.call(TOOL)["rows"] if row["product"] == "[VIA] Vial"]
        self.assertEqual((row["quantity"], row["unit_value"], row["value"]), (20.0, 2.5, 50.0))

    def test_per_warehouse_and_per_category(self):
        currency = self.company_a.currency_id
        result = self.call(TOOL, {"group_by": "warehouse"})
        self.assertEqual(
            {row["warehouse"]: row["value"] for row in result["rows"]},
            {
                warehouse.name: currency.round(sum(self.odoo_values(self.company_a, warehouse).values()))
                for warehouse in (self.north, self.south)
            },
        )
        south = self.call(TOOL, {"warehouse": "SOU"})
        self.assertEqual(
            {row["product"]: row["value"] for row in south["rows"]},
            {
                product.display_name: currency.round(value)
                for product, value in self.odoo_values(self.company_a, self.south).items()
            },
        )
        by_category = defaultdict(float)
        for product, value in self.odoo_values(self.company_a).items():
            by_category[product.categ_id.complete_name] += value
        result = self.call(TOOL, {"group_by": "category"})
        self.assertEqual(
            {row["category"]: row["value"] for row in result["rows"]},
            {name: currency.round(value) for name, value in by_category.items()},
        )
        electronics = self.call(TOOL, {"category": "Electronics"})
        self.assertEqual([row["product"] for row in electronics["rows"]], ["[GAD] Gadget", "[SER] Serum"])

    def test_top_n_keeps_the_totals(self):
        full = self.call(TOOL)
        top = self.call(TOOL, {"limit": 2})
        self.assertEqual(top["rows"], full["rows"][:2])
        self.assertTrue(top["truncated"])
        self.assertEqual(top["totals"], full["totals"])

    def test_the_warehouse_agent_has_the_tool(self):
        self.assertIn(TOOL, self.agent.sudo().tool_ids.mapped("name"))

    def test_company_b_warehouse_and_products_cannot_be_named_from_company_a(self):
        kestrel = self.env["product.product"].create(
            {"name": "Kestrel", "default_code": "KES", "is_storable": True, "company_id": self.company_b.id}
        )
        for args in ({"warehouse": self.beta.id}, {"warehouse": "BET"}, {"product": kestrel.id}):
            with self.subTest(args=args), self.assertRaises(ToolInputError):
                self.call(TOOL, args, user=self.keeper_ab, company=self.company_a)

    def test_bad_input(self):
        self.assertInputErrors(TOOL, [({"group_by": "lot"}, "group_by: 'lot' is not one of")])

    def test_a_user_without_inventory_rights_is_denied(self):
        self.assertDenied(TOOL)
