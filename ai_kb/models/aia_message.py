from odoo import fields, models


class AiaMessage(models.Model):
    _inherit = "aia.message"

    citations = fields.Json(readonly=True, help="Knowledge passages given to the model for this answer.")

    def _aia_to_client(self):
        data = super()._aia_to_client()
        data["citations"] = self.citations or []
        return data
