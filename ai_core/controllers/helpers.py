"""The door of the external REST API, ``/aia/v1``: what every route goes through.

Outside clients are kept in check here (:func:`api_endpoint`): Odoo API keys, failed
authentications throttled per client address, requests per user, the kill switch, CORS for the
browser apps of the origins an administrator lists, errors as JSON, metrics and one log line per
request (never a prompt).
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

from opentelemetry.trace import SpanKind
from psycopg2.errors import ReadOnlySqlTransaction

from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request

from .. import metrics, telemetry, turn
from ..ai_engine import tracing

_logger = logging.getLogger(__name__)

RATE_LIMIT_PARAM = "aia.api_rate_limit_per_minute"
DEFAULT_RATE_LIMIT = 60
RATE_WINDOW = 60.0
# Failed authentications (a key that is not valid) allowed per client address and minute.
AUTH_FAILURES_PARAM = "aia.api_auth_failures_per_minute"
DEFAULT_AUTH_FAILURES = 10
# Origins whose browser apps may call the API: exact origins, comma-separated; none by default.
CORS_ORIGINS_PARAM = "aia.api_cors_origins"
CORS_METHODS = "GET, POST, OPTIONS"
CORS_HEADERS = "Authorization, X-API-Key, Content-Type, X-Request-Id, X-Odoo-Database"
CORS_EXPOSE_HEADERS = "Retry-After, X-Request-Id, X-Aia-Session-Id, WWW-Authenticate"
CORS_MAX_AGE = 600
BEARER = re.compile(r"^bearer\s+(\S+)\s*$", re.IGNORECASE)
# A client's own request id is kept when it is this tame, else we make one.
CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Endpoints polled by probes and scrapers log at DEBUG, the others at INFO.
QUIET_ENDPOINTS = ("healthz", "readyz", "metrics")


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


class Call:
    """One API request: its id, its timing, its span, and the fields of its log line (never a
    prompt).

    The span continues the trace of the request's ``traceparent`` header when it has a valid one
    (anything else is ignored) and ends with the call; its trace id is logged with the request.
    """

    def __init__(self, endpoint, request_id, route=None, headers=None, method="GET"):
        self.endpoint = endpoint
        self.request_id = request_id
        self.started = time.monotonic()
        route = route or endpoint
        self.span = tracing.start_span(
            f"{method} {route}",
            {
                "http.request.method": method,
                "http.route": route,
                tracing.AIA_ENDPOINT: endpoint,
                tracing.AIA_REQUEST_ID: request_id,
            },
            kind=SpanKind.SERVER,
            parent=tracing.context_from(headers),
        )
        self.trace_id = tracing.trace_id_of(self.span) or "-"
        self.user_id = self.company_id = self.agent = self.session_id = None
        # Set by the streaming endpoint: the stream finishes the call when it ends.
        self.deferred = False
        self.note = ""

    def finish(self, status):
        seconds = time.monotonic() - self.started
        metrics.observe_latency(self.endpoint, seconds)
        self.span.set_attribute("http.response.status_code", status)
        if self.session_id:
            self.span.set_attribute(tracing.AIA_SESSION_ID, self.session_id)
        if status >= 500:
            tracing.record_error(self.span, str(status))
        self.span.end()
        _logger.log(
            logging.DEBUG if self.endpoint in QUIET_ENDPOINTS else logging.INFO,
            "aia.api request_id=%s trace_id=%s endpoint=%s status=%s duration_ms=%d user=%s company=%s "
            "agent=%s session=%s%s",
            self.request_id,
            self.trace_id,
            self.endpoint,
            status,
            seconds * 1000,
            self.user_id,
            self.company_id,
            self.agent,
            self.session_id,
            f" note={self.note}" if self.note else "",
        )


def api_endpoint(
    endpoint,
    *,
    authenticated=True,
    rate_limited=True,
    kill_switch=True,
    group=None,
    route=None,
    error_body=None,
):
    """Wrap a route of the API: CORS, API key, group, rate limit, kill switch, errors as JSON,
    metrics, a span (``route``: its name, the path template) and one log line. The route
    receives the :class:`Call` after ``self``. ``error_body(call, exc)``: the JSON body of an
    error answer (an :class:`ApiError`) when the protocol has its own (default: the API's)."""

    def decorator(func):
        @functools.wraps(func)
        def wrapper(self, *args, **kwargs):
            telemetry.ensure_configured()
            httprequest = request.httprequest
            call = Call(endpoint, _request_id(), route, httprequest.headers, httprequest.method)
            # Current while the route runs: a turn it runs, the jobs it queues join its trace.
            with tracing.using(call.span):
                return _serve(self, call, func, args, kwargs)

        def _serve(self, call, func, args, kwargs):
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
                response = _error_response(call, exc, error_body)
            except AccessError as exc:
                response = _error_response(call, ApiError(403, "forbidden", str(exc)), error_body)
            except MissingError as exc:
                response = _error_response(call, ApiError(404, "not_found", str(exc)), error_body)
            except (UserError, ValidationError) as exc:
                response = _error_response(call, ApiError(400, "bad_request", str(exc)), error_body)
            except ReadOnlySqlTransaction:
                call.span.end()  # the request's second run has a span of its own
                raise  # Odoo serves the request again with a read/write cursor
            except Exception:
                _logger.exception(
                    "aia.api request_id=%s trace_id=%s endpoint=%s failed",
                    call.request_id,
                    call.trace_id,
                    endpoint,
                )
                error = ApiError(
                    500, "internal_error", f"Internal error; quote request id {call.request_id}."
                )
                response = _error_response(call, error, error_body)
            _cors_headers(response, origin)
            metrics.observe_request(endpoint, response.status_code)
            if not call.deferred:
                call.finish(response.status_code)
            return response

        return wrapper

    return decorator


def api_route(path, endpoint, *, method="GET", **endpoint_options):
    """Declare a route of the API: no browser session, no CSRF token (the API key authenticates),
    a read-only cursor for GET, then :func:`api_endpoint` with ``endpoint_options``."""
    route = http.route(
        path,
        type="http",
        auth="none",
        methods=[method],
        csrf=False,
        readonly=method == "GET",
        save_session=False,
    )

    template = re.sub(r"<(?:[a-z]+:)?(\w+)>", r"{\1}", path)

    def decorator(func):
        return route(api_endpoint(endpoint, route=template, **endpoint_options)(func))

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


def int_param(name, default):
    try:
        return int(request.env["ir.config_parameter"].sudo().get_param(name, default))
    except ValueError:
        return default


def _authenticate(call):
    key = _presented_key()
    # The client's address as Odoo sees it: behind a reverse proxy, proxy_mode decides whether
    # X-Forwarded-For is believed (a client's own header is not, without it).
    client = (request.env.cr.dbname, request.httprequest.remote_addr)
    max_failures = int_param(AUTH_FAILURES_PARAM, DEFAULT_AUTH_FAILURES)
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


def _check_rate_limit():
    env = request.env
    limit = int_param(RATE_LIMIT_PARAM, DEFAULT_RATE_LIMIT)
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


def json_response(call, data, status=200, retry_after=None, headers=None):
    headers = {"Cache-Control": "no-store", "X-Request-Id": call.request_id, **(headers or {})}
    if retry_after:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return request.make_json_response(data, headers=list(headers.items()), status=status)


def _error_response(call, exc, error_body=None):
    # Nothing half-done in this request is kept; what was committed on purpose stays.
    if request.env and request.env.cr:
        request.env.cr.rollback()
    if error_body is not None:
        body = error_body(call, exc)
    else:
        error = {"code": exc.code, "message": exc.message}
        if exc.retry_after:
            error["retry_after"] = max(1, math.ceil(exc.retry_after))
        body = {"error": error, "request_id": call.request_id}
    return json_response(call, body, exc.status, exc.retry_after, exc.headers)


def json_body():
    try:
        body = json.loads(request.httprequest.get_data(as_text=True) or "{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "The body must be a JSON object.")
    return body


def int_arg(value, default, minimum, maximum=None):
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ApiError(400, "bad_request", f"Not an integer: {value!r}.") from None
    number = max(number, minimum)
    return min(number, maximum) if maximum is not None else number


def find_agent(call, code):
    """The active agent ``code`` of the user's company, else the shared one (record rules apply)."""
    env = request.env
    agents = env["aia.agent"].search([("code", "=", code), ("company_id", "in", [env.company.id, False])])
    agent = agents.sorted(lambda agent: not agent.company_id)[:1]
    if not agent:
        raise ApiError(404, "not_found", env._("No agent with code %(code)s.", code=code))
    call.agent = agent.code
    return agent
