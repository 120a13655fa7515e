"""The turn recorder: persists a turn's messages and events as they arrive, commits them, and
streams them to the browser (the engine's ``MessageSink`` port, fed every event).

What a step did and the record saying it did commit together, so a worker killed at any point
leaves a transcript the turn can be recovered from (``TurnRunner.recover``): a tool's effects
(made in the turn's transaction), its result message, its execution row and its usage row commit
with its ``tool_result`` event; an approval request or a deferred call's work commits with the
session's waiting state (the ``done`` event that follows at once).
"""

import json
import time

from .. import metrics
from ..ai_engine import (
    ApprovalRequired,
    Done,
    Error,
    TextDelta,
    ToolDeferred,
    ToolResult,
    Usage,
    WouldExecute,
)
from ..rendering import linkable_names, records_in, render_markdown
from ..tools.catalogue import RECORD_KEYS
from .ledger import UsageLedger
from .notifier import notify

# Text deltas are sent to the browser in batches at most this often (seconds).
DELTA_FLUSH_INTERVAL = 0.05


class TurnRecorder:
    """Records one turn of ``session`` (an environment of the session's user).

    Each flush commits what was recorded and sends the pending events; after each flush the
    caller asks :meth:`cancelled` whether the session was cancelled meanwhile (the stop button, in
    another transaction) and stops the turn if so. One check per flush, not per event: a streamed
    answer costs no query per delta.
    """

    def __init__(self, session):
        self.session = session
        self.ledger = session.sudo()
        self.usage = UsageLedger(session)
        self.previews = {}
        # Events not sent yet: text deltas in a batch, an approval or a deferral until ``done``.
        self.pending = []
        # None: the first text delta reaches the browser at once; later ones are batched.
        self.last_flush = None
        self.error = None
        self.error_code = None
        # Whether events were sent since the last cancel check.
        self.flushed = False
        # What the agent said last in this turn: an approval request quotes it.
        self.agent_text = ""
        # The records the turn's tools returned, (model, id, name): its answers link their names.
        self.records = []

    # === MessageSink port === #

    def append(self, message):
        values = {"session_id": self.session.id, "role": message.role, "content": message.to_dict()}
        if message.role == "assistant" and self.records:
            env = self.ledger.env
            values["html"] = render_markdown(env, message.text, linkable_names(env, self.records))
        self.ledger.env["aia.message"].create(values)
        if message.role == "assistant" and message.text:
            self.ledger.last_text = message.text
            self.agent_text = message.text
        if message.role != "tool":
            # A tool's result commits with its event (see the module's docstring).
            self.session._aia_checkpoint()

    # === EVENTS === #

    def record(self, event):
        metrics.observe_event(event)
        if isinstance(event, TextDelta):
            self.pending.append(event.to_dict())
            if self.last_flush is None or time.monotonic() - self.last_flush >= DELTA_FLUSH_INTERVAL:
                self.flush()
            return
        if isinstance(event, WouldExecute):
            self.previews[event.call_id] = event.preview
        elif isinstance(event, ToolResult):
            self._record_tool_result(event)
        elif isinstance(event, Usage):
            self.usage.record_usage(event)
        elif isinstance(event, (ApprovalRequired, ToolDeferred)):
            if isinstance(event, ApprovalRequired):
                self._record_approval(event)
            else:
                self.ledger._aia_tool_deferred(event)
            # Committed and sent with the turn's end, which follows at once.
            self.pending.append(event.to_dict())
            return
        elif isinstance(event, Error):
            self.error, self.error_code = event.message, event.code
        elif isinstance(event, Done):
            self._record_done(event)
        if isinstance(event, (Usage, ToolResult, Done)):
            # Commit first: a browser reloading on this event must find what it announces.
            self.session._aia_checkpoint()
        self.flush([event.to_dict()])

    def flush(self, extra=()):
        """Send the pending events, committed with them (nothing else is pending then)."""
        if self._send(extra):
            self.flushed = True

    def cancelled(self):
        """Whether the session was cancelled, read once after each flush (else False): called
        after the event is handed on, so a streamed event does not wait for the read."""
        if not self.flushed:
            return False
        self.flushed = False
        cr = self.session.env.cr
        cr.execute("SELECT state FROM aia_session WHERE id = %s", [self.session.id])
        row = cr.fetchone()
        return bool(row) and row[0] == "cancelled"

    def finish_cancelled(self):
        self._send([Done("cancelled").to_dict()])

    def fail(self, message):
        self.ledger.write({"state": "error", "error_message": message, "error_code": "session_error"})
        self._turn_ended()
        self._send([Error("session_error", message).to_dict(), Done("error").to_dict()])

    # === HELPERS === #

    def _send(self, extra):
        events = self.pending + list(extra)
        self.pending = []
        self.last_flush = time.monotonic()
        if not events:
            return False
        notify(self.session, events)
        self.session._aia_checkpoint()
        return True

    def _record_done(self, event):
        state = {
            "approval_required": "waiting_approval",
            "tool_deferred": "waiting_tool",
            "error": "error",
        }.get(event.stop_reason, "done")
        ledger = self.ledger
        if state == "waiting_tool":
            ledger = ledger.with_context(mail_notrack=True)  # see _aia_job_answer
        ledger.write(
            {"state": state, "error_message": self.error or False, "error_code": self.error_code or False}
        )
        if event.citations:
            self._save_citations(event.citations)
        self._turn_ended()

    def _turn_ended(self):
        # The turn's last events follow this transaction's commit: what the hook changes is
        # there when a browser reloads on them.
        self.ledger.with_context(aia_turn_end_announced=True)._aia_turn_ended()

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
        self.usage.record_tool_call(event)
        if event.status == "ok":
            self.records += records_in(event.output, RECORD_KEYS.get(event.name))
        if event.call_id in self.previews:
            approval = session.approval_ids.filtered(lambda a: a.call_id == event.call_id)
            approval.filtered(lambda a: a.state == "pending").state = "cancelled"

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


def _jsonable(value):
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return json.loads(json.dumps(value, default=str))
