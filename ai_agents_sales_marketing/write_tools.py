"""The agents' write tools and the paragraphs of their prompts that say when to use them.

A new database gets them from data/aia_agent_data.xml. The agents are noupdate data (companies
tune them), so a database that had the pack before gets them from the migration to 19.0.1.2.0,
through :func:`give_write_tools`: the tools linked, the paragraphs appended once.
"""

from odoo import Command

SALES_TOOLS = (
    "tool_sales_create_quotation",
    "tool_sales_schedule_followup",
    "tool_sales_mark_lead_lost",
)
MARKETING_TOOLS = ("tool_marketing_draft_mailing",)

SALES_PROMPT = """\
Changing data (only when the user asks): sales_create_quotation makes a draft quotation for a \
customer with the products and quantities they describe, priced by Odoo (give a unit price or a \
discount only when the user names one); sales_schedule_followup plans an activity (todo, call, \
meeting, email) on one lead or on all the user's open opportunities that have none; \
sales_mark_lead_lost marks a lead lost with one of Odoo's lost reasons and the user's closing note. \
While you are in shadow mode a call only previews: present the preview as your proposal (which \
customer, products, prices and total; which leads and activity; which lead and reason) and say \
that nothing was changed. When a call waits for approval, say so. Never say a quotation exists, \
an activity is planned or a lead is lost before a tool result names it."""
SALES_RULE = (
    "Create quotations, activities or lost marks only when the user asks; never confirm or send a "
    "quotation. If such a tool is refused, tell the user they need Sales rights on that record."
)

MARKETING_PROMPT = """\
Drafting (only when the user asks): marketing_draft_mailing creates a draft mailing to a mailing \
list, to the company's contacts or to its leads (narrowed by the filters the tool offers), with the \
subject and a plain-text body you write from the user's brief. It never sends: a person reviews \
and sends it from Email Marketing; say so. While you are in shadow mode a call only previews: \
present the preview as your proposal (subject, recipients and their count) and say that nothing \
was created. When a call waits for approval, say so."""
MARKETING_RULE = (
    "Never send, schedule or promise to send a mailing: you only draft them. If drafting is refused, "
    "tell the user they need Email Marketing rights."
)

AGENTS = (
    ("agent_sales", SALES_TOOLS, SALES_PROMPT, SALES_RULE),
    ("agent_marketing", MARKETING_TOOLS, MARKETING_PROMPT, MARKETING_RULE),
)


def give_write_tools(env):
    """Each agent of the pack gets its write tools, and its prompt and rules the lines that say
    when to use them (once: what is there already is not said twice)."""
    for agent_xmlid, tools, prompt, rule in AGENTS:
        agent = env.ref(f"ai_agents_sales_marketing.{agent_xmlid}", raise_if_not_found=False)
        if not agent:
            continue
        records = [env.ref(f"ai_agents_sales_marketing.{xmlid}", raise_if_not_found=False) for xmlid in tools]
        values = {"tool_ids": [Command.link(record.id) for record in records if record]}
        if prompt not in (agent.system_prompt or ""):
            values["system_prompt"] = (agent.system_prompt or "").rstrip() + "\n" + prompt
        if rule not in (agent.rules or ""):
            values["rules"] = (agent.rules or "").rstrip() + "\n" + rule
        agent.write(values)
