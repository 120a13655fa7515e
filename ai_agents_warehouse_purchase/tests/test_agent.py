from odoo.tests import tagged

from .. import post_init_hook
from .common import PurchaseCase


@tagged("post_install", "-at_install")
class TestWarehouseAgentWriteTools(PurchaseCase):
    def test_the_agent_gets_the_write_tools_and_when_to_use_them(self):
        agent = self.agent.sudo()
        tools = agent.tool_ids.filtered(lambda tool: tool.mode == "write")
        self.assertEqual(
            sorted(tools.mapped("name")),
            ["warehouse.create_rfqs_for_reorder_alerts", "warehouse.snooze_orderpoint"],
        )
        self.assertTrue(agent.shadow_mode)
        for phrase in (
            "warehouse_create_rfqs_for_reorder_alerts",
            "warehouse_snooze_orderpoint",
            "present the preview as your proposal",
        ):
            self.assertIn(phrase, agent.system_prompt)
        self.assertIn("never confirm or send an RFQ", agent.rules)
        # The hook again (a reinstall): nothing said twice.
        prompt, rules = agent.system_prompt, agent.rules
        post_init_hook(self.env)
        self.assertEqual((agent.system_prompt, agent.rules), (prompt, rules))

    def test_the_model_is_told_when_to_use_them(self):
        model, _session = self.run_turn(
            "Order what is below its minimum.", ("warehouse_create_rfqs_for_reorder_alerts", {}), "Proposed."
        )
        self.assertIn("present the preview as your proposal", model.requests[0].system)
        offered = {tool.name for tool in model.requests[0].tools}
        self.assertLessEqual(
            {"warehouse_create_rfqs_for_reorder_alerts", "warehouse_snooze_orderpoint"}, offered
        )
