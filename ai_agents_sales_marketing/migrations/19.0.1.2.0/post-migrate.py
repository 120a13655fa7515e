"""Give the agents of an existing database the write tools added in 19.0.1.2.0 (quotations,
follow-up activities, lost leads, draft mailings) and the lines of their prompts that say when
to use them; the agents are noupdate data, so an update alone would not."""

from odoo import SUPERUSER_ID, api

from odoo.addons.ai_agents_sales_marketing.write_tools import give_write_tools


def migrate(cr, version):
    give_write_tools(api.Environment(cr, SUPERUSER_ID, {}))
