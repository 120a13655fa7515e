from odoo.tests import tagged

from odoo.addons.ai_core.rendering import records_in
from odoo.addons.ai_core.tools.catalogue import RECORD_KEYS

from .common import WarehouseCase

TOOL = "warehouse.get_reorder_alerts"


@tagged("post_install", "-at_install")
class TestReorderAlerts(WarehouseCase):
    def test_rules_whose_forecast_is_below_the_minimum(self):
        result = self.call(TOOL)
        # With Purchase installed (purchase_stock), Odoo counts the vendor's 7 days in the rule's
        # lead time.
        purchase = self.env["ir.module.module"]._get("purchase_stock").state == "installed"
        widget_lead_days = 7.0 if purchase else 0.0
        self.assertEqual(self.op_widget.lead_days, widget_lead_days)
        self.assertEqual(
            result["rows"],
            [
                # 100 on hand - 15 to deliver + 50 in the late receipt = 135 < 150; order up to 200.
                {
                    "orderpoint_id": self.op_widget.id,
                    "orderpoint": self.op_widget.name,
                    "product": "[WID] Widget",
                    "warehouse": "North Depot",
                    "location": "NOR/Stock",
                    "uom": "Units",
                    "min": 150.0,
                    "max": 200.0,
                    "on_hand": 100.0,
                    "forecast": 135.0,
                    "suggested_qty": 65.0,
                    "vendor": "Acme Supplies",
                    "vendor_lead_days": 7,
                    "route_lead_days": widget_lead_days,
                    "trigger": "manual",
                },
                # Nothing on hand, 500 g incoming = 0.5 kg < 10 kg; order up to 40 kg; no vendor.
                {
                    "orderpoint_id": self.op_bolt.id,
                    "orderpoint": self.op_bolt.name,
                    "product": "[BLT] Bolt",
                    "warehouse": "South Depot",
                    "location": "SOU/Stock",
                    "uom": "kg",
                    "min": 10.0,
                    "max": 40.0,
                    "on_hand": 0.0,
                    "forecast": 0.5,
                    "suggested_qty": 39.5,
                    "vendor": None,
                    "vendor_lead_days": None,
                    "route_lead_days": 0.0,
                    "trigger": "manual",
                },
            ],
        )
        # Gadget (8 in North Depot, minimum 5) is fine; company B's rule is not company A's.
        self.assertEqual(result["totals"], {"rules_checked": 3, "below_minimum": 2})
        self.assertFalse(result["truncated"])
        # An answer naming a rule links to it.
        self.assertEqual(
            records_in(result, RECORD_KEYS[TOOL]),
            [
                ("stock.warehouse.orderpoint", self.op_widget.id, self.op_widget.name),
                ("stock.warehouse.orderpoint", self.op_bolt.id, self.op_bolt.name),
            ],
        )

    def test_filters_and_top_n(self):
        def products(args):
            return [row["product"] for row in self.call(TOOL, args)["rows"]]

        self.assertEqual(products({"warehouse": "SOU"}), ["[BLT] Bolt"])
        self.assertEqual(products({"product": "WID"}), ["[WID] Widget"])
        self.assertEqual(products({"category": "Electronics"}), [])
        self.assertEqual(products({"category": "Hardware"}), ["[WID] Widget", "[BLT] Bolt"])
        result = self.call(TOOL, {"limit": 1})
        self.assertEqual([row["product"] for row in result["rows"]], ["[WID] Widget"])
        self.assertTrue(result["truncated"])

    def test_receiving_stock_clears_the_alert(self):
        self._validate(self.late_receipt)
        self.delivery.action_cancel()
        # 150 on hand now: not below the minimum any more.
        self.assertEqual([row["product"] for row in self.call(TOOL)["rows"]], ["[BLT] Bolt"])

    def test_snoozed_rules_are_left_out(self):
        self.op_bolt.snoozed_until = self.now.date().replace(year=self.now.year + 1)
        self.assertEqual([row["product"] for row in self.call(TOOL)["rows"]], ["[WID] Widget"])

    def test_company_b_session_sees_only_company_b_rules(self):
        for user in (self.keeper_b, self.keeper_ab):
            result = self.call(TOOL, user=user, company=self.company_b)
            self.assertEqual(
                [
                    (row["product"], row["warehouse"], row["forecast"], row["suggested_qty"])
                    for row in result["rows"]
                ],
                [("[WID] Widget", "Beta Depot", 1006.0, 194.0)],
            )
            self.assertEqual(result["totals"], {"rules_checked": 1, "below_minimum": 1})

    def test_bad_input(self):
        self.assertInputErrors(
            TOOL,
            [
                ({"warehouse": "Atlantis"}, "unknown warehouse 'Atlantis'"),
                ({"product": "Flux capacitor"}, "unknown product 'Flux capacitor'"),
                ({"limit": 0}, "limit: 0 is less than the minimum of 1"),
            ],
        )

    def test_a_user_without_inventory_rights_is_denied(self):
        self.assertDenied(TOOL)
