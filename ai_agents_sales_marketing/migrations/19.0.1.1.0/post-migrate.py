"""Give the Sales agent of an existing database the six read tools added in 19.0.1.1.0.

The agent is loaded with noupdate (companies tune it), so an update does not change its tool
list; adding tools the pack ships keeps what the company chose. Its prompt is left as it is: the
new prompt is in data/aia_agent_data.xml for those who want it.
"""

from odoo import SUPERUSER_ID, Command, api

NEW_TOOLS = (
    "tool_sales_get_quotations_pipeline",
    "tool_sales_get_invoicing_status",
    "tool_sales_get_sales_by_product",
    "tool_sales_get_revenue_by_campaign",
    "tool_sales_get_lost_reasons",
    "tool_sales_get_overdue_activities",
)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    agent = env.ref("ai_agents_sales_marketing.agent_sales", raise_if_not_found=False)
    if not agent:
        return
    tools = [env.ref(f"ai_agents_sales_marketing.{xml_id}", raise_if_not_found=False) for xml_id in NEW_TOOLS]
    agent.write({"tool_ids": [Command.link(tool.id) for tool in tools if tool]})
