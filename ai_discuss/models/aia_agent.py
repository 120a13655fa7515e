import base64

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import file_open

# The avatar of every agent's contact in Discuss (a manager may change it on the contact).
AVATAR = "ai_discuss/static/description/icon.png"


class AiaAgent(models.Model):
    _inherit = "aia.agent"

    discuss_available = fields.Boolean(
        "Available in Discuss",
        help="Users may chat with the agent in Discuss, add it to channels and @mention it in any "
        "record's chatter; it answers in that conversation with the user's rights.",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Discuss contact",
        readonly=True,
        copy=False,
        ondelete="set null",
        index="btree_not_null",
        help="Who the agent is in Discuss: a contact without a user, created when the agent is "
        "made available there.",
    )

    # === CRUD === #

    @api.model_create_multi
    def create(self, vals_list):
        agents = super().create(vals_list)
        agents.filtered("discuss_available")._aia_ensure_partner()
        return agents

    def write(self, vals):
        result = super().write(vals)
        if vals.get("discuss_available"):
            self.filtered("discuss_available")._aia_ensure_partner()
        if "name" in vals or "company_id" in vals:
            for agent in self.sudo().filtered("partner_id"):
                agent.partner_id.write({"name": agent.name, "company_id": agent.company_id.id})
        return result

    # === ACTIONS === #

    def action_aia_discuss_chat(self):
        """Open (or start) my direct chat with the agent in Discuss."""
        self.ensure_one()
        thread = f"discuss.channel_{self._aia_discuss_chat().id}"
        # In the context too: the button's own active_id (the agent's) would win over params.
        return {
            "type": "ir.actions.client",
            "tag": "mail.action_discuss",
            "context": {"active_id": thread},
            "params": {"active_id": thread},
        }

    # === BUSINESS METHODS === #

    def _aia_discuss_chat(self):
        """My direct chat with the agent (created, pinned for me, when there is none yet)."""
        self.ensure_one()
        self.check_access("read")
        agent = self.sudo()
        if not agent.discuss_available or not agent.partner_id:
            raise UserError(self.env._("%(agent)s is not available in Discuss.", agent=agent.name))
        return self.env["discuss.channel"]._get_or_create_chat([agent.partner_id.id])

    def _aia_ensure_partner(self):
        """Give each of these agents its contact in Discuss, once."""
        avatar = None
        for agent in self.sudo().filtered(lambda a: not a.partner_id):
            if avatar is None:
                with file_open(AVATAR, "rb") as image:
                    avatar = base64.b64encode(image.read())
            agent.partner_id = (
                self.env["res.partner"]
                .sudo()
                .create({"name": agent.name, "company_id": agent.company_id.id, "image_1920": avatar})
            )

    @api.model
    def _aia_discuss_agents(self, partner_ids):
        """The agents available in Discuss whose contacts are among ``partner_ids`` (superuser
        rights: whether the poster may use each is checked apart)."""
        if not partner_ids:
            return self.browse()
        return self.sudo().search([("discuss_available", "=", True), ("partner_id", "in", list(partner_ids))])
