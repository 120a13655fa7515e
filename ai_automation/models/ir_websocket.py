from odoo import models

from .aia_session import RECORD_CHANNEL_PREFIX


class IrWebsocket(models.AbstractModel):
    _inherit = "ir.websocket"

    def _prepare_subscribe_data(self, channels, last):
        """Record channels of the chatter's AI sessions box: only for users who read the record."""
        data = super()._prepare_subscribe_data(channels, last)
        Session = self.env["aia.session"]
        for channel in channels:
            if isinstance(channel, str) and channel.startswith(RECORD_CHANNEL_PREFIX):
                if not Session._aia_can_subscribe(channel):
                    data["channels"].discard(channel)
        return data
