"""The Warehouse agent is noupdate data: an upgrade gives it the new read tools here (pending
deliveries, stock forecast, turnover and days of cover), keeping a company's other edits."""

from odoo import SUPERUSER_ID, Command, api

NEW_TOOLS = (
    "ai_agents_warehouse.tool_warehouse_get_pending_deliveries",
    "ai_agents_warehouse.tool_warehouse_get_stock_forecast",
    "ai_agents_warehouse.tool_warehouse_get_inventory_turnover",
)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    agent = env.ref("ai_agents_warehouse.agent_warehouse", raise_if_not_found=False)
    tools = [env.ref(xmlid, raise_if_not_found=False) for xmlid in NEW_TOOLS]
    if agent:
        agent.write({"tool_ids": [Command.link(tool.id) for tool in tools if tool]})
