import json

from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine.testing import reply, tool_calls

from .common import WarehouseCase

TOOLS = {
    "warehouse.get_stock_levels": "GetStockLevels",
    "warehouse.get_reorder_alerts": "GetReorderAlerts",
    "warehouse.get_slow_moving_stock": "GetSlowMovingStock",
    "warehouse.get_pending_receipts": "GetPendingReceipts",
}


@tagged("post_install", "-at_install")
class TestWarehouseAgent(WarehouseCase):
    def test_the_agent_ships_in_shadow_mode_with_its_four_read_tools(self):
        agent = self.agent_warehouse
        self.assertEqual(agent.code, "warehouse")
        self.assertTrue(agent.shadow_mode)
        self.assertFalse(agent.model_id)
        self.assertEqual({tool.name: tool.label for tool in agent.tool_ids}, TOOLS)
        self.assertEqual(set(agent.tool_ids.mapped("mode")), {"read"})
        self.assertTrue(all(agent.tool_ids.mapped("is_available")))
        self.assertEqual(
            {name: spec.display_name for name, spec in ((s.name, s) for s in agent._aia_tool_registry())},
            TOOLS,
        )

    def test_end_to_end_slow_moving_value_reaches_the_model(self):
        model = self.script(
            tool_calls(("warehouse_get_slow_moving_stock", {"days": 30})),
            reply("Slow movers (30 days): 3 products worth 1030.00 at cost."),
        )
        session = self.new_session(user=self.keeper, agent=self.agent_warehouse)
        self.chat(session, "Which stock has not moved in the last 30 days, and what is it worth?")
        model.assert_complete()
        self.assertEqual(session.state, "done")
        # The agent has no model of its own: the company's first active model answered.
        self.assertEqual(model.requests[0].model, self.llm.name)
        self.assertIn("warehouse operations assistant", model.requests[0].system)
        self.assertEqual(
            sorted(definition.name for definition in model.requests[0].tools),
            sorted(name.replace(".", "_") for name in TOOLS),
        )
        [execution] = session.execution_ids
        self.assertEqual((execution.tool_name, execution.status), ("warehouse.get_slow_moving_stock", "ok"))
        self.assertEqual(execution.output["totals"]["value"], 1030.0)
        # What the model read is the tool's result, with the exact figures.
        told = model.requests[1].messages[-1].tool_results[0]
        self.assertFalse(told.is_error)
        content = json.loads(told.content)
        self.assertEqual(content["totals"]["value"], 1030.0)
        self.assertEqual([row["value"] for row in content["rows"]], [625.0, 320.0, 85.0])
        self.assertEqual(session.last_text, "Slow movers (30 days): 3 products worth 1030.00 at cost.")

    def test_a_user_without_inventory_rights_gets_a_denied_result(self):
        model = self.script(
            tool_calls(("warehouse_get_stock_levels", {"product": "WID"})),
            reply("You need Inventory access for that."),
        )
        session = self.new_session(user=self.user, agent=self.agent_warehouse)
        self.chat(session, "How many widgets do we have?")
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "denied")
        self.assertNotIn("130", execution.content)
        self.assertTrue(model.requests[1].messages[-1].tool_results[0].is_error)

    def test_a_non_positive_n_gets_an_error_result(self):
        model = self.script(
            tool_calls(("warehouse_get_slow_moving_stock", {"days": 0})),
            reply("Let me ask for a valid window."),
        )
        session = self.new_session(user=self.keeper, agent=self.agent_warehouse)
        self.chat(session, "Slow movers over zero days?")
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "error")
        self.assertIn("days: 0 is less than the minimum of 1", execution.content)
        self.assertTrue(model.requests[1].messages[-1].tool_results[0].is_error)
