import json
import logging
import time
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools import str2bool

from .. import metrics
from ..ai_engine import (
    ApprovalDecision,
    ApprovalRequired,
    Done,
    Error,
    Message,
    SessionUsage,
    TextDelta,
    ToolResult,
    TurnRunner,
    Usage,
    WouldExecute,
)
from ..tools import OdooToolContext
from .guard import check_user_writable

_logger = logging.getLogger(__name__)

ENABLED_PARAM = "aia.agents_enabled"
BUS_TYPE = "aia.session/events"
# Text deltas are sent to the browser in batches at most this often (seconds).
DELTA_FLUSH_INTERVAL = 0.05
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

    name = fields.Char(default=lambda self: self.env._("New session"), required=True)
    agent_id = fields.Many2one("aia.agent", required=True, ondelete="restrict", index=True, tracking=True)
    user_id = fields.Many2one(
        "res.users", required=True, default=lambda self: self.env.user, ondelete="restrict", index=True
    )
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
    previous_session_id = fields.Many2one("aia.session", ondelete="set null", index=True)
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
    last_text = fields.Text(readonly=True, help="The last answer of the agent.")

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
        """Save the user's message, then run the turn in a queue job.

        Returns:
            The id of the saved message.
        """
        self.ensure_one()
        saved = self._aia_accept_message(message)
        self._aia_enqueue_turn(saved)
        return saved.id

    def action_cancel(self):
        """Stop button: a running turn stops at its next step, pending approvals are dropped."""
        for session in self.filtered(lambda s: s.state in ("draft", "running", "waiting_approval")):
            session.sudo().approval_ids.filtered(lambda a: a.state == "pending").state = "cancelled"
            session.sudo().state = "cancelled"
            session._aia_notify([{"type": "state", "state": "cancelled"}])
        return True

    @api.model
    def chat_bootstrap(self, limit=40):
        """What the chat UI needs to open: the agents I may use and my latest sessions."""
        agents = self.env["aia.agent"].search([])
        sessions = self.search([("user_id", "=", self.env.uid)], limit=limit)
        return {
            "enabled": self._aia_enabled(),
            "agents": [
                {
                    "id": agent.id,
                    "code": agent.code,
                    "name": agent.name,
                    "description": agent.description or "",
                }
                for agent in agents
            ],
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
        executions = self.execution_ids.sorted("id")
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "agent": {"id": self.agent_id.id, "name": self.agent_id.name, "code": self.agent_id.code},
            "error_message": self.error_message or "",
            "total_tokens": self.total_tokens,
            "total_cost": self.total_cost,
            "messages": [message._aia_to_client() for message in self.message_ids_aia.sorted("id")],
            "executions": [
                {
                    "id": execution.id,
                    "call_id": execution.call_id,
                    "name": execution.tool_name,
                    "arguments": execution.arguments,
                    "content": execution.content,
                    "preview": execution.preview,
                    "latency_ms": execution.latency_ms,
                    "status": execution.status,
                }
                for execution in executions
            ],
            "approvals": [
                {
                    "id": approval.id,
                    "call_id": approval.call_id,
                    "name": approval.tool_name,
                    "arguments": approval.arguments,
                    "preview": approval.preview,
                    "state": approval.state,
                    "approver": approval.approver_id.name or "",
                    "can_decide": approval.can_decide,
                }
                for approval in self.approval_ids.sorted("id")
            ],
        }

    # === BUSINESS METHODS === #

    @api.model
    def _aia_enabled(self):
        return str2bool(self.env["ir.config_parameter"].sudo().get_param(ENABLED_PARAM, "True"), default=True)

    @api.model
    def _aia_check_enabled(self):
        if not self._aia_enabled():
            raise UserError(self.env._("AI agents are temporarily unavailable."))

    def _aia_check_can_start(self):
        """Extension point: raise a UserError saying why when a turn of these sessions may not start
        now (billing budgets, ...). Checked before a message is accepted and again right before the
        turn's first provider call. Default: nothing prevents it."""

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

    def _aia_accept_message(self, message):
        """Check that the session may take ``message`` now and save it; the caller runs the turn."""
        self.ensure_one()
        self._aia_check_enabled()
        text = (message or "").strip()
        if not text:
            raise UserError(self.env._("The message is empty."))
        if self.state in ("running", "waiting_approval"):
            raise UserError(self.env._("The agent is still working on this session: wait for it or stop it."))
        self._aia_check_can_start()
        return self._aia_save_user_message(text)

    def _aia_save_user_message(self, text):
        self.ensure_one()
        values = {"state": "running", "error_message": False}
        if not self.message_ids_aia:
            values["name"] = text[:60]
        self.sudo().write(values)
        return (
            self.env["aia.message"]
            .sudo()
            .create({"session_id": self.id, "role": "user", "content": Message.user(text).to_dict()})
        )

    def _aia_job_channel(self):
        """The queue_job channel of this session's turns and resumes."""
        self.ensure_one()
        return "root.aia.automation" if self.channel == "automation" else "root.aia"

    def _aia_enqueue_turn(self, user_message):
        self.ensure_one()
        # The job runs on a cursor of its own, maybe before this transaction ends (queue_job's
        # no-delay mode runs it at once): nothing of this session may still wait to be written.
        self.env.flush_all()
        self.with_delay(
            channel=self._aia_job_channel(), description=f"AI turn: {self.name}"
        )._aia_job_run_turn(user_message.id)

    def _aia_enqueue_resume(self, approval):
        self.ensure_one()
        self.sudo().state = "running"
        self.env.flush_all()  # as in _aia_enqueue_turn
        # The job runs as the session's owner, whoever decided (an approver may not read it).
        owner = self.sudo().user_id
        self.with_user(owner).sudo(False).with_delay(
            channel=self._aia_job_channel(), description=f"AI resume: {self.name}"
        )._aia_job_resume(approval.id)

    def _aia_job_run_turn(self, message_id):
        """Queue job: run the turn that ``message_id`` opened."""
        message = self.env["aia.message"].sudo().browse(message_id)
        for _event in self._aia_run_turn(user_message=message):
            pass

    def _aia_job_resume(self, approval_id):
        """Queue job: continue after a decision on ``approval_id``."""
        approval = self.env["aia.approval"].sudo().browse(approval_id)
        decision = ApprovalDecision(approval.call_id, approval.state == "approved", approval.reason or "")
        for _event in self._aia_run_turn(decision=decision):
            pass

    def _aia_run_turn(self, user_message=None, decision=None):
        """Run one turn and persist it as it goes; yields each engine event.

        The turn runs as the session's user in the session's company, whoever triggered it (an
        approver resuming it, a job runner). Failures end in a clear session state; the user's
        message, saved before, is never lost.
        """
        self.ensure_one()
        session = self.with_user(self.user_id).with_company(self.company_id).sudo(False)
        recorder = _TurnRecorder(session)
        if not self._aia_enabled():
            recorder.fail(self.env._("AI agents are temporarily unavailable."))
            return
        try:
            session._aia_check_can_start()
        except UserError as exc:
            recorder.fail(exc.args[0])
            return
        try:
            runner = session._aia_runner(recorder)
            history = session._aia_history(exclude=user_message)
            if decision is not None:
                turn = runner.resume(history, decision)
            else:
                turn = runner.run(history, user_message._aia_engine_message())
        except Exception as exc:
            _logger.warning(
                "session %s: turn could not start: %s", self.id, type(exc).__name__, exc_info=True
            )
            recorder.fail(str(exc))
            return
        events = iter(turn)
        try:
            for event in events:
                recorder.record(event)
                yield event
                if recorder.cancelled():
                    events.close()
                    recorder.finish_cancelled()
                    return
        except Exception as exc:  # nothing may leave a session stuck in "running"
            _logger.exception("session %s: turn failed", self.id)
            recorder.fail(str(exc))

    def _aia_runner(self, recorder):
        # The agent's configuration (models, providers, ir.model rows) is platform data read as
        # superuser; only the tools run with the session user's rights, through tool_env.
        agent = self.agent_id.sudo()
        # The session's company only: record rules then hide the user's other companies' records
        # (an injected instruction cannot reach them), and company-aware tools read one company.
        tool_env = self.env(context=dict(self.env.context, allowed_company_ids=[self.company_id.id]))
        return TurnRunner(
            agent._aia_config(limits=self._aia_limits()),
            agent._aia_model_adapter(),
            agent._aia_tool_registry(),
            OdooToolContext(tool_env, allowed_models=agent.allowed_model_ids.mapped("model"), session=self),
            pricing=agent._aia_price_table(),
            ledger=_ExecutionLedger(self),
            sink=recorder,
            session_usage=SessionUsage(self.total_tokens, Decimal(str(self.total_cost))),
        )

    def _aia_limits(self):
        """Extension point: the engine's limits for this session's next turn. Default: the agent's.

        Overrides may only tighten them (e.g. what is left of an automation's caps); the engine
        checks them before every provider request and tool call.
        """
        self.ensure_one()
        return self.agent_id.sudo()._aia_limits()

    def _aia_history(self, exclude=None, window=True):
        """The transcript as engine messages, oldest first.

        Args:
            exclude: A message to leave out (the user message a turn is about to send).
            window: Load only what the agent's memory window can use: from the user message
                ``memory_window`` turns back. False loads the whole transcript.
        """
        Message = self.env["aia.message"].sudo()
        domain = [("session_id", "=", self.id)]
        if window:
            # The window keeps at most memory_window earlier messages, so it starts at or after
            # the memory_window-th user message before the current one.
            cutoff = Message.search(
                [*domain, ("role", "=", "user")], order="id desc", offset=self.agent_id.memory_window, limit=1
            )
            if cutoff:
                domain.append(("id", ">=", cutoff.id))
        if exclude:
            domain.append(("id", "!=", exclude.id))
        return [
            message._aia_engine_message() for message in Message.search_fetch(domain, ["content"], order="id")
        ]

    def _aia_notify(self, events):
        """Push events to the session owner's browser when this transaction commits.

        A turn commits each flush of its events (``_TurnRecorder.flush``), so the browser sees
        them while the job runs, not at its end.
        """
        self.ensure_one()
        payload = {"session_id": self.id, "events": events}
        self.env["bus.bus"].sudo()._sendone(self.user_id.partner_id, BUS_TYPE, payload)

    def _aia_checkpoint(self):
        """Commit what the turn produced so far (the job or request owns this cursor)."""
        self.env.cr.commit()  # pylint: disable=invalid-commit


