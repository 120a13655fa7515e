from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

# The operator model Live Chat records for an agent (beside Odoo's ``res.users`` and
# ``chatbot.script``).
OPERATOR_MODEL = "aia.agent"


class ImLivechatChannel(models.Model):
    _inherit = "im_livechat.channel"

    aia_agent_id = fields.Many2one(
        "aia.agent",
        string="AI agent",
        domain=[("discuss_available", "=", True)],
        ondelete="set null",
        # Who the agent runs as for visitors decides what it may read for anyone: AI managers only.
        groups="ai_core.group_aia_manager",
        help="The agent takes each new visitor's conversation as its first operator and hands it "
        "over to a human operator when the visitor asks for one or when it cannot answer.",
    )
    aia_livechat_user_id = fields.Many2one(
        "res.users",
        string="Agent runs as",
        domain=[("share", "=", False)],
        ondelete="restrict",
        groups="ai_core.group_aia_manager",
        help="The internal user (an AI user) whose rights the agent's turns for visitors have: give "
        "it a user with read-only rights on what visitors may learn. Write tools are never "
        "offered in live chat.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._aia_check_runner(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._aia_check_runner(vals)
        return super().write(vals)

    def _aia_check_runner(self, vals):
        """An AI manager may make the agent answer visitors only with rights they have themselves:
        the user it runs as may have no group the manager lacks (else a manager would read, as an
        anonymous visitor, what only that user may)."""
        if self.env.su or not vals.get("aia_livechat_user_id"):
            return
        runner = self.env["res.users"].sudo().browse(vals["aia_livechat_user_id"])
        if runner.all_group_ids - self.env.user.all_group_ids:
            raise AccessError(
                self.env._(
                    "The agent may not answer visitors as %(user)s: that user has rights you do not have.",
                    user=runner.name,
                )
            )

    @api.constrains("aia_agent_id", "aia_livechat_user_id")
    def _check_aia_agent(self):
        # Superuser: the constraint also runs when a live chat manager (no right on these
        # fields) creates a channel.
        for channel in self.sudo().filtered("aia_agent_id"):
            if not channel.aia_agent_id.discuss_available:
                raise ValidationError(
                    self.env._("%(agent)s is not available in Discuss.", agent=channel.aia_agent_id.name)
                )
            user = channel.aia_livechat_user_id
            if not user or user.share:
                raise ValidationError(
                    self.env._("Choose the internal user the agent's turns for visitors run as.")
                )
            if user._is_admin() or user.has_group("base.group_system"):
                raise ValidationError(
                    self.env._(
                        "The agent's turns for visitors may not run as an administrator: choose a "
                        "user with read-only rights."
                    )
                )

    def _aia_operator_agent(self):
        """The agent that answers this channel's visitors first, or an empty recordset."""
        self.ensure_one()
        channel = self.sudo()
        agent = channel.aia_agent_id
        if (
            agent
            and agent.active
            and agent.discuss_available
            and agent.partner_id
            and channel.aia_livechat_user_id
        ):
            return agent
        return self.env["aia.agent"]

    def _get_operator_info(
        self, /, *, lang, country_id, previous_operator_id=None, chatbot_script_id=None, **kwargs
    ):
        """A channel with an agent: the agent is the operator of a new session (a chatbot the
        visitor's page asked for keeps its priority, as in Odoo)."""
        info = super()._get_operator_info(
            lang=lang,
            country_id=country_id,
            previous_operator_id=previous_operator_id,
            chatbot_script_id=chatbot_script_id,
            **kwargs,
        )
        if info["operator_model"] == "chatbot.script":
            return info
        agent = self._aia_operator_agent()
        if agent:
            info.update(
                agent=self.env["res.users"], operator_partner=agent.partner_id, operator_model=OPERATOR_MODEL
            )
        return info

    def _get_channel_name(
        self, /, *, visitor_user=None, guest=None, agent, chatbot_script, operator_model, **kwargs
    ):
        if operator_model != OPERATOR_MODEL:
            return super()._get_channel_name(
                visitor_user=visitor_user,
                guest=guest,
                agent=agent,
                chatbot_script=chatbot_script,
                operator_model=operator_model,
                **kwargs,
            )
        visitor = visitor_user.display_name if visitor_user else guest.name if guest else ""
        return " ".join(filter(None, [visitor, self._aia_operator_agent().name]))

    def _is_livechat_available(self):
        # A channel whose agent answers is open even when no human operator is online.
        return super()._is_livechat_available() or bool(self._aia_operator_agent())
