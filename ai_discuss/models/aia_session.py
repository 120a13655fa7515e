from odoo import fields, models

from .. import conversation


class AiaSession(models.Model):
    _inherit = "aia.session"

    channel = fields.Selection(selection_add=[("discuss", "Discuss")], ondelete={"discuss": "set default"})
    # Where the session's answers are posted: a Discuss channel or a record's chatter. Written by
    # the suite only (a user who could set it would post answers into another conversation).
    discuss_model = fields.Char("Conversation model", readonly=True, index="btree_not_null")
    discuss_id = fields.Many2oneReference("Conversation", model_field="discuss_model", readonly=True)

    # === BUSINESS METHODS === #

    def _aia_turn_ended(self):
        """A turn of a Discuss conversation ended: its answer (or why there is none) is posted there."""
        result = super()._aia_turn_ended()
        for session in self.filtered("discuss_model"):
            conversation.post_answer(session)
        return result