class _TurnRecorder:
    """Persists a turn's messages and events as they arrive, and streams them to the browser."""

    def __init__(self, session):
        self.session = session
        self.ledger = session.sudo()
        self.previews = {}
        self.pending_deltas = []
        # Zero: the first text delta reaches the browser at once; later ones are batched.
        self.last_flush = 0.0
        self.error = None
        # What the agent said last in this turn: an approval request quotes it.
        self.agent_text = ""

    # MessageSink port
    def append(self, message):
        self.ledger.env["aia.message"].create(
            {"session_id": self.session.id, "role": message.role, "content": message.to_dict()}
        )
        if message.role == "assistant" and message.text:
            self.ledger.last_text = message.text
            self.agent_text = message.text
        self.session._aia_checkpoint()

    def record(self, event):
        metrics.observe_event(event)
        session = self.ledger
        if isinstance(event, TextDelta):
            self.pending_deltas.append(event.to_dict())
            if time.monotonic() - self.last_flush >= DELTA_FLUSH_INTERVAL:
                self.flush()
            return
        if isinstance(event, WouldExecute):
            self.previews[event.call_id] = event.preview
        elif isinstance(event, ToolResult):
            self._record_tool_result(event)
        elif isinstance(event, Usage):
            self._record_usage(event)
        elif isinstance(event, ApprovalRequired):
            self._record_approval(event)
        elif isinstance(event, Error):
            self.error = event.message
        elif isinstance(event, Done):
            state = {"approval_required": "waiting_approval", "error": "error"}.get(event.stop_reason, "done")
            session.write({"state": state, "error_message": self.error or False})
            if event.citations:
                self._save_citations(event.citations)
        if isinstance(event, (Usage, ToolResult, Done, ApprovalRequired)):
            # Commit first: a browser reloading on this event must find what it announces.
            self.session._aia_checkpoint()
        self.flush([event.to_dict()])

    def flush(self, extra=()):
        """Send the pending events; committed with them, as nothing else is pending then."""
        events = self.pending_deltas + list(extra)
        self.pending_deltas = []
        self.last_flush = time.monotonic()
        if not events:
            return
        self.session._aia_notify(events)
        self.session._aia_checkpoint()

    def cancelled(self):
        cr = self.session.env.cr
        cr.execute("SELECT state FROM aia_session WHERE id = %s", [self.session.id])
        row = cr.fetchone()
        return bool(row) and row[0] == "cancelled"

    def finish_cancelled(self):
        self.flush([{"type": "done", "stop_reason": "cancelled", "text": ""}])

    def fail(self, message):
        self.ledger.write({"state": "error", "error_message": message})
        self.flush([Error("session_error", message).to_dict(), Done("error").to_dict()])

    def _save_citations(self, citations):
        """The turn's knowledge passages, kept on its last answer for the chat and the API."""
        answer = self.ledger.env["aia.message"].search(
            [("session_id", "=", self.session.id), ("role", "=", "assistant")], order="id desc", limit=1
        )
        if answer:
            answer.citations = [dict(item) for item in citations]

    def _record_tool_result(self, event):
        session = self.ledger
        tool = session.env["aia.tool"].search([("name", "=", event.name)], limit=1)
        session.env["aia.tool.execution"].create(
            {
                "session_id": session.id,
                "tool_id": tool.id,
                "tool_name": event.name,
                "call_id": event.call_id,
                "arguments": event.arguments,
                "output": _jsonable(event.output),
                "content": event.content,
                "preview": self.previews.get(event.call_id),
                "result_size": event.result_size,
                "latency_ms": event.latency_ms,
                "status": event.status,
            }
        )
        session.env["aia.usage.event"].create(
            {
                **self._ledger_values(),
                "kind": "tool_call",
                "tool_name": event.name,
                "cost": float(event.cost),
                "latency_ms": event.latency_ms,
                "status": event.status,
            }
        )
        if event.call_id in self.previews:
            approval = session.approval_ids.filtered(lambda a: a.call_id == event.call_id)
            approval.filtered(lambda a: a.state == "pending").state = "cancelled"

    def _record_usage(self, event):
        session = self.ledger
        session.env["aia.usage.event"].create(
            {
                **self._ledger_values(),
                "kind": "provider_call",
                "provider": event.provider,
                "model_name": event.model,
                "input_tokens": event.input_tokens,
                "output_tokens": event.output_tokens,
                "cache_read_tokens": event.cache_read_tokens,
                "cache_write_tokens": event.cache_write_tokens,
                "total_tokens": event.total_tokens,
                "cost": float(event.cost),
                "latency_ms": event.latency_ms,
            }
        )

    def _record_approval(self, event):
        session = self.ledger
        approver = session.agent_id.approver_id or session.user_id
        request = session.env["aia.message"].search(
            [("session_id", "=", session.id), ("role", "=", "user")], order="id desc", limit=1
        )
        approval = session.env["aia.approval"].create(
            {
                "session_id": session.id,
                "approver_id": approver.id,
                "call_id": event.call_id,
                "tool_name": event.name,
                "arguments": event.arguments,
                "preview": event.preview,
                "user_request": request.body,
                "agent_reason": self.agent_text,
            }
        )
        # On the approval, which the approver may read, not on the session, which they may not.
        approval.activity_schedule(
            "mail.mail_activity_data_todo",
            user_id=approver.id,
            summary=session.env._("Approve AI action: %(tool)s", tool=event.name),
            note=event.preview,
        )

    def _ledger_values(self):
        session = self.ledger
        return {
            "session_id": session.id,
            "agent_id": session.agent_id.id,
            "user_id": session.user_id.id,
            "company_id": session.company_id.id,
        }


class _ExecutionLedger:
    """Counts a tool's executions in the session's company, for daily / monthly call budgets."""

    def __init__(self, session):
        self.session = session

    def count_calls(self, tool_name, since):
        return (
            self.session.env["aia.tool.execution"]
            .sudo()
            .search_count(
                [
                    ("tool_name", "=", tool_name),
                    ("company_id", "=", self.session.company_id.id),
                    ("status", "in", ("ok", "error", "timeout")),
                    ("create_date", ">=", fields.Datetime.to_string(since.replace(tzinfo=None))),
                ]
            )
        )

    def record_call(self, tool_name, at):
        """Each call is counted from its execution row, written as soon as it ends."""


def _jsonable(value):
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return json.loads(json.dumps(value, default=str))
