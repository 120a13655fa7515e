from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.ai_core import turn
from odoo.addons.ai_core.ai_engine import ToolAnswer

from ..delegation import DEFAULT_MAX_DEPTH, DEPTH_PARAM, check_can_delegate, deferred, task_text

# A child session in these states has ended its work: its parent gets the answer (a child
# stopped by its user answers from action_cancel).
ENDED_STATES = ("done", "error")


class AiaSession(models.Model):
    _inherit = "aia.session"

    parent_session_id = fields.Many2one(
        "aia.session",
        string="Delegated by",
        ondelete="cascade",
        index="btree_not_null",
        readonly=True,
        check_company=True,
    )
    parent_call_id = fields.Char("Delegating call", readonly=True)
    child_session_ids = fields.One2many("aia.session", "parent_session_id", string="Delegated sessions")
    # Totals include the delegated sessions' (see _compute_totals): recursive dependencies.
    input_tokens = fields.Integer(recursive=True)
    output_tokens = fields.Integer(recursive=True)
    cache_read_tokens = fields.Integer(recursive=True)
    cache_write_tokens = fields.Integer(recursive=True)
    total_tokens = fields.Integer(recursive=True)
    total_cost = fields.Float(recursive=True)

    # === COMPUTES === #

    @api.depends(
        "child_session_ids.input_tokens",
        "child_session_ids.output_tokens",
        "child_session_ids.cache_read_tokens",
        "child_session_ids.cache_write_tokens",
        "child_session_ids.total_tokens",
        "child_session_ids.total_cost",
    )
    def _compute_totals(self):
        """A session's totals include what the agents it delegated to spent: its budgets cover
        them (their ledger rows stay theirs, billed once)."""
        result = super()._compute_totals()
        for session in self:
            for child in session.child_session_ids:
                session.update(
                    {
                        "input_tokens": session.input_tokens + child.input_tokens,
                        "output_tokens": session.output_tokens + child.output_tokens,
                        "cache_read_tokens": session.cache_read_tokens + child.cache_read_tokens,
                        "cache_write_tokens": session.cache_write_tokens + child.cache_write_tokens,
                        "total_tokens": session.total_tokens + child.total_tokens,
                        "total_cost": session.total_cost + child.total_cost,
                    }
                )
        return result

    # === ACTIONS === #

    def action_cancel(self):
        result = super().action_cancel()
        # Stopping a session stops the work it waits for; a child stopped alone answers its
        # parent, which goes on without it.
        busy_children = self.child_session_ids.filtered(lambda child: child.state in turn.BUSY_STATES)
        if busy_children:
            busy_children.action_cancel()
        for child in self.filtered(lambda s: s.parent_session_id.state == "waiting_tool"):
            child.sudo()._aia_answer_parent()
        return result

    # === PUBLIC API (chat UI and JSON-2) === #

    def chat_data(self):
        """The chat shows each delegating call with the session it started, which it opens."""
        data = super().chat_data()
        data["deferred"].update(
            {
                child.parent_call_id: {
                    "reason": self.env._("Delegated to %(agent)s", agent=child.agent_id.name),
                    "session_id": child.id,
                    "session_name": child.name,
                    "session_state": child.state,
                }
                for child in self.child_session_ids
                if child.parent_call_id
            }
        )
        return data

    # === BUSINESS METHODS === #

    @api.model
    def _aia_delegate(self, parent, agent_id, arguments):
        """Tool handler of ``agent.<code>`` (see :mod:`ai_team.delegation`): start a session of the
        agent ``agent_id`` on the task, as ``parent``'s user in its company, and defer the call."""
        agent = self.env["aia.agent"].browse(agent_id)
        agent.check_access("read")  # the user's rights: an agent they may not use is refused
        max_depth = int(self.env["ir.config_parameter"].sudo().get_param(DEPTH_PARAM, DEFAULT_MAX_DEPTH))
        parent = parent.sudo()
        check_can_delegate(parent, agent.sudo(), max_depth)
        child = self.sudo().create(
            {
                "agent_id": agent.id,
                "user_id": parent.user_id.id,
                "company_id": parent.company_id.id,
                "channel": parent.channel,
                "parent_session_id": parent.id,
            }
        )
        # The child's turn is queued now; when it ends, the job that answers the parent waits
        # for the parent's turn to have recorded its own end (aia.session._aia_job_answer).
        turn.accept(child.with_env(self.env), task_text(parent.agent_id.name, arguments))
        return deferred(child)

    def _aia_turn_ended(self):
        for session in self.filtered(lambda s: s.parent_session_id and s.state in ENDED_STATES):
            session._aia_answer_parent()
        return super()._aia_turn_ended()

    def _aia_answer_parent(self):
        """Give the parent this child's outcome as the result of the call that delegated to it."""
        self.ensure_one()
        if not self.parent_call_id:
            return
        # The call itself costs nothing: what the child spent is its own ledger rows, which the
        # parent's totals and its turn's spending already include (priced again, it was billed twice).
        cost = Decimal(0)
        if self.state == "done" and not self.error_message:
            answer = ToolAnswer(self.parent_call_id, self.last_text or "", "ok", cost)
        else:
            why = self.error_message or self.env._("The delegated agent was stopped.")
            text = self.env._("%(agent)s did not finish: %(why)s", agent=self.agent_id.name, why=why)
            answer = ToolAnswer(self.parent_call_id, text, "error", cost)
        turn.enqueue_answer(self.parent_session_id, answer)

    def _aia_tool_deferred(self, event):
        """This session's turn deferred a call to a child: link the child to the call."""
        child = self.sudo().child_session_ids.filtered(lambda s: s.id == event.ref.get("session_id"))
        child.parent_call_id = event.call_id
        return super()._aia_tool_deferred(event)

    def _aia_limits(self):
        """A child may spend what is left of its parent's turn and session budgets, no more."""
        limits = super()._aia_limits()
        parent = self.sudo().parent_session_id
        if not parent:
            return limits
        caps = parent._aia_limits()
        # The engine counts this session's own spending (its turn's, its totals) against its
        # caps: leave it out of the parent's figures, which include it.
        parent_tokens, parent_cost = parent._aia_turn_spending()
        own_tokens, own_cost = self._aia_turn_spending()
        others_tokens = parent.total_tokens - self.total_tokens
        others_cost = Decimal(str(parent.total_cost)) - Decimal(str(self.total_cost))
        return limits.tightened(
            max_turn_tokens=turn.left(caps.max_turn_tokens, parent_tokens - own_tokens),
            max_turn_cost=turn.left(caps.max_turn_cost, parent_cost - own_cost),
            max_session_tokens=turn.left(caps.max_session_tokens, others_tokens),
            max_session_cost=turn.left(caps.max_session_cost, others_cost),
        )

    def _aia_turn_sessions(self):
        """What the sessions it delegated to spend, a session's turn spends too."""
        sessions = children = super()._aia_turn_sessions()
        while children := children.sudo().child_session_ids - sessions:
            sessions |= children
        return sessions

    @api.constrains("parent_session_id")
    def _check_parent_is_not_a_descendant(self):
        if self._has_cycle("parent_session_id"):
            raise ValidationError(self.env._("A session cannot be delegated by itself."))
