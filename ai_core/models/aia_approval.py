from odoo import fields, models
from odoo.exceptions import AccessError, UserError


class AiaApproval(models.Model):
    _name = "aia.approval"
    _description = "AI Approval"
    _order = "id desc"

    session_id = fields.Many2one("aia.session", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="session_id.company_id", store=True, index=True)
    agent_id = fields.Many2one(related="session_id.agent_id", store=True)
    approver_id = fields.Many2one("res.users", help="Who is asked; AI operators may decide too.")
    call_id = fields.Char(required=True)
    tool_name = fields.Char(required=True)
    arguments = fields.Json(help="Proposed arguments, redacted.")
    preview = fields.Text()
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
            ("cancelled", "Cancelled"),
        ],
        default="pending",
        required=True,
        index=True,
    )
    decided_by_id = fields.Many2one("res.users", readonly=True)
    decided_on = fields.Datetime(readonly=True)
    reason = fields.Text()
    activity_id = fields.Many2one("mail.activity", ondelete="set null")

    # === ACTIONS === #

    def action_approve(self):
        return self._aia_decide(True)

    def action_reject(self, reason=None):
        return self._aia_decide(False, reason)

    # === BUSINESS METHODS === #

    def _aia_decide(self, approved, reason=None):
        """Record the decision and resume the session in a job."""
        self.ensure_one()
        self.env["aia.session"]._aia_check_enabled()
        user = self.env.user
        allowed = user in (self.approver_id | self.session_id.user_id) or user.has_group(
            "ai_core.group_aia_operator"
        )
        if not allowed:
            raise AccessError(self.env._("Only the approver or an AI operator may decide on this action."))
        approval = self.sudo()
        approval.lock_for_update()
        if approval.state != "pending":
            raise UserError(self.env._("This action was already decided."))
        approval.write(
            {
                "state": "approved" if approved else "rejected",
                "decided_by_id": user.id,
                "decided_on": fields.Datetime.now(),
                "reason": reason or False,
            }
        )
        if approval.activity_id:
            approval.activity_id.action_feedback(
                feedback=self.env._("Approved")
                if approved
                else self.env._("Rejected: %(reason)s", reason=reason or "")
            )
        approval.session_id._aia_enqueue_resume(approval)
        return True
