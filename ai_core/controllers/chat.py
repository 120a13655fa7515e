"""The chat routes of the REST API: one turn run inside the request, as JSON or as server-sent
events.

A chat request runs its turn inside the request, bounded by the agent's turn deadline (60 s by
default). The user's message is accepted by the turn service (:mod:`ai_core.turn.accept`) and
committed before the provider is called, so a provider outage loses nothing. The streaming
variant runs the turn while the response streams, on a cursor of its own: the request's cursor
is closed as soon as the controller returns.
"""

import json
import logging
import math
from decimal import Decimal

from odoo import api, http
from odoo.exceptions import AccessError, UserError
from odoo.http import request
from odoo.tools.json import json_default

from .. import turn
from ..ai_engine import Done, Error, TextDelta, TokenUsage, Usage, tracing
from .helpers import ApiError, api_route, find_agent, json_body, json_response
from .turn_slots import take_turn_slot

_logger = logging.getLogger(__name__)


def _open_turn(call, code):
    """Validate a chat request, then accept the user's message (committed at once); returns
    (session, message)."""
    env = request.env
    body = json_body()
    text = body.get("message")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "bad_request", env._("'message' must be a non-empty string."))
    agent = find_agent(call, code)
    try:
        wait = agent._aia_retry_after()
    except UserError:
        wait = 0  # a configuration problem: the turn records it on the session
    if wait:
        raise ApiError(
            503,
            "provider_unavailable",
            env._("The agent's providers are unavailable, retry in %(seconds)s s.", seconds=math.ceil(wait)),
            retry_after=wait,
        )
    session_id = body.get("session_id")
    if session_id is not None:
        if not isinstance(session_id, int) or isinstance(session_id, bool):
            raise ApiError(400, "bad_request", env._("'session_id' must be an integer."))
        session = env["aia.session"].search(
            [("id", "=", session_id), ("user_id", "=", env.uid), ("agent_id", "=", agent.id)]
        )
        if not session:
            raise ApiError(
                404, "not_found", env._("No session %(id)s of yours with this agent.", id=session_id)
            )
    else:
        session = env["aia.session"].create({"agent_id": agent.id})
        session.sudo().channel = "api"
    call.session_id = session.id
    try:
        # Committed before the provider is called: an outage or a lost worker keeps the question.
        message = turn.accept(session, text, run_in_request=True)
    except AccessError:
        raise
    except turn.SessionBusy as exc:
        raise ApiError(409, "session_busy", str(exc)) from exc
    except turn.AgentsDisabled as exc:
        raise ApiError(503, "agents_disabled", str(exc)) from exc
    except UserError as exc:
        # An extension refusing the turn now (a budget, ...).
        raise ApiError(403, "refused", str(exc)) from exc
    return session, message


class _TurnOutcome:
    """What a client needs of a turn's events: the non-delta events, usage totals, error, end."""

    def __init__(self):
        self.events = []
        self.tokens = TokenUsage()
        self.cost = Decimal(0)
        self.error = None
        self.done = None

    def add(self, event):
        if isinstance(event, Usage):
            self.tokens += event.tokens
            self.cost += event.cost
        elif isinstance(event, Error):
            self.error = event
        elif isinstance(event, Done):
            self.done = event
        if not isinstance(event, TextDelta):
            self.events.append(event.to_dict())

    def end_from(self, session):
        """A turn that could not start, or was cancelled, yields no ``done``: tell it from the
        session. Returns the events added."""
        if self.done is not None:
            return []
        added = []
        if session.state == "cancelled":
            added.append(Done("cancelled"))
        else:
            if self.error is None:
                message = session.error_message or "The turn ended without an answer."
                added.append(Error("session_error", message))
            added.append(Done("error"))
        for event in added:
            self.add(event)
        return added

    def status(self):
        """The HTTP status and Retry-After of the answer."""
        if self.done.stop_reason != "error" or self.error is None:
            return 200, None
        if self.error.code == "provider_unavailable":
            return 503, self.error.retry_after
        if self.error.code.startswith("provider_"):
            return 502, None
        return 500, None

    def usage(self):
        tokens = self.tokens
        return {
            "input_tokens": tokens.input_tokens,
            "output_tokens": tokens.output_tokens,
            "cache_read_tokens": tokens.cache_read_tokens,
            "cache_write_tokens": tokens.cache_write_tokens,
            "total_tokens": tokens.total,
            "cost": str(self.cost),
        }


