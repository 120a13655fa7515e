"""The external REST API, ``/aia/v1``, authenticated with Odoo API keys.

A chat request runs its turn inside the request, bounded by the agent's turn deadline (60 s by
default). The user's message is accepted by the turn service (:mod:`ai_core.turn.accept`) and
committed before the provider is called, so a provider outage loses nothing. The streaming
variant runs the turn while the response streams, on a cursor of its own: the request's cursor
is closed as soon as the controller returns.

Outside clients are kept in check at the door (:func:`api_endpoint`): failed authentications are
throttled per client address, requests per user, and in-request turns are capped per user across
every worker. Browser apps of the origins an administrator lists may call the API (CORS).
"""

import functools
import json
import logging
import math
import re
import threading
import time
import uuid
from collections import deque
from decimal import Decimal

from psycopg2.errors import ReadOnlySqlTransaction
from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import api, http, sql_db
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request
from odoo.tools.json import json_default

from .. import metrics, turn
from ..ai_engine import Done, Error, TextDelta, TokenUsage, Usage

_logger = logging.getLogger(__name__)

RATE_LIMIT_PARAM = "aia.api_rate_limit_per_minute"
DEFAULT_RATE_LIMIT = 60
RATE_WINDOW = 60.0
# Failed authentications (a key that is not valid) allowed per client address and minute.
AUTH_FAILURES_PARAM = "aia.api_auth_failures_per_minute"
DEFAULT_AUTH_FAILURES = 10
# Turns a user may run inside requests at once, over every worker of the server.
CONCURRENT_TURNS_PARAM = "aia.api_max_concurrent_turns"
DEFAULT_CONCURRENT_TURNS = 2
MAX_CONCURRENT_TURNS = 100
# Retry-After of a turn refused because the user's other turns hold every slot.
TURN_SLOT_RETRY_AFTER = 5
# pg_try_advisory_xact_lock(TURN_LOCK_SPACE + slot, uid): the slots of in-request turns. The
# two-key advisory lock space does not overlap the one-key space queue_job and others use.
TURN_LOCK_SPACE = 0x41494100
# Origins whose browser apps may call the API: exact origins, comma-separated; none by default.
CORS_ORIGINS_PARAM = "aia.api_cors_origins"
CORS_METHODS = "GET, POST, OPTIONS"
CORS_HEADERS = "Authorization, X-API-Key, Content-Type, X-Request-Id, X-Odoo-Database"
CORS_EXPOSE_HEADERS = "Retry-After, X-Request-Id, X-Aia-Session-Id, WWW-Authenticate"
CORS_MAX_AGE = 600
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
BEARER = re.compile(r"^bearer\s+(\S+)\s*$", re.IGNORECASE)
# A client's own request id is kept when it is this tame, else we make one.
CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Endpoints polled by probes and scrapers log at DEBUG, the others at INFO.
QUIET_ENDPOINTS = ("healthz", "readyz", "metrics")
OPERATOR_GROUP = "ai_core.group_aia_operator"


