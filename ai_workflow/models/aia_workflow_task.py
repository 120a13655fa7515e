from opentelemetry import trace

from odoo import fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.ai_core import telemetry, turn

from .. import steps

# A task in these states has ended: the run may go on from it (or fail, for error and cancelled).
ENDED_STATES = ("done", "error", "cancelled")
# Characters of each tool result a reviewer reads with a task's output.
EVIDENCE_CHARS = 4000


class AiaWorkflowTask(models.Model):
    """One piece of a run's work: an agent's task (a session of its own, run in a queue job) or
    a person's decision (approval). Its input is saved before it starts and its output before
    the run goes on."""

    _name = "aia.workflow.task"
    _description = "AI Workflow Task"
    _order = "id"
    _check_company_auto = True

    run_id = fields.Many2one("aia.workflow.run", required=True, ondelete="cascade", index=True, readonly=True)
    # The run's, set when the task is made (a stored related field would be written again
    # right after every insert).
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    # The run's user, set when the task is made: its job runs the task's turn as this user
    # without reading the run.
    user_id = fields.Many2one("res.users", required=True, readonly=True)
    step_id = fields.Many2one("aia.workflow.step", required=True, ondelete="restrict", readonly=True)
    kind = fields.Selection(related="step_id.kind")
    pass_number = fields.Integer(readonly=True)
    name = fields.Char(readonly=True)
    key = fields.Char("Plan step", readonly=True, help="The id of the planned step it does.")
    input_keys = fields.Json(readonly=True, help="The planned steps whose results it needs.")
    agent_id = fields.Many2one("aia.agent", readonly=True, ondelete="restrict")
    approver_id = fields.Many2one("res.users", readonly=True)
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("queued", "Queued"),
            ("running", "Running"),
            ("waiting", "Waiting"),
            ("done", "Done"),
            ("error", "Error"),
            ("cancelled", "Cancelled"),
        ],
        default="pending",
        required=True,
        readonly=True,
    )
    brief = fields.Text("Task", readonly=True, help="Execute: what the plan (or the step) asks of the agent.")
    feedback = fields.Text(readonly=True, help="Execute: why the reviewer sent the task back.")
    input = fields.Text(readonly=True)
    output = fields.Text(readonly=True)
    error_message = fields.Text(readonly=True)
    session_id = fields.Many2one("aia.session", readonly=True, ondelete="set null", index="btree_not_null")
    date_started = fields.Datetime(readonly=True)
    date_ended = fields.Datetime(readonly=True)
    total_tokens = fields.Integer(related="session_id.total_tokens")
    total_cost = fields.Float(related="session_id.total_cost")

    # === ACTIONS === #

    def action_approve(self):
        self._aia_decide(True)
        return True

    def action_reject(self):
        self._aia_decide(False)
        return True

    # === BUSINESS METHODS === #

    def _aia_to_client(self, readable_sessions):
        """The task as the timeline shows it; ``readable_sessions``: the sessions the viewer may
        open (an approver may not read the run's user's sessions)."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "state": self.state,
            "agent": self.agent_id.name or "",
            "approver": self.approver_id.name or "",
            "can_decide": self.state == "waiting" and self.approver_id == self.env.user,
            "session_id": self.session_id in readable_sessions and self.session_id.id,
            "pass_number": self.pass_number,
            # What an approval asks the approver; an agent's input stays on the Tasks page.
            "input": self.input or "" if self.kind == "approval" else "",
            "output": self.output or "",
            "error": self.error_message or "",
            "total_tokens": self.total_tokens,
            "total_cost": self.total_cost,
            "date_started": self.date_started and fields.Datetime.to_string(self.date_started),
            "date_ended": self.date_ended and fields.Datetime.to_string(self.date_ended),
        }

    def _aia_queue_ready(self):
        """Queue the agent tasks of these (pending) whose inputs are done; an execute step that
        is not parallel runs one at a time. Returns the tasks queued."""
        done = {}  # per run: the planned steps with a result
        ready = self.browse()
        for task in self.filtered(lambda t: t.state == "pending" and t.agent_id):
            run = task.run_id
            current = run.task_ids.filtered(lambda t, task=task: t.pass_number == task.pass_number)
            if not task.step_id.parallel and current.filtered(
                lambda t: t.state in ("queued", "running", "waiting")
            ):
                break
            if run not in done:
                done[run] = {key for key, _agent, _text in steps.results(run)}
            unfinished = {t.key for t in current if t.state not in ("done",)} - {task.key}
            needs = set(task.input_keys or ())
            if needs - done[run] or needs & unfinished:
                continue
            if task.kind == "execute":
                task.input = task._aia_execute_input()
            task.state = "queued"
            ready |= task
        ready._aia_queue_jobs()
        return ready

    def _aia_evidence(self):
        """The task's output, then what the tools its session called returned (as stored: redacted)."""
        executions = self.session_id.execution_ids.sorted("id")
        if not executions:
            return self.output or ""
        calls = "\n".join(
            f"- {execution.tool_name} ({execution.status}): {(execution.content or '')[:EVIDENCE_CHARS]}"
            for execution in executions
        )
        return f"{self.output or ''}\n\nResults of the tools behind it:\n{calls}"

    def _aia_execute_input(self):
        """What an execute task's agent is asked, with the results of the tasks it needs."""
        return steps.execute_input(self.run_id, self.step_id, self.brief, self.input_keys, self.feedback)

    def _aia_queue_jobs(self):
        """A job for each of these tasks, run as its run's user, given what it may spend of the
        run's caps (read once here for the tasks queued together, rather than by each job)."""
        self.env.flush_all()  # the jobs run on cursors of their own
        # Each job's span continues the trace that queued it (an API request, another job).
        trace_kwargs = telemetry.job_trace()
        bounds = {run: run._aia_job_bounds() for run in self.run_id}
        for task in self:
            task.with_user(task.run_id.user_id).with_delay(
                channel="root.aia", description=f"AI workflow task: {task.name}"
            )._aia_job_run(bounds=bounds[task.run_id], **trace_kwargs)

    def _aia_job_failed(self, **failure):
        """queue_job's hook when a task's job failed for good. The turn it runs records its own
        errors, so the job fails only when its worker lost its database (a shutdown stopping it
        mid-turn): the job is queued again and goes on with the turn once a server is back; after
        too many such failures the task fails, and the run with it, saying why."""
        for task in self.sudo().filtered(lambda t: t.state == "running" and t.run_id.state == "running"):
            if not turn.given_up(task, task.date_started):
                task._aia_queue_jobs()
                continue
            task._aia_end("error", task.env._("The server running this task stopped too often."))
            task.run_id._aia_queue_advance()

    @telemetry.traced_job
    def _aia_job_run(self, bounds=None):
        """Queue job: run this task's agent on its input, in a session of its own, as the run's
        user in the run's company, within ``bounds`` (what the run's caps left when it was
        queued, see aia.workflow.run._aia_job_bounds). The turn's end saves the task's outcome
        and moves the run on, in the turn's last transaction (_aia_session_ended): its next
        tasks are queued in their own jobs."""
        task = self.sudo()
        run = task.run_id  # from the task's row, read now: the turn's commits empty the cache
        # On the job's span: which step of which run this is (read only for a span that records:
        # the step's kind costs a query).
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attributes(
                {
                    "aia.workflow.run_id": run.id,
                    "aia.workflow.step": task.kind or "",
                    "aia.workflow.task_id": task.id,
                }
            )
        # A run that stopped meanwhile cancelled its queued and running tasks.
        if task.state == "queued":
            task._aia_run_agent(bounds)
        elif task.state == "running" and task.session_id.state == "running":
            # This job's worker died mid-turn and queue_job runs it again: the turn goes on from
            # what it saved (a write whose result was saved is not done again), within what the
            # run's caps leave now.
            question = task.session_id.message_ids_aia.filtered(lambda m: m.role == "user")
            task._aia_session_in_job()._aia_job_run_turn(question[:1].id)
        else:
            # Ended (or stopped) in an earlier attempt of this job: the run goes on from what is
            # saved. Advancing is idempotent.
            run._aia_job_advance()

    def _aia_run_agent(self, bounds=None):
        bounds = self.run_id._aia_read_job_bounds(bounds)
        tokens_left, cost_left, deadline = bounds
        if tokens_left == 0 or cost_left == 0 or (deadline and fields.Datetime.now() >= deadline):
            why = self.run_id._aia_cap_reached()
            if why:
                self.run_id._aia_fail(why)
                return
        session = (
            self.env["aia.session"]
            .sudo()
            .create(
                {
                    "name": self.name,
                    "agent_id": self.agent_id.id,
                    "user_id": self.user_id.id,
                    "company_id": self.company_id.id,
                    "channel": "workflow",
                    "workflow_task_id": self.id,
                }
            )
        )
        self.write({"state": "running", "session_id": session.id, "date_started": fields.Datetime.now()})
        own = self._aia_session_in_job(bounds)
        # Once the message is saved (and committed), the task's input is the session's.
        try:
            message = turn.accept(own, self.input, run_in_request=True)
        except UserError as exc:
            self._aia_end("error", str(exc))
            self.run_id._aia_advance_now()
            return
        for _event in own._aia_run_turn(user_message=message):
            pass

    def _aia_session_in_job(self, bounds=None):
        """The task's session as its job runs it: as the run's user in the run's company, within
        ``bounds`` (what the run's caps leave it; read now when not given: the turn's commits
        would have them read again, see aia.session)."""
        if bounds is None:
            bounds = self.run_id._aia_session_bounds(self.session_id)
        return (
            self.session_id.with_user(self.user_id)
            .with_company(self.company_id)
            .with_context(
                aia_workflow_task_job=self.id, aia_workflow_run_id=self.run_id.id, aia_workflow_bounds=bounds
            )
            .sudo(False)
        )

    def _aia_session_ended(self, session):
        """The turn of this task's session stopped: save its outcome and move the run on, in the
        turn's transaction."""
        if session.state == "done" and not session.error_message:
            self._aia_end("done", output=session.last_text or "")
        elif session.state in ("done", "error", "cancelled"):
            why = session.error_message or self.env._("The agent's session was stopped.")
            self._aia_end("error", self.env._("%(task)s: %(why)s", task=self.name, why=why))
        else:  # waiting for an approval or delegated work: its end comes later
            self.state = "waiting"
            self.run_id._aia_notify()
            return
        context = self.env.context
        if context.get("aia_workflow_task_job") == self.id:
            run = self.env["aia.workflow.run"].browse(context["aia_workflow_run_id"])  # no read
        else:
            run = self.run_id
        run._aia_advance_now()

    def _aia_end(self, state, message=None, output=None):
        self.write(
            {
                "state": state,
                "error_message": message or False,
                "output": output if output is not None else self.output,
                "date_ended": fields.Datetime.now(),
            }
        )

    def _aia_ask_approval(self):
        for task in self:
            task.run_id.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=task.approver_id.id,
                summary=self.env._("Approve AI workflow step: %(step)s", step=task.name),
                note=task.input,
            )

    def _aia_decide(self, approved):
        """The approver's decision on this approval task: the run goes on, or is cancelled."""
        self.ensure_one()
        self.check_access("read")
        if self.kind != "approval" or self.state != "waiting":
            raise UserError(self.env._("This step is not waiting for a decision."))
        if self.approver_id != self.env.user:
            raise AccessError(self.env._("Only %(user)s decides on this step.", user=self.approver_id.name))
        task = self.sudo()
        run = task.run_id
        verdict = (
            self.env._("Approved by %(user)s", user=self.env.user.name)
            if approved
            else self.env._("Rejected by %(user)s", user=self.env.user.name)
        )
        task.write(
            {
                "state": "done" if approved else "cancelled",
                "output": verdict,
                "date_ended": fields.Datetime.now(),
            }
        )
        run.activity_ids.filtered(lambda a: a.user_id == self.env.user).action_feedback(verdict)
        if approved:
            run.state = "running"
            run._aia_advance()
        else:
            run.error_message = verdict
            run._aia_end("cancelled")
