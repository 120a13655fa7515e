from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolInputError

from .common import WarehouseCase

TOOL = "warehouse.get_stock_levels"


@tagged("post_install", "-at_install")
class TestStockLevels(WarehouseCase):
    def test_per_product_with_reserved_and_available_and_totals_per_unit(self):
        result = self.call(TOOL, {"group_by": "product"})
        self.assertEqual(result["company"], self.company_a.name)
        self.assertEqual(
            result["rows"],
            [
                {"product": "[BLT] Bolt", "uom": "kg", "on_hand": 250.0, "reserved": 0.0, "available": 250.0},
                {
                    "product": "[WID] Widget",
                    "uom": "Units",
                    "on_hand": 130.0,
                    "reserved": 15.0,
                    "available": 115.0,
                },
                {
                    "product": "[SER] Serum",
                    "uom": "Units",
                    "on_hand": 17.0,
                    "reserved": 0.0,
                    "available": 17.0,
                },
                {
                    "product": "[GAD] Gadget",
                    "uom": "Units",
                    "on_hand": 8.0,
                    "reserved": 0.0,
                    "available": 8.0,
                },
            ],
        )
        self.assertFalse(result["truncated"])
        self.assertEqual(
            result["totals"],
            [
                {
                    "uom": "kg",
                    "on_hand": 250.0,
                    "reserved": 0.0,
                    "available": 250.0,
                    "products": 1,
                    "locations": 1,
                },
                {
                    "uom": "Units",
                    "on_hand": 155.0,
                    "reserved": 15.0,
                    "available": 140.0,
                    "products": 3,
                    "locations": 3,
                },
            ],
        )

    def test_per_product_and_warehouse_top_n_is_flagged_truncated(self):
        result = self.call(TOOL, {"limit": 3})
        self.assertEqual(result["group_by"], "product_warehouse")
        self.assertEqual(
            [(row["product"], row["warehouse"], row["on_hand"], row["reserved"]) for row in result["rows"]],
            [
                ("[BLT] Bolt", "North Depot", 250.0, 0.0),
                ("[WID] Widget", "North Depot", 100.0, 15.0),
                ("[WID] Widget", "South Depot", 30.0, 0.0),
            ],
        )
        self.assertTrue(result["truncated"])

    def test_per_warehouse_never_adds_up_different_units(self):
        result = self.call(TOOL, {"group_by": "warehouse"})
        self.assertEqual(
            [(row["warehouse"], row["uom"], row["on_hand"], row["available"]) for row in result["rows"]],
            [
                ("North Depot", "kg", 250.0, 250.0),
                ("North Depot", "Units", 125.0, 110.0),
                ("South Depot", "Units", 30.0, 30.0),
            ],
        )

    def test_per_location_of_one_product(self):
        result = self.call(TOOL, {"product": "GAD", "group_by": "product_location"})
        self.assertEqual(result["filters"], {"product": "[GAD] Gadget"})
        self.assertEqual(
            [(row["location"], row["on_hand"]) for row in result["rows"]],
            [("NOR/Stock", 5.0), ("NOR/Stock/Shelf 1", 3.0)],
        )

    def test_filters_category_with_children_location_warehouse_and_lot(self):
        def on_hand(args):
            return {
                row["product"]: row["on_hand"]
                for row in self.call(TOOL, {**args, "group_by": "product"})["rows"]
            }

        self.assertEqual(on_hand({"category": "Hardware"}), {"[BLT] Bolt": 250.0, "[WID] Widget": 130.0})
        self.assertEqual(
            on_hand({"location": "NOR/Stock/Shelf 1"}), {"[BLT] Bolt": 250.0, "[GAD] Gadget": 3.0}
        )
        self.assertEqual(on_hand({"warehouse": "SOU"}), {"[WID] Widget": 30.0})
        self.assertEqual(on_hand({"warehouse": self.north.id, "product": "Widget"}), {"[WID] Widget": 100.0})
        self.assertEqual(on_hand({"lot": "LOT-A"}), {"[SER] Serum": 12.0})
        # A unique partial name is enough.
        self.assertEqual(on_hand({"product": "gadg"}), {"[GAD] Gadget": 8.0})

    def test_a_name_with_a_percent_sign_is_matched_literally(self):
        # Unescaped, "Cotton 100%" is a pattern that also matches "Cotton 100% organic".
        Product = self.env["product.product"]
        cotton = Product.create({"name": "Cotton 100%", "type": "consu", "is_storable": True})
        Product.create({"name": "Cotton 100% organic", "type": "consu", "is_storable": True})
        self.env["stock.quant"]._update_available_quantity(cotton, self.north.lot_stock_id, 4)
        result = self.call(TOOL, {"product": "Cotton 100%", "group_by": "product"})
        self.assertEqual(result["filters"], {"product": "Cotton 100%"})
        self.assertEqual([row["on_hand"] for row in result["rows"]], [4.0])

    def test_bad_input_gets_a_clear_error(self):
        self.assertInputErrors(
            TOOL,
            [
                ({"product": "Flux capacitor"}, "unknown product 'Flux capacitor'"),
                ({"product": "e"}, "product 'e' is ambiguous"),
                ({"product": 999999}, "unknown product id 999999"),
                ({"location": "Atlantis/Stock"}, "unknown location 'Atlantis/Stock'"),
                ({"warehouse": "XYZ"}, "unknown warehouse 'XYZ'"),
                ({"lot": "LOT-Z"}, "unknown lot or serial number 'LOT-Z'"),
                ({"category": "Groceries"}, "unknown product category 'Groceries'"),
                ({"limit": 0}, "limit: 0 is less than the minimum of 1"),
                ({"group_by": "colour"}, "group_by"),
            ],
        )

    def test_company_b_session_sees_only_company_b_stock(self):
        expected = [
            {"product": "[WID] Widget", "uom": "Units", "on_hand": 999.0, "reserved": 0.0, "available": 999.0}
        ]
        result = self.call(TOOL, {"group_by": "product"}, user=self.keeper_b)
        self.assertEqual(result["rows"], expected)
        # A user of both companies sees the session company's stock only.
        result = self.call(TOOL, {"group_by": "product"}, user=self.keeper_ab, company=self.company_b)
        self.assertEqual(result["rows"], expected)
        self.assertEqual(result["totals"][0]["on_hand"], 999.0)
        result = self.call(TOOL, {"group_by": "product"}, user=self.keeper_ab, company=self.company_a)
        self.assertEqual(result["totals"][1]["on_hand"], 155.0)
        # Company A's warehouses are not names the company B session can use.
        with self.assertRaises(ToolInputError):
            self.call(TOOL, {"warehouse": "NOR"}, user=self.keeper_ab, company=self.company_b)

    def test_a_user_without_inventory_rights_is_denied(self):
        # Odoo lets every internal user read stock.quant; the pack asks for Inventory / User.
        self.assertTrue(self.env["stock.quant"].with_user(self.user).has_access("read"))
        self.assertIn("Inventory", self.assertDenied(TOOL))
        # The requirement is the tool's declaration, shown on its catalogue row.
        row = self.env.ref("ai_agents_warehouse.tool_warehouse_get_stock_levels")
        self.assertEqual(row.requirements, "the group Inventory / User")
