from odoo import models


class IrCron(models.Model):
    _inherit = "ir.cron"

    def action_aia_open_sessions(self):
        """The "AI sessions" button of the server action form, which scheduled actions inherit."""
        return self.ir_actions_server_id.action_aia_open_sessions()
