from datetime import datetime

from odoo import fields, models

# A session in these states has stopped its turn (for now, when waiting).
STOPPED_STATES = ("done", "error", "waiting_approval", "waiting_tool")


class AiaSession(models.Model):
    _inherit = "aia.session"

    channel = fields.Selection(selection_add=[("workflow", "Workflow")], ondelete={"workflow": "set default"})
    workflow_task_id = fields.Many2one(
        "aia.workflow.task",
        string="Workflow task",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
    )
    workflow_run_id = fields.Many2one(related="workflow_task_id.run_id", string="Workflow run")

    workflow_run_ids = fields.One2many(
        "aia.workflow.run", "origin_session_id", string="Workflow runs started"
    )

    # === ACTIONS === #

    def action_cancel(self):
        result = super().action_cancel()
        # A step's session stopped by hand stops its step: the run fails, and may be retried.
        for session in self.sudo().filtered(lambda s: s.workflow_task_id.state in ("running", "waiting")):
            session.workflow_task_id._aia_session_ended(session)
        return result

    # === PUBLIC API (chat UI and JSON-2) === #

    def chat_data(self):
        """The chat shows each call that started a workflow run with the run, which it opens."""
        data = super().chat_data()
        data["deferred"].update(
            {
                run.origin_call_id: {
                    "reason": self.env._("Workflow %(name)s", name=run.workflow_id.name),
                    "res_model": run._name,
                    "res_id": run.id,
                    "state": run.state,
                }
                for run in self.sudo().workflow_run_ids
                if run.origin_call_id
            }
        )
        return data

    # === BUSINESS METHODS === #

    def _aia_tool_deferred(self, event):
        """This session's turn deferred a call to a workflow run: link the run to the call."""
        run = self.sudo().workflow_run_ids.filtered(lambda r: r.id == event.ref.get("run_id"))
        run.origin_call_id = event.call_id
        return super()._aia_tool_deferred(event)

    def _aia_turn_ended(self):
        for session in self.sudo().filtered(lambda s: s.workflow_task_id and s.state in STOPPED_STATES):
            session.workflow_task_id._aia_session_ended(session)
        return super()._aia_turn_ended()

    def _aia_limits(self):
        """A step's session may spend what is left of its run's caps, within its time limit."""
        limits = super()._aia_limits()
        task = self.sudo().workflow_task_id
        if not task:
            return limits
        context = self.env.context
        if context.get("aia_workflow_task_job") == task.id and "aia_workflow_bounds" in context:
            bounds = context["aia_workflow_bounds"]  # read by the task's job right before the turn
        else:
            bounds = task.run_id._aia_session_bounds(self)
        tokens_left, cost_left, deadline = bounds
        seconds_left = (deadline - datetime.now()).total_seconds() if deadline else None
        return limits.tightened(
            max_session_tokens=tokens_left,
            max_session_cost=cost_left,
            turn_deadline=max(seconds_left, 0.0) if seconds_left is not None else None,
        )