def _sse(event):
    data = json.dumps(event.to_dict(), ensure_ascii=False, default=json_default)
    return f"event: {event.type}\ndata: {data}\n\n".encode()


def _event_stream(registry, uid, context, session_id, message_id, call, slot=None):
    """Run the turn while streaming its events; ends with ``done``.

    Runs after the controller returned, outside the request: it opens its own cursor (committed
    at the end, and at each checkpoint of the turn) and runs as the API key's user. The turn's
    ``slot`` is released when the turn ends, however it ends.
    """
    status = 200
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, uid, context)
            session = env["aia.session"].browse(session_id)
            message = env["aia.message"].sudo().browse(message_id)
            outcome = _TurnOutcome()
            # The turn's span joins the request's trace (the stream runs after the route returned).
            with tracing.using(call.span):
                turn = session._aia_run_turn(user_message=message)
            try:
                for event in turn:
                    outcome.add(event)
                    yield _sse(event)
            except GeneratorExit:
                # The client went away: the turn still runs to its end and is saved, as a
                # queued turn would be (read it back with aia.session.chat_data).
                call.note = "client_disconnected"
                for _event in turn:
                    pass
                return
            session.invalidate_recordset()
            for event in outcome.end_from(session):
                yield _sse(event)
    except Exception:
        status = 500
        _logger.exception("aia.api request_id=%s trace_id=%s stream failed", call.request_id, call.trace_id)
        yield _sse(Error("internal_error", f"Internal error; quote request id {call.request_id}."))
        yield _sse(Done("error"))
    finally:
        if slot is not None:
            slot.release()
        call.finish(status)


class AiaChatApi(http.Controller):
    @api_route("/aia/v1/agents/<string:code>/chat", "chat", method="POST")
    def chat(self, call, code, **kwargs):
        """Run one turn in the request and answer with its outcome as JSON."""
        with take_turn_slot():
            session, message = _open_turn(call, code)
            outcome = _TurnOutcome()
            for event in session._aia_run_turn(user_message=message):
                outcome.add(event)
        session.invalidate_recordset()
        outcome.end_from(session)
        status, retry_after = outcome.status()
        error = outcome.error
        data = {
            "request_id": call.request_id,
            "session_id": session.id,
            "state": session.state,
            "text": outcome.done.text,
            # Knowledge passages the answer may cite as [n]: document, page, offsets.
            "citations": list(outcome.done.citations),
            "events": outcome.events,
            "usage": outcome.usage(),
            "session_usage": {"total_tokens": session.total_tokens, "total_cost": session.total_cost},
            "error": error
            and {"code": error.code, "message": error.message, "retry_after": error.retry_after},
        }
        return json_response(call, data, status, retry_after)

    @api_route("/aia/v1/agents/<string:code>/chat/stream", "chat_stream", method="POST")
    def chat_stream(self, call, code, **kwargs):
        """Server-sent events: each engine event as ``event: <type>`` / ``data: <json>``."""
        slot = take_turn_slot()
        try:
            session, message = _open_turn(call, code)
            env = request.env
            stream = _event_stream(
                env.registry, env.uid, dict(env.context), session.id, message.id, call, slot=slot
            )
            headers = {
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",  # nginx: pass events through at once
                "X-Request-Id": call.request_id,
                "X-Aia-Session-Id": str(session.id),
            }
            response = http.Response(
                stream, status=200, mimetype="text/event-stream", headers=list(headers.items())
            )
            # Closing the response frees the slot, even when the stream was never read.
            response.call_on_close(slot.release)
        except BaseException:
            slot.release()
            raise
        call.deferred = True
        return response
