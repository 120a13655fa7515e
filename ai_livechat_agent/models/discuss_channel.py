from odoo import models

from .. import livechat


class DiscussChannel(models.Model):
    _inherit = "discuss.channel"

    def _message_post_after_hook(self, message, msg_vals):
        result = super()._message_post_after_hook(message, msg_vals)
        if self.channel_type == "livechat":
            livechat.on_post(self, message, msg_vals)
        return result
