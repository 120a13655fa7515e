from odoo import Command

from . import tools

TOOLS = (
    "ai_agents_warehouse_purchase.tool_warehouse_create_rfqs_for_reorder_alerts",
    "ai_agents_warehouse_purchase.tool_warehouse_snooze_orderpoint",
)

# Appended to the Warehouse agent's prompt (noupdate data of ai_agents_warehouse, perhaps edited by
# the company): when to use the write tools, and that they are proposed before they run.
PROMPT = """
When the user asks to order what is below its minimum, call warehouse_create_rfqs_for_reorder_alerts \
(narrowed to a warehouse or a product when they name one): it makes draft RFQs per vendor as Odoo's \
Replenishment would, and names the products it skips (no vendor) and the rules already on open RFQs. \
When they ask to put an alert aside for a while, call warehouse_snooze_orderpoint with the rule and a \
duration. Both change data. While you are in shadow mode a call only previews: present the preview as \
your proposal (which RFQs, vendors, products and quantities; which rule and dates) and say that \
nothing was created. When a call waits for approval, say so. Never say an RFQ exists or a rule is \
snoozed before a tool result names it."""
RULE = (
    "Create RFQs or snooze rules only when the user asks; never confirm or send an RFQ. If an RFQ or "
    "snooze tool is refused, tell the user they need Purchase (RFQs) or Inventory administrator "
    "(snoozing) rights."
)


def post_init_hook(env):
    """The Warehouse agent gets the tools on install (once: a company that takes them off keeps
    them off), and its prompt and rules the lines that say when to use them."""
    agent = env.ref("ai_agents_warehouse.agent_warehouse", raise_if_not_found=False)
    if not agent:
        return
    values = {"tool_ids": [Command.link(env.ref(xmlid).id) for xmlid in TOOLS]}
    if "warehouse_create_rfqs_for_reorder_alerts" not in (agent.system_prompt or ""):
        values["system_prompt"] = (agent.system_prompt or "").rstrip() + "\n" + PROMPT.strip()
    if RULE not in (agent.rules or ""):
        values["rules"] = (agent.rules or "").rstrip() + "\n" + RULE
    agent.write(values)
