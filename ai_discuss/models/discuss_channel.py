from odoo import models


class DiscussChannel(models.Model):
    _inherit = "discuss.channel"

    def _get_allowed_message_partner_ids(self, partner_ids):
        """An agent added to a channel restricted to a group may be @mentioned there: its contact
        has no user, so Discuss would drop the mention."""
        allowed = super()._get_allowed_message_partner_ids(partner_ids)
        agents = self.env["aia.agent"]._aia_discuss_agents(set(partner_ids) - set(allowed))
        members = self.sudo().channel_member_ids.partner_id
        return allowed + [partner.id for partner in agents.partner_id if partner in members]
