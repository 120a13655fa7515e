import dataclasses
import logging
from datetime import timedelta
from decimal import Decimal

from opentelemetry import context as otel_context

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.http import request

from odoo.addons.queue_job.exception import RetryableJobError

from .. import telemetry, turn
from ..ai_engine import (
    ApprovalDecision,
    SessionUsage,
    ToolAnswer,
    TurnRunner,
    answered_in_turn,
    tracing,
    waiting_call_id,
)
from ..guard import check_user_writable
from ..tools import OdooToolContext

_logger = logging.getLogger(__name__)

# Sessions purged per commit.
PURGE_BATCH = 200
# What a user may set on their own session (over RPC too). Everything else (state, owner,
# company, totals, errors, links to automations) is written by the suite's own methods only.
USER_CREATE_FIELDS = {"name", "agent_id", "company_id", "res_model", "res_id", "previous_session_id"}
USER_WRITE_FIELDS = {"name"}
# Session totals: each the sum of a column of the session's usage ledger rows.
TOTALS = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cache_read_tokens": "cache_read_tokens",
    "cache_write_tokens": "cache_write_tokens",
    "total_tokens": "total_tokens",
    "total_cost": "cost",
}


class AiaSession(models.Model):
    _name = "aia.session"
    _description = "AI Session"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(default=lambda self: self.env._("New session"), required=True)
    agent_id = fields.Many2one(
        "aia.agent", required=True, ondelete="restrict", index=True, tracking=True, check_company=True
    )
    user_id = fields.Many2one(
        "res.users", required=True, default=lambda self: self.env.user, ondelete="restrict", index=True
    )
    # Stored: the turn streams to the owner's contact without reading the user first.
    user_partner_id = fields.Many2one(related="user_id.partner_id", store=True, string="Owner's contact")
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    channel = fields.Selection(
        [("web", "Web"), ("api", "API"), ("automation", "Automation")], default="web", required=True
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("running", "Running"),
            ("waiting_approval", "Waiting for approval"),
            ("waiting_tool", "Waiting for delegated work"),
            ("done", "Done"),
            ("error", "Error"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        index=True,
        tracking=True,
    )
    res_model = fields.Char("Linked model", index=True)
    res_id = fields.Many2oneReference("Linked record", model_field="res_model", index=True)
    previous_session_id = fields.Many2one("aia.session", ondelete="set null", index=True, check_company=True)
    message_ids_aia = fields.One2many("aia.message", "session_id", string="Transcript")
    execution_ids = fields.One2many("aia.tool.execution", "session_id", string="Tool executions")
    approval_ids = fields.One2many("aia.approval", "session_id", string="Approvals")
    usage_event_ids = fields.One2many("aia.usage.event", "session_id", string="Usage")
    # Totals of the append-only usage ledger (provider calls, priced tools, knowledge queries).
    input_tokens = fields.Integer(compute="_compute_totals", store=True)
    output_tokens = fields.Integer(compute="_compute_totals", store=True)
    cache_read_tokens = fields.Integer(compute="_compute_totals", store=True)
    cache_write_tokens = fields.Integer(compute="_compute_totals", store=True)
    total_tokens = fields.Integer(compute="_compute_totals", store=True)
    total_cost = fields.Float(digits=(16, 6), compute="_compute_totals", store=True)
    error_message = fields.Text(readonly=True)
    # What kind of failure error_message tells (the engine's error code): the chat words it for a
    # person and shows the message as the detail.
    error_code = fields.Char(readonly=True)
    last_text = fields.Text(readonly=True, help="The last answer of the agent.")
    trace_id = fields.Char(
        "Trace ID",
        readonly=True,
        copy=False,
        groups="ai_core.group_aia_manager",
        help="OpenTelemetry trace of the last turn: look it up in your tracing backend "
        "(the API's log lines carry it too).",
    )
    summary = fields.Text(
        "Memory summary",
        readonly=True,
        help="What the messages that left the agent's memory window said, folded by a model; "
        "every later request carries it.",
    )
    summary_message_id = fields.Many2one(
        "aia.message", string="Summary covers up to", readonly=True, ondelete="set null"
    )

    # === COMPUTES === #

    @api.depends("usage_event_ids")
    def _compute_totals(self):
        """Sums of the session's ledger rows: the one source of the session's totals and caps."""
        sums = {
            session.id: values
            for session, *values in self.env["aia.usage.event"]
            .sudo()
            ._read_group(
                [("session_id", "in", self.ids)],
                ["session_id"],
                [f"{column}:sum" for column in TOTALS.values()],
            )
        }
        for session in self:
            values = sums.get(session.id) or [0] * len(TOTALS)
            session.update(dict(zip(TOTALS, (value or 0 for value in values), strict=True)))

    # === CRUD === #

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            for vals in vals_list:
                self._aia_check_user_values(vals, USER_CREATE_FIELDS)
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            self._aia_check_user_values(vals, USER_WRITE_FIELDS)
        return super().write(vals)

    # === PUBLIC API (chat UI and JSON-2) === #

    @api.model
    def start(self, agent_code, message, res_model=None, res_id=None):
        """Open a session with the agent ``agent_code`` and post ``message``; the turn runs in a job.

        Returns:
            The new session's id.
        """
        agent = self.env["aia.agent"].search([("code", "=", agent_code)], limit=1)
        if not agent:
            raise UserError(self.env._("No agent with code %(code)s.", code=agent_code))
        values = {"agent_id": agent.id}
        if res_model or res_id:
            values.update(res_model=res_model, res_id=res_id)
        session = self.create(values)
        session.sudo().channel = self._aia_request_channel()
        session.post_message(message)
        return session.id

    def post_message(self, message):
        """Accept the user's message (see :mod:`ai_core.turn.accept`); its turn runs in a queue job.

        Returns:
            The id of the saved message.
        """
        self.ensure_one()
        return turn.accept(self, message).id

    def action_cancel(self):
        """Stop button: a running turn stops at its next step, pending approvals are dropped."""
        for session in self.filtered(lambda s: s.state == "draft" or s.state in turn.BUSY_STATES):
            session.sudo().approval_ids.filtered(lambda a: a.state == "pending").state = "cancelled"
            session.sudo().state = "cancelled"
            turn.notify(session, [{"type": "state", "state": "cancelled"}])
        return True

    @api.model
    def chat_bootstrap(self, limit=40):
        """What the chat UI needs to open: the agents I may use and my latest sessions."""
        agents = self.env["aia.agent"].search([])
        sessions = self.search([("user_id", "=", self.env.uid)], limit=limit)
        return {
            "enabled": self._aia_enabled(),
            "agents": [agent._aia_to_client() for agent in agents],
            "sessions": [
                {
                    "id": session.id,
                    "name": session.name,
                    "state": session.state,
                    "agent_name": session.agent_id.name,
                    "write_date": fields.Datetime.to_string(session.write_date),
                }
                for session in sessions
            ],
        }

    def chat_data(self):
        """Everything the chat UI shows of the session."""
        self.ensure_one()
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "agent": {"id": self.agent_id.id, "name": self.agent_id.name, "code": self.agent_id.code},
            "error_message": self.error_message or "",
            "error_code": self.error_code or "",
            "total_tokens": self.total_tokens,
            "total_cost": self.total_cost,
            "messages": [message._aia_to_client() for message in self.message_ids_aia.sorted("id")],
            "executions": [execution._aia_to_client() for execution in self.execution_ids.sorted("id")],
            "approvals": [approval._aia_to_client() for approval in self.approval_ids.sorted("id")],
            # Calls waiting for work done elsewhere (extensions add what each call waits for).
            "deferred": {},
        }

    # === BUSINESS METHODS === #

    @api.model
    def _aia_list_action(self, domain):
        """The sessions list narrowed to ``domain``, every user's (a smart button's)."""
        action = self.env["ir.actions.act_window"]._for_xml_id("ai_core.aia_session_action")
        return {**action, "domain": domain, "context": {}}

    @api.model
    def _aia_enabled(self):
        return turn.agents_enabled(self.env)

    @api.model
    def _aia_check_enabled(self):
        turn.check_enabled(self.env)

    def _aia_check_can_start(self):
        """Extension point: raise a UserError saying why when a turn of these sessions may not start
        now (billing budgets, ...). Checked before a message is accepted and again right before the
        turn's first provider call. Default: nothing prevents it."""

    def _aia_tool_deferred(self, event):
        """Extension point: this session's turn deferred a call (an ``ai_engine.ToolDeferred``
        event, its ``ref`` naming the work it waits for), in the turn's transaction."""

    def _aia_turn_ended(self):
        """Extension point: a turn of this session stopped, its state written (``done``,
        ``error``, or waiting for a decision or a deferred call), in the turn's transaction.
        ``aia_turn_end_announced`` in the context: the turn's last events (``done``, ``error``)
        are sent to the session's user right after that transaction's commit."""

    @api.model
    def _aia_check_user_values(self, vals, allowed):
        """Refuse what a user may not set on a session (``allowed``: the fields they may).

        The owner, the record a session is about and an earlier session must be the user's own
        or readable by them.
        """
        check_user_writable(self, vals, allowed)
        if vals.get("previous_session_id"):
            self.browse(vals["previous_session_id"]).check_access("read")
        if vals.get("res_model") or vals.get("res_id"):
            if vals.get("res_model") not in self.env or not vals.get("res_id"):
                raise UserError(self.env._("A session is linked to an existing record."))
            self.env[vals["res_model"]].browse(vals["res_id"]).check_access("read")

    @api.model
    def _aia_request_channel(self):
        """``api`` when called through Odoo's JSON-2 API (an external app's API key), else ``web``."""
        return "api" if request and request.httprequest.path.startswith("/json/2/") else "web"

    def _aia_job_channel(self):
        """The queue_job channel of this session's turns and resumes."""
        self.ensure_one()
        return "root.aia.automation" if self.channel == "automation" else "root.aia"

    # A turn job whose worker died (killed, out of memory, the server stopped mid-turn) is queued
    # anew by queue_job's runner and runs again. Each job tells that second run from its first one
    # by what the transcript holds of its own work, and then goes on with the interrupted turn
    # (_aia_recover_turn); once the turn ended, it does nothing.

    @telemetry.traced_job
    def _aia_job_run_turn(self, message_id):
        """Queue job: run the turn that ``message_id`` opened (see above for a second run)."""
        if self.state != "running":
            return  # the turn ended (a job run again after its end), or the session was stopped
        later = self.env["aia.message"].sudo().search([("session_id", "=", self.id), ("id", ">", message_id)])
        if "user" in later.mapped("role"):
            return  # another turn began since
        if later:
            self._aia_recover_turn()
            return
        message = self.env["aia.message"].sudo().browse(message_id)
        for _event in self._aia_run_turn(user_message=message):
            pass

    @telemetry.traced_job
    def _aia_job_resume(self, approval_id):
        """Queue job: continue after a decision on ``approval_id`` (see above for a second run)."""
        if self.state != "running":
            return  # the turn ended (a job run again after its end), or the session was stopped
        approval = self.env["aia.approval"].sudo().browse(approval_id)
        transcript = self._aia_transcript()
        if answered_in_turn([message for _id, message in transcript], approval.call_id):
            self._aia_recover_turn()
            return
        decision = ApprovalDecision(approval.call_id, approval.state == "approved", approval.reason or "")
        for _event in self._aia_run_turn(decision=decision, transcript=transcript):
            pass

    @telemetry.traced_job
    def _aia_job_answer(self, call_id, content, status, cost):
        """Queue job: continue with the result of the deferred call ``call_id`` (``cost``: a
        decimal string); see above for a second run. Queued by the work the call waited for
        when it ended: the turn that deferred the call may still be committing its end, so the
        job waits for it."""
        if self.state == "running":
            history = self._aia_history()
            if answered_in_turn(history, call_id):
                # This job's own run was interrupted after it gave the call its answer (the
                # session is running since then), unless another job answered it and runs on.
                self._aia_recover_turn()
                return
            if waiting_call_id(history) == call_id:
                raise RetryableJobError("the turn that deferred the call is still ending", seconds=1)
            return  # a late answer to a call closed since, in a turn running now
        if self.state != "waiting_tool":
            return  # stopped meanwhile, or answered already (a job run twice)
        transcript = self._aia_transcript()
        if waiting_call_id([message for _id, message in transcript]) != call_id:
            return  # a late answer to a call closed since: the turn waits for another one
        # The wait for a deferred call is not logged in the chatter (nor is its start, in
        # TurnRecorder): the transcript holds the call and its result, and the work it waited
        # for keeps its own record (a delegated session, a workflow run).
        self.sudo().with_context(mail_notrack=True).state = "running"
        answer = ToolAnswer(call_id, content, status, Decimal(cost))
        for _event in self._aia_run_turn(decision=answer, transcript=transcript):
            pass

    def _aia_job_failed(self, **failure):
        """queue_job's hook when a turn job failed for good. A turn records its own errors, so
        its job fails only when its worker lost its database (a shutdown stopping it mid-turn):
        the turn's recovery is queued, for a server that is back; after too many such failures
        the session ends in an error that says why (:mod:`ai_core.turn.recovery`)."""
        for session in self.sudo().filtered(lambda s: s.state == "running"):
            question = session.message_ids_aia.filtered(lambda m: m.role == "user").sorted("id")[-1:]
            if not turn.given_up(session, question.create_date):
                turn.enqueue_recovery(session)
                continue
            message = session.env._("The server running this turn stopped too often; try again.")
            session.write({"state": "error", "error_message": message})
            session._aia_turn_ended()

    @telemetry.traced_job
    def _aia_job_recover(self):
        """Queue job: go on with this session's turn, interrupted by a worker that stopped."""
        if self.state == "running":
            self._aia_recover_turn()

    def _aia_recover_turn(self):
        """Go on with this session's interrupted turn from what its run saved (see
        ``TurnRunner.recover``), unless a job of this session is running in a live worker: that
        one has the turn in hand."""
        if turn.job_alive(self):
            return
        _logger.info("session %s: recovering its interrupted turn", self.id)
        for _event in self._aia_run_turn(recover=True):
            pass

    def _aia_run_turn(self, user_message=None, decision=None, recover=False, transcript=None):
        """Run one turn and persist it as it goes; yields each engine event (see
        :func:`ai_core.turn.run.run_turn`). The turn's span belongs to the trace current now (an
        API request's, a job's), whenever the events are read."""
        return turn.run_turn(
            self,
            user_message=user_message,
            decision=decision,
            recover=recover,
            trace_parent=otel_context.get_current(),
            transcript=transcript,
        )

    def _aia_runner(self, recorder, resuming=False):
        # The agent's configuration (models, providers, ir.model rows) is platform data read as
        # superuser, from the setup cache; only the tools run with the session user's rights,
        # through tool_env.
        agent = self.agent_id.sudo()
        setup = agent._aia_setup(self.company_id)
        # The session's company only: record rules then hide the user's other companies' records
        # (an injected instruction cannot reach them), and company-aware tools read one company.
        tool_env = self.env(context=dict(self.env.context, allowed_company_ids=[self.company_id.id]))
        executions = turn.ExecutionLedger(self)
        runner = TurnRunner(
            dataclasses.replace(setup["config"], limits=self._aia_limits()),
            agent._aia_model_adapter(self.company_id),
            setup["tools"],
            OdooToolContext(tool_env, allowed_models=setup["allowed_models"], session=self),
            pricing=setup["pricing"],
            ledger=executions,
            sink=recorder,
            session_usage=SessionUsage(self.total_tokens, Decimal(str(self.total_cost))),
            turn_spent=SessionUsage(*self._aia_turn_spending()) if resuming else None,
            executed=executions,
            summarizer=agent._aia_summarizer(self.company_id),
            pinned=self.env["aia.memory.fact"]._aia_pinned(self),
        )
        runner.trace_attributes = {
            tracing.GEN_AI_AGENT_NAME: setup["code"],
            tracing.GEN_AI_CONVERSATION_ID: str(self.id),
        }
        return runner

    def _aia_limits(self):
        """Extension point: the engine's limits for this session's next turn. Default: the agent's.

        Overrides may only tighten them (e.g. what is left of an automation's caps); the engine
        checks them before every provider request and tool call.
        """
        self.ensure_one()
        return self.agent_id.sudo()._aia_setup(self.company_id)["config"].limits

    def _aia_turn_spending(self):
        """(tokens, cost) the current turn spent, from its user message on (extension point: a
        turn's spending may include other sessions', e.g. delegated work)."""
        question = (
            self.env["aia.message"]
            .sudo()
            .search([("session_id", "=", self.id), ("role", "=", "user")], order="id desc", limit=1)
        )
        return turn.spending(self, question.create_date)

    def _aia_transcript(self, window=True):
        """``(id, engine message)`` of the transcript, oldest first (see
        :func:`ai_core.turn.load_transcript`); ``window``: only what the agent's memory window can
        use. The turn takes its user message from it too."""
        self.ensure_one()
        if not window:
            return turn.load_transcript(self)
        setup = self.agent_id.sudo()._aia_setup(self.company_id)
        if setup["summary_link"]:
            # What the summary does not cover yet: the engine folds what leaves the window.
            return turn.load_transcript(self, after=self.summary_message_id.id or 0)
        return turn.load_transcript(self, setup["config"].memory_window)

    def _aia_history(self):
        """The engine messages of the transcript the agent's memory window can use."""
        return [message for _id, message in self._aia_transcript()]

    def _aia_checkpoint(self):
        """Commit what the turn produced so far (the job or request owns this cursor)."""
        self.env.cr.commit()  # pylint: disable=invalid-commit

    # === CRON METHODS === #

    @api.model
    def _aia_purgeable_ids(self, now):
        """Sessions whose newest message is older than their company's transcript retention.

        A session is purged whole, never message by message: a history cut in the middle would
        start with tool results whose calls are gone, which providers reject. A turn in progress
        or waiting for a decision still needs its transcript.
        """
        session_ids = []
        companies = self.env["res.company"].sudo().search([("aia_retention_days", ">", 0)])
        for company in companies:
            cutoff = now - timedelta(days=company.aia_retention_days)
            groups = (
                self.env["aia.message"]
                .sudo()
                ._read_group(
                    [("company_id", "=", company.id), ("session_id.state", "not in", turn.BUSY_STATES)],
                    groupby=["session_id"],
                    aggregates=["create_date:max"],
                    having=[("create_date:max", "<", cutoff)],
                )
            )
            session_ids += [session.id for session, _last in groups]
        return session_ids

    def _aia_purge_transcripts(self):
        """Delete the transcripts of these sessions and blank what quoted them; usage stays."""
        sessions = self.sudo()
        sessions.message_ids_aia.unlink()
        sessions.execution_ids.write(
            {"arguments": False, "output": False, "content": False, "preview": False}
        )
        sessions.approval_ids.write({"arguments": False, "preview": False, "reason": False})
        # The name is the first words of the first message; the summary retells the transcript.
        sessions.write(
            {
                "name": self.env._("Purged transcript"),
                "last_text": False,
                "error_message": False,
                "summary": False,
            }
        )

    @api.model
    def _cron_purge_transcripts(self):
        """Purge the transcripts older than each company's retention, in committed batches."""
        session_ids = self._aia_purgeable_ids(self.env.cr.now())
        self.env["ir.cron"]._commit_progress(remaining=len(session_ids))
        failure = None
        for start in range(0, len(session_ids), PURGE_BATCH):
            batch = self.browse(session_ids[start : start + PURGE_BATCH])
            try:
                batch._aia_purge_transcripts()
                self.env.flush_all()
            except Exception as exc:
                self.env.cr.rollback()
                _logger.exception("Purge of AI transcripts failed for sessions %s", batch.ids)
                failure = exc
                continue
            if not self.env["ir.cron"]._commit_progress(len(batch)):
                break
        if failure is not None:
            # Marks the run as failed; the other batches are committed.
            raise failure
