from odoo import models

from .. import conversation


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    def _message_post_after_hook(self, message, msg_vals):
        result = super()._message_post_after_hook(message, msg_vals)
        conversation.on_post(self, message, msg_vals)
        return result

    def _notify_get_recipients(self, message, msg_vals=False, **kwargs):
        """An agent's contact is never notified (it has no inbox and no email): it answers."""
        recipients = super()._notify_get_recipients(message, msg_vals=msg_vals, **kwargs)
        if not recipients:
            return recipients
        agents = self.env["aia.agent"]._aia_discuss_agents({recipient["id"] for recipient in recipients})
        if not agents:
            return recipients
        return [recipient for recipient in recipients if recipient["id"] not in agents.partner_id.ids]