class ApiError(Exception):
    """An answer other than 2xx, with a stable ``code`` for programs and a message for people."""

    def __init__(self, status, code, message, retry_after=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.headers = headers or {}


class SlidingWindowLimiter:
    """At most ``limit`` requests per key in any ``window`` seconds.

    Kept in this process: with several Odoo workers each one counts its own requests.
    """

    # Past this many keys, the keys with no hit left in the window are forgotten.
    max_keys = 10_000

    def __init__(self, window=RATE_WINDOW):
        self.window = window
        self._hits = {}
        self._lock = threading.Lock()

    def hit(self, key, limit, now=None):
        """Count a request; returns 0 when it is allowed, else the seconds until it would be."""
        now = time.monotonic() if now is None else now
        with self._lock:
            wait = self._wait(key, limit, now)
            if not wait:
                self._record(key, now)
            return wait

    def wait(self, key, limit, now=None):
        """The seconds until ``key`` may be counted again (0 when it may now); counts nothing."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return self._wait(key, limit, now)

    def record(self, key, now=None):
        """Count one hit of ``key``."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._record(key, now)

    def _wait(self, key, limit, now):
        hits = self._hits.get(key)
        if not hits:
            return 0.0
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return 0.0
        return hits[0] + self.window - now if len(hits) >= limit else 0.0

    def _record(self, key, now):
        if len(self._hits) >= self.max_keys and key not in self._hits:
            for stale in [k for k, hits in self._hits.items() if hits[-1] <= now - self.window]:
                del self._hits[stale]
        self._hits.setdefault(key, deque()).append(now)

    def reset(self):
        with self._lock:
            self._hits.clear()


RATE_LIMITER = SlidingWindowLimiter()
# Keyed by database and client address; only failed authentications are counted.
AUTH_FAILURES = SlidingWindowLimiter()


class _TurnSlot:
    """One of the slots of a user's in-request turns, held until :meth:`release`.

    A slot is a PostgreSQL advisory lock taken in a transaction of a connection of its own, so
    that it counts the turns of every worker process and thread, and a worker that dies frees
    its slot with its connection. The transaction runs in READ COMMITTED: it holds no snapshot
    while it waits. Releasing twice is harmless.
    """

    def __init__(self, cr=None):
        self._cr = cr  # None: a slot of uncapped turns, nothing to release

    @classmethod
    def take(cls, dbname, uid, count):
        """A free slot of the ``count`` slots of user ``uid``, or None when they are all taken."""
        cr = sql_db.db_connect(dbname).cursor()
        try:
            cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
            for slot in range(count):
                cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (TURN_LOCK_SPACE + slot, uid))
                if cr.fetchone()[0]:
                    return cls(cr)
        except BaseException:
            cr.close()
            raise
        cr.close()
        return None

    def release(self):
        cr, self._cr = self._cr, None
        if cr is not None:
            try:
                cr.close()  # rolls back: the lock goes with the transaction
            except Exception:
                _logger.warning("aia.api: closing a turn slot failed", exc_info=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.release()


class _Call:
    """One API request: its id, its timing, and the fields of its log line (never a prompt)."""

    def __init__(self, endpoint, request_id):
        self.endpoint = endpoint
        self.request_id = request_id
        self.started = time.monotonic()
        self.user_id = self.company_id = self.agent = self.session_id = None
        # Set by the streaming endpoint: the stream finishes the call when it ends.
        self.deferred = False
        self.note = ""

    def finish(self, status):
        seconds = time.monotonic() - self.started
        metrics.observe_latency(self.endpoint, seconds)
        _logger.log(
            logging.DEBUG if self.endpoint in QUIET_ENDPOINTS else logging.INFO,
            "aia.api request_id=%s endpoint=%s status=%s duration_ms=%d user=%s company=%s agent=%s "
            "session=%s%s",
            self.request_id,
            self.endpoint,
            status,
            seconds * 1000,
            self.user_id,
            self.company_id,
            self.agent,
            self.session_id,
            f" note={self.note}" if self.note else "",
        )


def api_endpoint(endpoint, *, authenticated=True, rate_limited=True, kill_switch=True, group=None):
    """Wrap a route of the API: CORS, API key, group, rate limit, kill switch, errors as JSON,
    metrics and one log line. The route receives the :class:`_Call` after ``self``."""

    def decorator(func):
        @functools.wraps(func)
        def wrapper(self, *args, **kwargs):
            call = _Call(endpoint, _request_id())
            origin = None
            try:
                # Read first: even an error answer must reach the browser app that asked.
                origin = _allowed_origin()
                if request.httprequest.method == "OPTIONS":
                    # A CORS preflight: browsers send it without the key, it never needs one.
                    response = _preflight(call, origin)
                else:
                    if authenticated:
                        _authenticate(call)
                    if group and not request.env.user.has_group(group):
                        raise ApiError(
                            403, "forbidden", request.env._("This API key may not use this endpoint.")
                        )
                    if rate_limited:
                        _check_rate_limit()
                    if kill_switch and not turn.agents_enabled(request.env):
                        raise ApiError(
                            503, "agents_disabled", request.env._("AI agents are temporarily unavailable.")
                        )
                    response = func(self, call, *args, **kwargs)
            except ApiError as exc:
                response = _error_response(call, exc)
            except AccessError as exc:
                response = _error_response(call, ApiError(403, "forbidden", str(exc)))
            except MissingError as exc:
                response = _error_response(call, ApiError(404, "not_found", str(exc)))
            except (UserError, ValidationError) as exc:
                response = _error_response(call, ApiError(400, "bad_request", str(exc)))
            except ReadOnlySqlTransaction:
                raise  # Odoo serves the request again with a read/write cursor
            except Exception:
                _logger.exception("aia.api request_id=%s endpoint=%s failed", call.request_id, endpoint)
                error = ApiError(
                    500, "internal_error", f"Internal error; quote request id {call.request_id}."
                )
                response = _error_response(call, error)
            _cors_headers(response, origin)
            metrics.observe_request(endpoint, response.status_code)
            if not call.deferred:
                call.finish(response.status_code)
            return response

        return wrapper

    return decorator


# === HELPERS === #


def _request_id():
    client_id = request.httprequest.headers.get("X-Request-Id", "")
    return client_id if CLIENT_REQUEST_ID.match(client_id) else uuid.uuid4().hex


def _presented_key():
    headers = request.httprequest.headers
    match = BEARER.match(headers.get("Authorization", ""))
    if match:
        return match.group(1)
    return headers.get("X-API-Key", "").strip() or None


def _int_param(name, default):
    try:
        return int(request.env["ir.config_parameter"].sudo().get_param(name, default))
    except ValueError:
        return default


def _authenticate(call):
    key = _presented_key()
    # The client's address as Odoo sees it: behind a reverse proxy, proxy_mode decides whether
    # X-Forwarded-For is believed (a client's own header is not, without it).
    client = (request.env.cr.dbname, request.httprequest.remote_addr)
    max_failures = _int_param(AUTH_FAILURES_PARAM, DEFAULT_AUTH_FAILURES)
    # Checked before the key, and for a right key too: a throttled client learns nothing.
    wait = max_failures > 0 and AUTH_FAILURES.wait(client, max_failures)
    if wait:
        raise ApiError(
            429,
            "auth_throttled",
            f"Too many failed authentications from this address: retry in {math.ceil(wait)} s.",
            retry_after=wait,
        )
    # Odoo's own API keys: global ones (no scope) or scoped "rpc", as for JSON-2.
    uid = key and request.env["res.users.apikeys"]._check_credentials(scope="rpc", key=key)
    if not uid:
        if key and max_failures > 0:
            AUTH_FAILURES.record(client)  # a request without a key tries none
        raise ApiError(
            401,
            "unauthorized",
            "A valid API key is required: 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.",
            headers={"WWW-Authenticate": 'Bearer realm="aia"'},
        )
    request.update_env(user=uid)
    request.update_context(**request.env.user.context_get())
    call.user_id, call.company_id = uid, request.env.company.id


def _allowed_origin():
    """The request's ``Origin`` when it is one of the allowed origins, else None."""
    origin = request.httprequest.headers.get("Origin", "").strip().lower()
    if not origin or origin == "null":
        return None
    allowed = request.env["ir.config_parameter"].sudo().get_param(CORS_ORIGINS_PARAM) or ""
    origins = {entry.strip().rstrip("/").lower() for entry in allowed.split(",")}
    return origin if origin in origins - {"", "*", "null"} else None


def _preflight(call, origin):
    if not origin:
        raise ApiError(
            403,
            "origin_not_allowed",
            f"This origin may not call the API from a browser (system parameter {CORS_ORIGINS_PARAM}).",
        )
    headers = {
        "Access-Control-Allow-Methods": CORS_METHODS,
        "Access-Control-Allow-Headers": CORS_HEADERS,
        "Access-Control-Max-Age": str(CORS_MAX_AGE),
        "X-Request-Id": call.request_id,
    }
    return request.make_response("", headers=list(headers.items()), status=204)


def _cors_headers(response, origin):
    """The answer varies with ``Origin``; an allowed origin's app may read it (with no cookies:
    the API key is a header, so credentials are never allowed)."""
    vary = response.headers.get("Vary")
    response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS


def _turn_slot():
    """Take one of the user's in-request turn slots; raises 429 when their turns hold them all.

    Returns the slot, to release when the turn ends (also a context manager).
    """
    env = request.env
    count = min(_int_param(CONCURRENT_TURNS_PARAM, DEFAULT_CONCURRENT_TURNS), MAX_CONCURRENT_TURNS)
    if count <= 0:
        return _TurnSlot()
    slot = _TurnSlot.take(env.cr.dbname, env.uid, count)
    if slot is None:
        raise ApiError(
            429,
            "too_many_turns",
            env._(
                "You already have %(count)s turns running through the API: wait for one to end.",
                count=count,
            ),
            retry_after=TURN_SLOT_RETRY_AFTER,
        )
    return slot


def _check_rate_limit():
    env = request.env
    limit = _int_param(RATE_LIMIT_PARAM, DEFAULT_RATE_LIMIT)
    if limit <= 0:
        return
    wait = RATE_LIMITER.hit((env.cr.dbname, env.uid), limit)
    if wait:
        raise ApiError(
            429,
            "rate_limited",
            env._("Too many requests: at most %(limit)s a minute for this API key's user.", limit=limit),
            retry_after=wait,
        )


def _json_response(call, data, status=200, retry_after=None, headers=None):
    headers = {"Cache-Control": "no-store", "X-Request-Id": call.request_id, **(headers or {})}
    if retry_after:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return request.make_json_response(data, headers=list(headers.items()), status=status)


def _error_response(call, exc):
    # Nothing half-done in this request is kept; what was committed on purpose stays.
    if request.env and request.env.cr:
        request.env.cr.rollback()
    error = {"code": exc.code, "message": exc.message}
    if exc.retry_after:
        error["retry_after"] = max(1, math.ceil(exc.retry_after))
    body = {"error": error, "request_id": call.request_id}
    return _json_response(call, body, exc.status, exc.retry_after, exc.headers)


def _json_body():
    try:
        body = json.loads(request.httprequest.get_data(as_text=True) or "{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "The body must be a JSON object.")
    return body


def _int_arg(value, default, minimum, maximum=None):
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ApiError(400, "bad_request", f"Not an integer: {value!r}.") from None
    number = max(number, minimum)
    return min(number, maximum) if maximum is not None else number


def _find_agent(call, code):
    """The active agent ``code`` of the user's company, else the shared one (record rules apply)."""
    env = request.env
    agents = env["aia.agent"].search([("code", "=", code), ("company_id", "in", [env.company.id, False])])
    agent = agents.sorted(lambda agent: not agent.company_id)[:1]
    if not agent:
        raise ApiError(404, "not_found", env._("No agent with code %(code)s.", code=code))
    call.agent = agent.code
    return agent


def _open_turn(call, code):
    """Validate a chat request, then accept the user's message (committed at once); returns
    (session, message)."""
    env = request.env
    body = _json_body()
    text = body.get("message")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "bad_request", env._("'message' must be a non-empty string."))
    agent = _find_agent(call, code)
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
        _logger.exception("aia.api request_id=%s stream failed", call.request_id)
        yield _sse(Error("internal_error", f"Internal error; quote request id {call.request_id}."))
        yield _sse(Done("error"))
    finally:
        if slot is not None:
            slot.release()
        call.finish(status)


def _execution_data(execution):
    return {
        "id": execution.id,
        "session_id": execution.session_id.id,
        "call_id": execution.call_id,
        "tool": execution.tool_name,
        "status": execution.status,
        "arguments": execution.arguments,
        "content": execution.content,
        "preview": execution.preview,
        "result_size": execution.result_size,
        "latency_ms": execution.latency_ms,
        "create_date": execution.create_date,
    }


def _agent_readiness(agent):
    try:
        models = agent._aia_models()
    except UserError as exc:
        return {
            "code": agent.code,
            "ok": False,
            "error": "configuration",
            "message": str(exc),
            "providers": [],
        }
    providers = []
    for model in models:
        provider = model.provider_id
        if provider.active:
            check = provider._aia_check_reachable(model.name)
            providers.append({"provider": provider.name, "model": model.name, **check})
    return {"code": agent.code, "ok": any(p["ok"] for p in providers), "providers": providers}


# === ROUTES === #


class AiaApi(http.Controller):
    @http.route(
        "/aia/v1/agents/<string:code>/chat",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        readonly=False,
        save_session=False,
    )
    @api_endpoint("chat")
    def chat(self, call, code, **kwargs):
        """Run one turn in the request and answer with its outcome as JSON."""
        with _turn_slot():
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
        return _json_response(call, data, status, retry_after)

    @http.route(
        "/aia/v1/agents/<string:code>/chat/stream",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        readonly=False,
        save_session=False,
    )
    @api_endpoint("chat_stream")
    def chat_stream(self, call, code, **kwargs):
        """Server-sent events: each engine event as ``event: <type>`` / ``data: <json>``."""
        slot = _turn_slot()
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

    @http.route(
        "/aia/v1/agents/<string:code>/executions",
        type="http",
        auth="none",
        methods=["GET"],
        readonly=True,
        save_session=False,
    )
    @api_endpoint("executions", kill_switch=False)
    def executions(self, call, code, limit=None, offset=None, **kwargs):
        """The tool executions of the agent this key's user may read, newest first."""
        agent = _find_agent(call, code)
        limit = _int_arg(limit, DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        offset = _int_arg(offset, 0, 0)
        Execution = request.env["aia.tool.execution"]
        domain = [("agent_id", "=", agent.id)]
        total = Execution.search_count(domain)
        rows = Execution.search(domain, limit=limit, offset=offset, order="id desc")
        following = offset + len(rows)
        data = {
            "request_id": call.request_id,
            "executions": [_execution_data(execution) for execution in rows],
            "total": total,
            "limit": limit,
            "offset": offset,
            "next_offset": following if following < total else None,
        }
        return _json_response(call, data)

    @http.route(
        "/aia/v1/healthz", type="http", auth="none", methods=["GET"], readonly=True, save_session=False
    )
    @api_endpoint("healthz", authenticated=False, rate_limited=False, kill_switch=False)
    def healthz(self, call, **kwargs):
        """Liveness: the server answers and reaches its database."""
        request.env.cr.execute("SELECT 1")
        return _json_response(call, {"status": "ok"})

    @http.route(
        "/aia/v1/readyz", type="http", auth="none", methods=["GET"], readonly=True, save_session=False
    )
    @api_endpoint("readyz")
    def readyz(self, call, agent=None, **kwargs):
        """Readiness: the agent (or every active agent of the company) has a provider answering."""
        agents = (
            _find_agent(call, agent)
            if agent
            else request.env["aia.agent"].search([("company_id", "in", [request.env.company.id, False])])
        )
        results = [_agent_readiness(record) for record in agents]
        ready = bool(results) and all(result["ok"] for result in results)
        data = {"request_id": call.request_id, "status": "ok" if ready else "unavailable", "agents": results}
        return _json_response(call, data, 200 if ready else 503)

    @http.route(
        "/aia/v1/metrics", type="http", auth="none", methods=["GET"], readonly=True, save_session=False
    )
    @api_endpoint("metrics", rate_limited=False, kill_switch=False, group=OPERATOR_GROUP)
    def metrics_text(self, call, **kwargs):
        """Prometheus text exposition; needs the API key of an AI Operator (or Manager)."""
        headers = [("Content-Type", metrics.CONTENT_TYPE_LATEST), ("Cache-Control", "no-store")]
        return request.make_response(metrics.render(request.env), headers=headers)
