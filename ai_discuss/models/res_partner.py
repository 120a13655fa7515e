from odoo import api, models
from odoo.fields import Domain


class ResPartner(models.Model):
    _inherit = "res.partner"

    @api.model
    def _search_for_channel_invite(self, store, search_term, channel_id=None, limit=30):
        """The agents available in Discuss that I may use can be invited to a channel too (Discuss
        offers users only, and an agent's contact has none)."""
        result = super()._search_for_channel_invite(store, search_term, channel_id=channel_id, limit=limit)
        if not self.env.user.has_group("ai_core.group_aia_user"):
            return result
        domain = Domain("name", "ilike", search_term) & Domain("discuss_available", "=", True)
        channel = self.env["discuss.channel"]
        if channel_id:
            channel = self.env["discuss.channel"].search([("id", "=", int(channel_id))])
            domain &= Domain("partner_id", "not in", channel.sudo().channel_member_ids.partner_id.ids)
        # Read with my rights: only the agents of my companies.
        partners = self.env["aia.agent"].search(domain, limit=limit).sudo().partner_id.with_env(self.env)
        partners = partners.filtered(lambda partner: partner.id not in result["partner_ids"])
        if partners:
            partners._search_for_channel_invite_to_store(store, channel)
            result["partner_ids"] = result["partner_ids"] + partners.ids
            result["count"] += len(partners)
        return result
