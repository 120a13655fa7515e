from odoo import models


class AiaSession(models.Model):
    _inherit = "aia.session"

    def _aia_check_can_start(self):
        """Budgets: a turn whose company, user or agent spent its monthly budget does not start.

        Budgets and the ledger are billing data the session's user may not read: checked as
        superuser, the answer (a refusal message) is all the user sees.
        """
        result = super()._aia_check_can_start()
        self.env["aia.billing.budget"].sudo()._aia_check_sessions(self)
        return result
