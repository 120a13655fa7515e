import logging
import uuid
from datetime import timedelta
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL, Query, mute_logger

from odoo.addons.ai_core import telemetry, turn
from odoo.addons.ai_core.ai_engine import ToolAnswer
from odoo.addons.ai_core.guard import check_user_writable

from .. import steps
from .aia_workflow import columns
from .aia_workflow_task import ENDED_STATES

# What a user may set on a run of theirs (over RPC too); the rest is the runner's.
USER_CREATE_FIELDS = {"workflow_id", "question", "company_id"}
USER_WRITE_FIELDS = {"question"}
BUS_TYPE = "aia.workflow.run"

_logger = logging.getLogger(__name__)


def _spent(run_id):
    """SQL terms of what the sessions of the run ``run_id`` (SQL) spent: tokens, cost."""
    return [
        SQL(
            """(SELECT COALESCE(SUM(session.%s), 0)
                  FROM aia_workflow_task task
                  JOIN aia_session session ON session.id = task.session_id
                 WHERE task.run_id = %s)""",
            SQL.identifier(column),
            run_id,
        )
        for column in ("total_tokens", "total_cost")
    ]


class _LockingQuery(Query):
    """A query of rows that it updates first, each to itself: the rows are locked, and a
    concurrent transaction that then locks one of them, from a snapshot older than this one's
    commit, fails to serialize instead of reading them as they were (a row only locked would
    let it through; see AiaWorkflowRun._aia_lock). With ``savepoint``, a savepoint of that name
    is set first, in the same statement (one round trip)."""

    def __init__(self, *args, savepoint=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.savepoint = savepoint

    def select(self, *args):
        locking = SQL(
            "WITH locked AS (UPDATE %s SET write_date = write_date WHERE %s RETURNING id) %s",
            SQL.identifier(self.table),
            self.where_clause,
            super().select(*args),
        )
        if self.savepoint:
            return SQL("SAVEPOINT %s; %s", SQL.identifier(self.savepoint), locking)
        return locking


class AiaWorkflowRun(models.Model):
    _name = "aia.workflow.run"
    _description = "AI Workflow Run"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    workflow_id = fields.Many2one(
        "aia.workflow", required=True, ondelete="restrict", index=True, check_company=True
    )
    user_id = fields.Many2one(
        "res.users", required=True, default=lambda self: self.env.user, ondelete="restrict", index=True
    )
    # Stored: the timeline's notifications go to it after every task, from a fresh transaction.
    user_partner_id = fields.Many2one(related="user_id.partner_id", store=True, string="Asked by (partner)")
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    question = fields.Text(required=True)
    # The record a run is about (an automation's record): set by the suite only.
    res_model = fields.Char("Linked model", readonly=True, index=True)
    res_id = fields.Many2oneReference("Linked record", model_field="res_model", readonly=True)
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("running", "Running"),
            ("waiting_approval", "Waiting for approval"),
            ("done", "Done"),
            ("error", "Error"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        index=True,
        tracking=True,
    )
    step_id = fields.Many2one("aia.workflow.step", string="Current step", readonly=True)
    # Each time the run enters a step (again, after a send-back) is a pass; its tasks carry it.
    pass_number = fields.Integer(readonly=True)
    plan = fields.Json(readonly=True)
    answer = fields.Text(readonly=True)
    error_message = fields.Text(readonly=True)
    task_ids = fields.One2many("aia.workflow.task", "run_id", string="Timeline")
    date_started = fields.Datetime(readonly=True)
    date_ended = fields.Datetime(readonly=True)
    deadline = fields.Datetime(readonly=True)
    # Started by an agent's call of workflow.<code>: the run's outcome is that call's result.
    origin_session_id = fields.Many2one(
        "aia.session", string="Started from", readonly=True, index="btree_not_null"
    )
    origin_call_id = fields.Char(readonly=True)
    max_tokens = fields.Integer(readonly=True)
    max_cost = fields.Float(digits=(16, 6), readonly=True)
    max_tasks = fields.Integer(readonly=True)
    # Not stored: every usage row of every task's session would recompute them; the caps read
    # them once before each task starts.
    total_tokens = fields.Integer(compute="_compute_totals")
    total_cost = fields.Float(digits=(16, 6), compute="_compute_totals")

    # === COMPUTES === #

    @api.depends("workflow_id.name", "question")
    def _compute_name(self):
        for run in self:
            question = (run.question or "").strip().splitlines()
            run.name = f"{run.workflow_id.name}: {question[0][:60]}" if question else run.workflow_id.name

    def _compute_totals(self):
        """What every step's session spent, in one query (_aia_lock reads it with the run's
        row): the caps read these before each task and each turn of a task, whose commits leave
        nothing of the run in the cache."""
        self.env["aia.session"].flush_model(["total_tokens", "total_cost"])
        self.env["aia.workflow.task"].flush_model(["run_id", "session_id"])
        run_id = SQL.identifier(self._table, "id")
        rows = self.env.execute_query(
            SQL(
                "SELECT %s, %s FROM %s WHERE %s IN %s",
                run_id,
                SQL(", ").join(_spent(run_id)),
                SQL.identifier(self._table),
                run_id,
                tuple(self._origin.ids) or (0,),
            )
        )
        sums = {row[0]: row[1:] for row in rows}
        for run in self:
            tokens, cost = sums.get(run._origin.id) or (0, 0)
            run.total_tokens, run.total_cost = tokens, float(cost)

    # === CRUD === #

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            for vals in vals_list:
                check_user_writable(self, vals, USER_CREATE_FIELDS)
                self.env["aia.workflow"].browse(vals.get("workflow_id")).check_access("read")
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            check_user_writable(self, vals, USER_WRITE_FIELDS)
            if self.filtered(lambda run: run.state != "draft"):
                raise UserError(self.env._("The question of a started run cannot change."))
        return super().write(vals)

    # === ACTIONS === #

    def action_start(self):
        """Start these draft runs: their first step's tasks are queued."""
        turn.check_enabled(self.env)
        for run in self:
            if run.state != "draft":
                raise UserError(self.env._("The run %(name)s has started already.", name=run.name))
            run.workflow_id._aia_check_can_run()
            if run.user_id != self.env.user:
                raise UserError(self.env._("Only whoever asked may start a run."))
            workflow = run.workflow_id.sudo()
            workflow._aia_read_steps()
            if not workflow.step_ids:
                raise UserError(self.env._("The workflow %(name)s has no steps.", name=workflow.name))
            now = fields.Datetime.now()
            run.sudo().write(
                {
                    "state": "running",
                    "date_started": now,
                    "deadline": now + timedelta(minutes=workflow.max_minutes)
                    if workflow.max_minutes
                    else False,
                    "max_tokens": workflow.max_tokens,
                    "max_cost": workflow.max_cost,
                    "max_tasks": workflow.max_tasks,
                }
            )
            run.sudo()._aia_advance()
        return True

    def action_cancel(self):
        """Stop these runs: their waiting tasks are cancelled and their running sessions stopped."""
        self.check_access("write")
        for run in self.sudo().filtered(lambda r: r.state in ("draft", "running", "waiting_approval")):
            run._aia_end("cancelled")
        return True

    def action_retry(self):
        """Go on with runs that failed: their failed tasks are queued again."""
        turn.check_enabled(self.env)
        self.check_access("write")
        for run in self.sudo().filtered(lambda r: r.state == "error"):
            failed = run.task_ids.filtered(
                lambda t, run=run: t.state == "error" and t.pass_number == run.pass_number
            )
            if not failed:
                raise UserError(self.env._("Nothing of this run can be done again."))
            if run._aia_cap_reached():
                raise UserError(run._aia_cap_reached())
            run.write({"state": "running", "error_message": False, "date_ended": False})
            failed.write({"state": "pending", "error_message": False, "session_id": False})
            run._aia_advance()
        return True

    # === PUBLIC API (JSON-2) === #

    @api.model
    def start(self, workflow_code, question):
        """Start a run of the workflow ``workflow_code`` (of the user's current company) on
        ``question``; its steps run in jobs.

        Returns:
            The new run's id.
        """
        # The company's own workflow of that code, else a shared one.
        workflow = self.env["aia.workflow"].search(
            [("code", "=", workflow_code), ("company_id", "in", [self.env.company.id, False])],
            order="company_id",
            limit=1,
        )
        if not workflow:
            raise UserError(self.env._("No workflow %(code)s.", code=workflow_code))
        run = self.create({"workflow_id": workflow.id, "question": question})
        run.action_start()
        return run.id

    @api.model
    def _aia_start_from_session(self, session, workflow_id, question):
        """Tool handler of ``workflow.<code>`` (see :mod:`ai_workflow.launch`): start a run of the
        workflow as ``session``'s user, in its company (this environment's)."""
        run = self.create({"workflow_id": workflow_id, "question": question})
        run.sudo().origin_session_id = session.id
        run.action_start()
        return run

    def timeline_data(self):
        """The run as its form's timeline shows it: state, totals and each task."""
        self.ensure_one()
        self.check_access("read")
        run = self.sudo()
        readable_sessions = run.task_ids.session_id.with_env(self.env)._filtered_access("read")
        return {
            "id": run.id,
            "name": run.name,
            "state": run.state,
            "error": run.error_message or "",
            "answer": run.answer or "",
            "total_tokens": run.total_tokens,
            "total_cost": run.total_cost,
            "tasks": [task._aia_to_client(readable_sessions) for task in run.task_ids.sorted("id")],
        }

    # === BUSINESS METHODS === #

    @telemetry.traced_job
    def _aia_job_advance(self):
        """Queue job: go on from what the run's tasks did. Idempotent: each run decides from what
        is saved, under a lock of the run's row; two at once conflict, and queue_job runs the
        later again on a fresh snapshot."""
        run = self.sudo()
        run._aia_lock()
        run._aia_advance()

    def _aia_advance_now(self):
        """Go on from a task that ended in this transaction (a turn's last one: its next tasks
        are queued with that commit). Two tasks ending at once each lock and write the run's
        row; the later, whose snapshot does not see the other's end, fails to serialize there,
        and a job goes on on a fresh snapshot. So does any error of the advance: it is rolled
        back to a savepoint and never costs the turn's commit."""
        self.ensure_one()
        self.env.flush_all()  # what the savepoint may roll back is the advance's only
        # Set with the lock, and not released: it ends with the transaction (no round trips).
        savepoint = f"aia_advance_{uuid.uuid4().hex}"
        try:
            with mute_logger("odoo.sql_db"):  # a conflict is expected, and handled below
                self._aia_lock(savepoint)
            self._aia_advance()
            self.env.flush_all()
        except Exception as exc:  # the turn's commit goes on; a job retries
            self.env.cr.execute(SQL("ROLLBACK TO SAVEPOINT %s", SQL.identifier(savepoint)))
            self.env.clear()  # what the rolled-back advance left in the cache
            if isinstance(exc, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY):
                _logger.info("workflow run %s: a task ended at the same time, a job goes on", self.id)
            else:
                _logger.exception("workflow run %s: advance failed, left to a job", self.id)
            self._aia_queue_advance()

    def _aia_lock(self, savepoint=None):
        """Lock these runs' rows until the transaction ends (see _LockingQuery, and for
        ``savepoint``); read them with what their sessions spent, and their tasks, in two
        queries (after a turn's commits, nothing of them is left in the cache)."""
        self.invalidate_recordset()
        query = _LockingQuery(self.env, self._table, self._table_sql, savepoint=savepoint)
        run_id = SQL.identifier(self._table, "id")
        query.add_where(SQL("%s IN %s", run_id, tuple(self.ids)))
        fields_ = [*columns(self), self._fields["total_tokens"], self._fields["total_cost"]]
        terms = [self._field_to_sql(self._table, field.name, query) for field in fields_[:-2]]
        rows = self.env.execute_query(query.select(run_id, *terms, *_spent(run_id)))
        ids, *values = zip(*rows, strict=True)
        runs = self.browse(ids)
        for field, column in zip(fields_, values, strict=True):
            field._insert_cache(runs, [field.convert_to_cache(value, runs) for value in column])
        Task = self.env["aia.workflow.task"]
        tasks = Task.search_fetch([("run_id", "in", self.ids)], [f.name for f in columns(Task)])
        # The runs' task_ids from the same rows, as One2many.read would put them in the cache.
        self._fields["task_ids"]._insert_cache(
            self, [tuple(task.id for task in tasks if task.run_id == run) for run in self]
        )

    def _aia_queue_advance(self):
        self.ensure_one()
        self.env.flush_all()  # the job runs on a cursor of its own
        self.with_delay(
            channel="root.aia",
            identity_key=f"aia-workflow-advance-{self.id}",
            description=f"AI workflow: {self.name}",
        )._aia_job_advance(**telemetry.job_trace())

    def _aia_advance(self):
        """Start what can start now, or move to the next step when the current one is done."""
        self.ensure_one()
        if self.state != "running":
            return
        step = self.step_id
        current = self.task_ids.filtered(lambda t: t.pass_number == self.pass_number)
        if step:
            failed = current.filtered(lambda t: t.state in ("error", "cancelled"))
            if failed:
                self._aia_fail(
                    failed[0].error_message
                    or self.env._("The task %(task)s was stopped.", task=failed[0].name)
                )
                return
            queued = current.filtered(lambda t: t.state == "pending")._aia_queue_ready()
            if any(task.state not in ENDED_STATES for task in current):
                # A task that ended is announced by its session's last event, committed with
                # it (the timeline listens to both): the run tells of tasks queued or waiting.
                if queued or any(task.state == "waiting" for task in current):
                    self._aia_notify()
                return
        self.workflow_id._aia_read_steps()
        if step.kind == "plan" and not steps.read_plan(self, current):
            return
        if step.kind == "review" and steps.send_back(self, current):
            return
        self._aia_enter(self._aia_next_step(step))

    def _aia_next_step(self, step):
        steps = self.workflow_id.step_ids.sorted("sequence")
        if not step:
            return steps[:1]
        later = steps.filtered(lambda s: (s.sequence, s.id) > (step.sequence, step.id))
        return later[:1]

    def _aia_enter(self, step):
        """Enter ``step`` (none: the run is done) with its tasks."""
        if not step:
            self._aia_finish()
            return
        self._aia_start_pass(step, steps.tasks_of(self, step))

    def _aia_start_pass(self, step, values):
        """Start a pass of ``step`` (entered, or again after an invalid plan or a send-back) with
        tasks of ``values``, queued when their inputs are done; returns False when the run's cap
        of agent tasks refused them (the run then failed)."""
        if not self._aia_check_task_cap(len([v for v in values if v.get("agent_id")])):
            return False
        self.write({"step_id": step.id, "pass_number": self.pass_number + 1})
        self._aia_queued_at_creation(step, values)
        tasks = self.env["aia.workflow.task"].create(
            [
                {
                    "run_id": self.id,
                    "company_id": self.company_id.id,
                    "user_id": self.user_id.id,
                    "step_id": step.id,
                    "pass_number": self.pass_number,
                    **v,
                }
                for v in values
            ]
        )
        if step.kind == "approval":
            self.state = "waiting_approval"
            tasks._aia_ask_approval()
        tasks.filtered(lambda t: t.state == "queued")._aia_queue_jobs()
        tasks._aia_queue_ready()
        self._aia_notify()
        return True

    def _aia_queued_at_creation(self, step, values):
        """Make the agent tasks of ``values`` that need no other's result queued as they are
        created (each would be written again right after its insert): all of them in a parallel
        step, else the first. Tasks that need others' results are queued by _aia_queue_ready."""
        if any(v.get("input_keys") or not v.get("agent_id") for v in values):
            return
        for v in values if step.parallel else values[:1]:
            v["state"] = "queued"
            if step.kind == "execute":
                v["input"] = steps.execute_input(self, step, v["brief"], feedback=v.get("feedback"))

    def _aia_tasks_left(self):
        if not self.max_tasks:
            return 100
        return max(self.max_tasks - len(self.task_ids.filtered("agent_id")), 0)

    def _aia_check_task_cap(self, count):
        if self.max_tasks and count > self._aia_tasks_left():
            self._aia_fail(
                self.env._("The run reached its cap of %(count)s agent tasks.", count=self.max_tasks)
            )
            return False
        return True

    def _aia_cap_reached(self):
        """Why the run may not start another task (tokens, cost, wall time), or False."""
        self.ensure_one()
        if self.max_tokens and self.total_tokens >= self.max_tokens:
            return self.env._("The run reached its cap of %(count)s tokens.", count=self.max_tokens)
        if self.max_cost and self.total_cost >= self.max_cost:
            return self.env._("The run reached its cap of %(cost)s in cost.", cost=self.max_cost)
        if self.deadline and fields.Datetime.now() >= self.deadline:
            return self.env._("The run reached its time limit.")
        return False

    def _aia_session_bounds(self, session):
        """What ``session``, a session of one of this run's tasks (or none yet), may spend:
        (tokens, cost) left of the run's caps once its other sessions' spending is counted (None:
        no cap), and the run's deadline."""
        tokens_left = cost_left = None
        if self.max_tokens:
            tokens_left = turn.left(self.max_tokens, self.total_tokens - session.total_tokens)
        if self.max_cost:
            spent = Decimal(str(self.total_cost)) - Decimal(str(session.total_cost))
            cost_left = turn.left(Decimal(str(self.max_cost)), spent)
        return tokens_left, cost_left, self.deadline or None

    def _aia_job_bounds(self):
        """The bounds of a task queued now (see _aia_session_bounds), as a job's argument."""
        tokens_left, cost_left, deadline = self._aia_session_bounds(self.env["aia.session"])
        return [tokens_left, None if cost_left is None else str(cost_left), deadline]

    def _aia_read_job_bounds(self, bounds):
        """The bounds a task's job was given (read now for a job queued without them)."""
        if bounds is None:
            return self._aia_session_bounds(self.env["aia.session"])
        tokens_left, cost_left, deadline = bounds
        return tokens_left, None if cost_left is None else Decimal(cost_left), deadline

    def _aia_finish(self):
        last = self.task_ids.filtered(lambda t: t.agent_id and t.state == "done").sorted("id")[-1:]
        self.answer = last.output or ""
        self._aia_end("done")

    def _aia_fail(self, message):
        self.error_message = message
        self._aia_end("error")

    def _aia_end(self, state):
        """End the run in ``state``: what has not ended of its work is cancelled, its sessions
        still at work stopped."""
        self.write({"state": state, "date_ended": fields.Datetime.now()})
        unfinished = self.task_ids.filtered(lambda t: t.state not in ENDED_STATES)
        unfinished.state = "cancelled"
        busy = unfinished.session_id.filtered(lambda s: s.state in turn.BUSY_STATES)
        busy.with_user(self.user_id).action_cancel()
        self.activity_ids.unlink()
        self._aia_notify()
        if self.origin_call_id:
            self._aia_answer_origin()

    def _aia_answer_origin(self):
        """Give the session that started the run its outcome, as the result of the call."""
        if self.state == "done":
            answer = ToolAnswer(self.origin_call_id, self.answer or "", "ok", Decimal(0))
        else:
            why = self.error_message or self.env._("The run was stopped.")
            text = self.env._(
                "The workflow %(name)s did not finish: %(why)s", name=self.workflow_id.name, why=why
            )
            answer = ToolAnswer(self.origin_call_id, text, "error", Decimal(0))
        # Decimal(0): what the run spent is its tasks' sessions' ledger rows, billed once.
        turn.enqueue_answer(self.origin_session_id, answer)

    def _aia_notify(self):
        """Tell the browsers of the run's user and of those it waits for that the run changed
        (its form reloads the timeline). Not the run's user when a task's turn ended in this
        transaction: the timeline reloads on that turn's last event, sent after its commit."""
        waiting = self.task_ids.filtered(lambda t: t.state == "waiting").approver_id
        partners = waiting.partner_id
        if not self.env.context.get("aia_turn_end_announced"):
            partners |= self.user_partner_id
        for partner in partners:
            self.env["bus.bus"]._sendone(partner, BUS_TYPE, {"run_id": self.id, "state": self.state})
