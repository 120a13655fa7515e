"""The Finance agent gained seven read tools. The agent is noupdate data (companies tune it): give
it the new tools here, and the new description and prompt where they are still the ones version
19.0.1.0.0 shipped (recognised by their digest); whatever a company changed stays as it is."""

import hashlib
from pathlib import Path

from lxml import etree

from odoo import SUPERUSER_ID, Command, api

NEW_TOOLS = (
    "tool_finance_get_profit_and_loss",
    "tool_finance_get_balance_sheet",
    "tool_finance_get_trial_balance",
    "tool_finance_get_aged_balance",
    "tool_finance_get_overdue_invoices",
    "tool_finance_get_tax_totals",
    "tool_finance_get_unmatched_payments",
)
# SHA-256 of the texts 19.0.1.0.0 shipped.
SHIPPED = {
    "description": "9b37ce0c5909b0dccabcaa43123f68d685d7df4748cffecdcc73b28ab370ca3a",
    "system_prompt": "8e3ac41af2694a30be5ab11fcc59f53770a2056c41ed72d60825958b087cbe1c",
}
DATA = Path(__file__).parents[2] / "data" / "aia_agent_data.xml"


def _digest(text):
    return hashlib.sha256((text or "").encode()).hexdigest()


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    agent = env.ref("ai_agents_finance.agent_finance", raise_if_not_found=False)
    if not agent:
        return
    tools = [env.ref(f"ai_agents_finance.{xml_id}", raise_if_not_found=False) for xml_id in NEW_TOOLS]
    values = {"tool_ids": [Command.link(tool.id) for tool in tools if tool]}
    record = etree.parse(str(DATA)).find(".//record[@id='agent_finance']")
    for fname, digest in SHIPPED.items():
        if _digest(agent[fname]) == digest:
            values[fname] = record.find(f"field[@name='{fname}']").text
    agent.write(values)
