from datetime import timedelta

from odoo.tests import tagged

from .common import WarehouseCase

TOOLS = {
    "warehouse.get_stock_levels": "GetStockLevels",
    "warehouse.get_reorder_alerts": "GetReorderAlerts",
    "warehouse.get_slow_moving_stock": "GetSlowMovingStock",
    "warehouse.get_pending_receipts": "GetPendingReceipts",
    "warehouse.get_pending_deliveries": "GetPendingDeliveries",
    "warehouse.get_stock_forecast": "GetStockForecast",
    "warehouse.get_inventory_turnover": "GetInventoryTurnover",
}
# With Inventory valuation (stock_account), ai_agents_warehouse_account gives the agent its tool.
VALUATION = {"warehouse.get_stock_valuation": "GetStockValuation"}
# With Purchase (purchase_stock), ai_agents_warehouse_purchase gives it its write tools.
PURCHASING = {
    "warehouse.create_rfqs_for_reorder_alerts": "CreateRFQsForReorderAlerts",
    "warehouse.snooze_orderpoint": "SnoozeOrderpoint",
}


@tagged("post_install", "-at_install")
class TestWarehouseAgent(WarehouseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        installed = set(
            cls.env["ir.module.module"]
            .search([("name", "like", "ai_agents_warehouse_%"), ("state", "=", "installed")])
            .mapped("name")
        )
        cls.tools = dict(TOOLS)
        if "ai_agents_warehouse_account" in installed:
            cls.tools.update(VALUATION)
        cls.writes = set()
        if "ai_agents_warehouse_purchase" in installed:
            cls.tools.update(PURCHASING)
            cls.writes = set(PURCHASING)

    def test_the_agent_ships_in_shadow_mode_with_its_read_tools(self):
        self.assertEqual(self.agent.code, "warehouse")
        self.assertShipsInShadowMode(self.agent, self.tools, self.writes)

    def test_end_to_end_slow_moving_value_reaches_the_model(self):
        model, session = self.run_turn(
            "Which stock has not moved in the last 30 days, and what is it worth?",
            ("warehouse_get_slow_moving_stock", {"days": 30}),
            "Slow movers (30 days): 3 products worth 1030.00 at cost.",
        )
        execution = self.assertAnswered(
            model, session, self.tools, "warehouse.get_slow_moving_stock", "warehouse operations assistant"
        )

        # The tool ran once, as the keeper, and its figures are Odoo's own for the same question,
        # read as the keeper in the session's company: the products Odoo has in stock (its
        # qty_available), less those a Delivery operation took out in the last 30 days, each valued
        # at its cost.
        self.assertEqual(execution.arguments, {"days": 30})
        env = self.env(
            user=self.keeper, context=dict(self.env.context, allowed_company_ids=self.company_a.ids)
        )
        delivered = dict(
            env["stock.move"]._read_group(
                [("state", "=", "done"), ("picking_type_id.code", "=", "outgoing")],
                ["product_id"],
                ["date:max"],
            )
        )
        since = self.now - timedelta(days=30)
        in_stock = env["product.product"].search([("qty_available", ">", 0)])
        slow = in_stock.filtered(lambda product: not (product in delivered and delivered[product] >= since))
        currency = self.company_a.currency_id
        expected = {
            product.display_name: {
                "on_hand": product.qty_available,
                "unit_cost": product.standard_price,
                "value": currency.round(product.qty_available * product.standard_price),
            }
            for product in slow
        }
        self.assertEqual(
            {name: row["value"] for name, row in expected.items()},
            {"[BLT] Bolt": 625.0, "[GAD] Gadget": 320.0, "[SER] Serum": 85.0},
            "the stock of the class doc",
        )
        output = execution.output
        self.assertEqual(
            {
                row["product"]: {key: row[key] for key in ("on_hand", "unit_cost", "value")}
                for row in output["rows"]
            },
            expected,
        )
        self.assertEqual(output["totals"]["products"], len(slow))
        self.assertEqual(
            output["totals"]["value"], currency.round(sum(row["value"] for row in expected.values()))
        )
        self.assertEqual(
            {row["product"]: row["last_outgoing"] for row in output["rows"] if row["last_outgoing"]},
            {
                product.display_name: delivered[product].strftime("%Y-%m-%d %H:%M:%S")
                for product in slow
                if product in delivered
            },
        )
        # What the model read (inside its untrusted-data wrapper) is what the execution recorded,
        # the exact figures; the transcript keeps the call and its result under the same call id;
        # the usage ledger has both provider calls with their tokens and the tool call, all the
        # keeper's.
        self.assertPersisted(session, model, execution)
        self.assertEqual(session.user_id, self.keeper)
        self.assertEqual(session.last_text, "Slow movers (30 days): 3 products worth 1030.00 at cost.")

    def test_a_user_without_inventory_rights_gets_a_denied_result(self):
        execution, _told = self.assertDeniedTurn(
            "How many widgets do we have?",
            ("warehouse_get_stock_levels", {"product": "WID"}),
            "You need Inventory access for that.",
        )
        self.assertNotIn("130", execution.content)

    def test_a_non_positive_n_gets_an_error_result(self):
        model, session = self.run_turn(
            "Slow movers over zero days?",
            ("warehouse_get_slow_moving_stock", {"days": 0}),
            "Let me ask for a valid window.",
        )
        execution, _told = self.assertToolFailed(model, session, "error")
        self.assertIn("days: 0 is less than the minimum of 1", execution.content)
