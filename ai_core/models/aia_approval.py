import json

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import turn
from ..guard import check_user_writable
from .aia_tool_execution import tool_call_to_client


class AiaApproval(models.Model):
    """A write an agent proposed, waiting for a person's decision.

    Segregation of duties: when the agent has a designated approver, only that approver decides,
    or an AI operator as a logged override, and never the person whose session asked. Without
    one, the session's owner decides on their own session (operators may too). The approver reads
    what they decide on here (tool, arguments, preview, who asked and why), not the transcript.
    """

    _name = "aia.approval"
    _description = "AI Approval"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    session_id = fields.Many2one("aia.session", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="session_id.company_id", store=True, index=True)
    agent_id = fields.Many2one(related="session_id.agent_id", store=True)
    requested_by_id = fields.Many2one(
        related="session_id.user_id", store=True, string="Requested by", help="The session's owner."
    )
    approver_id = fields.Many2one("res.users", help="Who is asked; AI operators may decide too.")
    call_id = fields.Char(required=True)
    tool_name = fields.Char("Tool", required=True)
    arguments = fields.Json(help="Proposed arguments, redacted.")
    arguments_text = fields.Text("Arguments (readable)", compute="_compute_arguments_text")
    preview = fields.Text(help="What the action would create or change.")
    user_request = fields.Text(help="The message of the turn that led to this action.")
    agent_reason = fields.Text(help="What the agent said before proposing the action.")
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
        tracking=True,
    )
    decided_by_id = fields.Many2one("res.users", readonly=True)
    decided_on = fields.Datetime(readonly=True)
    override = fields.Boolean(readonly=True, help="Decided by an AI operator instead of the approver.")
    reason = fields.Text()
    can_decide = fields.Boolean(compute="_compute_can_decide")

    # === COMPUTES === #

    @api.depends("arguments")
    def _compute_arguments_text(self):
        for approval in self:
            approval.arguments_text = json.dumps(approval.arguments or {}, indent=2, ensure_ascii=False)

    @api.depends_context("uid")
    @api.depends("state", "approver_id")
    def _compute_can_decide(self):
        for approval in self:
            approval.can_decide = approval.state == "pending" and approval._aia_decider_role(
                self.env.user
            ) in ("approver", "override")

    # === CRUD === #

    def write(self, vals):
        # Decisions go through action_approve / action_reject, which check who decides.
        check_user_writable(self, vals, allowed=())
        return super().write(vals)

    # === ACTIONS === #

    def action_approve(self):
        return self._aia_decide(True)

    def action_reject(self, reason=None):
        return self._aia_decide(False, reason)

    # === BUSINESS METHODS === #

    def _aia_to_client(self):
        """What the chat UI shows of an approval request."""
        self.ensure_one()
        return {
            **tool_call_to_client(self),
            "state": self.state,
            "approver": self.approver_id.name or "",
            "can_decide": self.can_decide,
        }

    def _aia_decider_role(self, user):
        """``approver``, ``override`` (an operator deciding in the approver's place) or None."""
        self.ensure_one()
        approval = self.sudo()
        requester = approval.session_id.user_id
        designated = bool(approval.session_id.agent_id.approver_id)
        if user == approval.approver_id and not (designated and user == requester):
            return "approver"
        if user.has_group("ai_core.group_aia_operator") and not (designated and user == requester):
            return "override"
        return None

    def _aia_decide(self, approved, reason=None):
        """Record the decision and resume the session in a job."""
        self.ensure_one()
        self.env["aia.session"]._aia_check_enabled()
        self.check_access("read")
        user = self.env.user
        role = self._aia_decider_role(user)
        if not role:
            raise AccessError(
                self.env._(
                    "Only the approver of this action (or an AI operator, who is not the one asking) "
                    "may decide on it."
                )
            )
        approval = self.sudo()
        approval.lock_for_update()
        if approval.state != "pending":
            raise UserError(self.env._("This action was already decided."))
        approval.write(
            {
                "state": "approved" if approved else "rejected",
                "decided_by_id": user.id,
                "decided_on": fields.Datetime.now(),
                "override": role == "override" and user != approval.approver_id,
                "reason": reason or False,
            }
        )
        if approval.override:
            approval.message_post(
                body=self.env._(
                    "%(user)s decided in place of the approver %(approver)s.",
                    user=user.name,
                    approver=approval.approver_id.name or "-",
                )
            )
        approval.activity_ids.action_feedback(
            feedback=self.env._("Approved")
            if approved
            else self.env._("Rejected: %(reason)s", reason=reason or "")
        )
        turn.enqueue_resume(approval.session_id, approval)
        return True
