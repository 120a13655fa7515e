from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from odoo.addons.ai_core import turn
from odoo.addons.ai_core.ai_engine import ToolAnswer
from odoo.addons.ai_core.models.aia_session import TOTALS

from ..delegation import DEFAULT_MAX_DEPTH, DEPTH_PARAM, check_can_delegate, deferred, task_text

# A child session in these states has ended its work: its parent gets the answer (a child
# stopped by its user answers from action_cancel).
ENDED_STATES = ("done", "error")
# Context key: the id of the session whose turn the current job runs; that job resumes the
# parent's turn itself once the turn ends (AiaSession._aia_resume_parent).
RESUMED_IN_JOB = "aia_team_resumes_parent_of"


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

    # === CRUD === #

    def write(self, vals):
        result = super().write(vals)
        # Only a write can make a session delegated by itself: a new one has no descendants.
        if "parent_session_id" in vals and self._has_cycle("parent_session_id"):
            raise ValidationError(self.env._("A session cannot be delegated by itself."))
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

    # === JOBS === #

    # The job that ends a child's turn resumes its parent's turn right after, on the same
    # cursor, rather than queueing a job for it. The parent's state and transcript, committed
    # with the child's end, say that it still waits: a worker that dies in between leaves the
    # job started, queue_job's runner queues it anew, and its second run resumes the parent
    # (or recovers the parent's resumed turn). A child ended outside these jobs (stopped by its
    # user, a failed job's hook) queues the parent's continuation as before.

    def _aia_job_run_turn(self, *args, **kwargs):
        return self._aia_job_then_parent("_aia_job_run_turn", *args, **kwargs)

    def _aia_job_resume(self, *args, **kwargs):
        return self._aia_job_then_parent("_aia_job_resume", *args, **kwargs)

    def _aia_job_answer(self, *args, **kwargs):
        return self._aia_job_then_parent("_aia_job_answer", *args, **kwargs)

    def _aia_job_recover(self, *args, **kwargs):
        return self._aia_job_then_parent("_aia_job_recover", *args, **kwargs)

    def _aia_job_then_parent(self, job, *args, **kwargs):
        """Run ai_core's ``job`` on this session, then resume the parent it answers, if any.
        Whether it answers one is read now, with the row the job reads first: after the turn's
        commits it would be read again, in every job."""
        delegated = bool(self.sudo().parent_call_id)
        own = self.with_context(**{RESUMED_IN_JOB: self.id})
        result = getattr(super(AiaSession, own), job)(*args, **kwargs)
        if delegated:
            own._aia_resume_parent()
        return result

    def _aia_job_failed(self, **failure):
        """The failed job may have been resuming a parent's turn (see above): the parent's
        continuation, or the recovery of its resumed turn, is queued as a job of its own."""
        result = super()._aia_job_failed(**failure)
        for session in self.sudo().filtered(lambda s: s.parent_call_id and s.state in ENDED_STATES):
            parent = session.parent_session_id
            if parent.state == "waiting_tool":
                session._aia_answer_parent()
            elif parent.state == "running":
                parent._aia_job_failed(**failure)
        return result

    def _aia_resume_parent(self):
        """If this session's turn ended, continue its parent's turn with its outcome, in the
        current job (a late or repeated answer is dropped, a turn resumed already recovered:
        ai_core's ``_aia_job_answer``). The parent's continuation resumes its own parent in turn."""
        session = self.sudo()
        if not (session.parent_call_id and session.state in ENDED_STATES):
            return
        parent = session.parent_session_id
        # Read again: a parent stopped by its user while the child worked is not resumed.
        parent.invalidate_recordset(["state"])
        answer = session._aia_answer()
        parent.with_user(parent.user_id).sudo(False)._aia_job_answer(
            answer.call_id, answer.content, answer.status, str(answer.cost)
        )

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
        # A new child has spent nothing: its parent's totals, which include its children's, stay.
        for name in TOTALS:
            self.env.remove_to_compute(parent._fields[name], parent)
        # The child's turn is queued now; its job resumes the parent's turn once the child's
        # ends (_aia_resume_parent).
        turn.accept(child.with_env(self.env), task_text(parent.agent_id.name, arguments))
        return deferred(child)

    def _aia_turn_ended(self):
        for session in self.filtered(lambda s: s.parent_session_id and s.state in ENDED_STATES):
            session._aia_answer_parent()
        return super()._aia_turn_ended()

    def _aia_answer_parent(self):
        """Give the parent this child's outcome as the result of the call that delegated to it:
        queue the parent's continuation, unless the job ending this turn resumes it."""
        self.ensure_one()
        if not self.parent_call_id:
            return
        if self.env.context.get(RESUMED_IN_JOB) == self.id and self.state in ENDED_STATES:
            return  # the job resumes it (_aia_resume_parent)
        turn.enqueue_answer(self.parent_session_id, self._aia_answer())

    def _aia_answer(self):
        """This child's outcome, the result of the call that delegated to it."""
        # The call itself costs nothing: what the child spent is its own ledger rows, which the
        # parent's totals and its turn's spending already include (priced again, it was billed twice).
        cost = Decimal(0)
        if self.state == "done" and not self.error_message:
            return ToolAnswer(self.parent_call_id, self.last_text or "", "ok", cost)
        why = self.error_message or self.env._("The delegated agent was stopped.")
        text = self.env._("%(agent)s did not finish: %(why)s", agent=self.agent_id.name, why=why)
        return ToolAnswer(self.parent_call_id, text, "error", cost)

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
        spent = (parent | self)._aia_turn_spendings()
        (parent_tokens, parent_cost), (own_tokens, own_cost) = spent[parent.id], spent[self.id]
        others_tokens = parent.total_tokens - self.total_tokens
        others_cost = Decimal(str(parent.total_cost)) - Decimal(str(self.total_cost))
        return limits.tightened(
            max_turn_tokens=turn.left(caps.max_turn_tokens, parent_tokens - own_tokens),
            max_turn_cost=turn.left(caps.max_turn_cost, parent_cost - own_cost),
            max_session_tokens=turn.left(caps.max_session_tokens, others_tokens),
            max_session_cost=turn.left(caps.max_session_cost, others_cost),
        )

    def _aia_turn_spending(self):
        """(tokens, cost) the current turn spent, from its user message on, the sessions it
        delegated to included (theirs is its turn's spending)."""
        self.ensure_one()
        return self._aia_turn_spendings()[self.id]

    def _aia_turn_spendings(self):
        """{session id: (tokens, cost)} of :meth:`_aia_turn_spending` for each of these
        sessions, in one query: the sessions each delegated to at any depth, its question, the
        sums."""
        self.env["aia.session"].flush_model(["parent_session_id"])
        self.env["aia.message"].flush_model(["session_id", "role"])
        self.env["aia.usage.event"].flush_model(["session_id", "total_tokens", "cost"])
        self.env.cr.execute(
            SQL(
                """
                WITH RECURSIVE delegated(root, id) AS (
                    SELECT id, id FROM aia_session WHERE id IN %(ids)s
                    UNION
                    SELECT delegated.root, child.id FROM aia_session child
                      JOIN delegated ON child.parent_session_id = delegated.id
                ),
                question(root, since) AS (
                    SELECT DISTINCT ON (session_id) session_id, create_date FROM aia_message
                     WHERE session_id IN %(ids)s AND role = 'user'
                     ORDER BY session_id, id DESC
                )
                SELECT delegated.root, SUM(event.total_tokens), SUM(event.cost)
                  FROM delegated
                  JOIN question ON question.root = delegated.root
                  JOIN aia_usage_event event
                    ON event.session_id = delegated.id AND event.create_date >= question.since
                 GROUP BY delegated.root
                """,
                ids=tuple(self.ids),
            )
        )
        spent = dict.fromkeys(self.ids, (0, Decimal(0)))
        for session_id, tokens, cost in self.env.cr.fetchall():
            # As ai_core's turn.spending gives them (the ORM reads the column as a float).
            spent[session_id] = (tokens or 0, Decimal(str(float(cost or 0))))
        return spent
