from datetime import timedelta

from odoo.tests import tagged

from .common import WarehouseCase

TOOL = "warehouse.get_slow_moving_stock"


@tagged("post_install", "-at_install")
class TestSlowMoving(WarehouseCase):
    def test_products_without_outgoing_move_in_n_days_with_value_at_cost(self):
        result = self.call(TOOL, {"days": 30})
        self.assertEqual(result["currency"], self.company_a.currency_id.name)
        bolt_out = self.now.replace(microsecond=0) - timedelta(days=60)
        self.assertEqual(
            result["rows"],
            [
                {
                    "product": "[BLT] Bolt",
                    "on_hand": 250.0,
                    "uom": "kg",
                    "unit_cost": 2.5,
                    "value": 625.0,
                    "last_outgoing": bolt_out.strftime("%Y-%m-%d %H:%M:%S"),
                    "days_since_outgoing": 60,
                },
                # Receipts and internal transfers are not outgoing moves.
                {
                    "product": "[GAD] Gadget",
                    "on_hand": 8.0,
                    "uom": "Units",
                    "unit_cost": 40.0,
                    "value": 320.0,
                    "last_outgoing": None,
                    "days_since_outgoing": None,
                },
                {
                    "product": "[SER] Serum",
                    "on_hand": 17.0,
                    "uom": "Units",
                    "unit_cost": 5.0,
                    "value": 85.0,
                    "last_outgoing": None,
                    "days_since_outgoing": None,
                },
            ],
        )
        self.assertEqual(
            result["totals"],
            {
                "products": 3,
                "value": 1030.0,
                "on_hand": [{"uom": "Units", "quantity": 25.0}, {"uom": "kg", "quantity": 250.0}],
            },
        )
        self.assertFalse(result["truncated"])

    def test_the_window_decides_what_is_slow(self):
        def slow(days):
            return {row["product"]: row["value"] for row in self.call(TOOL, {"days": days})["rows"]}

        # Widget left 10 days ago, Bolt 60 days ago.
        self.assertEqual(slow(90), {"[GAD] Gadget": 320.0, "[SER] Serum": 85.0})
        self.assertEqual(
            slow(5), {"[WID] Widget": 1300.0, "[BLT] Bolt": 625.0, "[GAD] Gadget": 320.0, "[SER] Serum": 85.0}
        )

    def test_per_warehouse_and_category(self):
        # Widget ships from North Depot only: in South Depot it does not move.
        result = self.call(TOOL, {"days": 30, "warehouse": "South Depot"})
        self.assertEqual(
            [(row["product"], row["on_hand"], row["value"]) for row in result["rows"]],
            [("[WID] Widget", 30.0, 300.0)],
        )
        result = self.call(TOOL, {"days": 30, "category": "Electronics"})
        self.assertEqual(result["totals"]["value"], 405.0)

    def test_top_n_keeps_the_totals(self):
        result = self.call(TOOL, {"days": 30, "limit": 1})
        self.assertEqual([row["product"] for row in result["rows"]], ["[BLT] Bolt"])
        self.assertTrue(result["truncated"])
        self.assertEqual((result["totals"]["products"], result["totals"]["value"]), (3, 1030.0))

    def test_archived_products_still_count_with_their_stock(self):
        self.serum.active = False
        result = self.call(TOOL, {"days": 30})
        self.assertEqual(result["totals"]["value"], 1030.0)
        self.assertIn("[SER] Serum", [row["product"] for row in result["rows"]])

    def test_company_b_is_valued_at_its_own_cost(self):
        for user, company in ((self.keeper_b, self.company_b), (self.keeper_ab, self.company_b)):
            result = self.call(TOOL, {"days": 30}, user=user, company=company)
            self.assertEqual(
                [(row["product"], row["on_hand"], row["unit_cost"], row["value"]) for row in result["rows"]],
                [("[WID] Widget", 999.0, 12.0, 11988.0)],
            )
            self.assertEqual(result["currency"], self.company_b.currency_id.name)

    def test_bad_input(self):
        self.assertInputErrors(
            TOOL,
            [
                ({"days": 0}, "days: 0 is less than the minimum of 1"),
                ({"days": -5}, "days: -5 is less than the minimum of 1"),
                ({"limit": 0}, "limit: 0 is less than the minimum of 1"),
                ({"warehouse": "Nowhere"}, "unknown warehouse 'Nowhere'"),
            ],
        )

    def test_a_user_without_inventory_rights_is_denied(self):
        self.assertDenied(TOOL, {"days": 30})
