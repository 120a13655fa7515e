"""The Finance agent gained three write tools. The agent is noupdate data (companies tune it): give
it the tools here (once: a company that takes them off keeps them off), and the paragraph of its
prompt and the rule that say when to use them, unless the agent already has them; whatever else a
company changed stays as it is."""

from pathlib import Path

from lxml import etree

from odoo import SUPERUSER_ID, Command, api

NEW_TOOLS = (
    "tool_finance_send_payment_reminder",
    "tool_finance_draft_vendor_bill",
    "tool_finance_reconcile_match",
)
# Where the new paragraph starts in the shipped prompt, and the new rule's first words.
PARAGRAPH = "Changing the books:"
RULE = "Send reminders, draft bills or reconcile only when the user asks"
DATA = Path(__file__).parents[2] / "data" / "aia_agent_data.xml"


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    agent = env.ref("ai_agents_finance.agent_finance", raise_if_not_found=False)
    if not agent:
        return
    tools = [env.ref(f"ai_agents_finance.{xml_id}", raise_if_not_found=False) for xml_id in NEW_TOOLS]
    values = {"tool_ids": [Command.link(tool.id) for tool in tools if tool]}
    record = etree.parse(str(DATA)).find(".//record[@id='agent_finance']")
    shipped_prompt = record.find("field[@name='system_prompt']").text
    if PARAGRAPH not in (agent.system_prompt or ""):
        paragraph = shipped_prompt[shipped_prompt.index(PARAGRAPH) :]
        values["system_prompt"] = (agent.system_prompt or "").rstrip() + "\n\n" + paragraph
    if RULE not in (agent.rules or ""):
        rule = next(
            line for line in record.find("field[@name='rules']").text.splitlines() if line.startswith(RULE)
        )
        values["rules"] = (agent.rules or "").rstrip() + "\n" + rule
    agent.write(values)
