"""The MCP server's route, ``/aia/mcp``: the REST API's door (API key, group, rate limit, kill
switch, CORS, span, log line) with MCP's wire inside (:mod:`ai_mcp.mcp_wire`)."""

import logging

from odoo import http
from odoo.http import request
from odoo.release import major_version

from odoo.addons.ai_core.controllers.helpers import ApiError, _allowed_origin, api_route, json_response
from odoo.addons.ai_core.controllers.turn_slots import take_turn_slot

from .. import mcp_wire as protocol
from ..catalogue import OdooHandler

_logger = logging.getLogger(__name__)

PATH = "/aia/mcp"
# A JSON-RPC request of a client is small; a larger body is refused before it is read.
MAX_BODY_BYTES = 1024 * 1024
SERVER_NAME = "odoo-aia"


def _error_body(call, exc):
    """The REST API's refusals (key, group, rate limit, kill switch) as JSON-RPC errors."""
    code = protocol.API_ERROR_CODES.get(exc.code, protocol.jsonrpc.INTERNAL_ERROR)
    data = {"code": exc.code, "request_id": call.request_id}
    if exc.retry_after:
        data["retry_after"] = round(exc.retry_after, 1)
    return protocol.error_body(None, code, exc.message, data)


def _server_info():
    return protocol.types.Implementation(name=SERVER_NAME, title="Odoo AI agents", version=major_version)


def _refuse_method(call):
    raise ApiError(
        405,
        "method_not_allowed",
        "This MCP server answers POST only: it opens no stream and keeps no session.",
        headers={"Allow": "POST"},
    )


class AiaMcpServer(http.Controller):
    @api_route(PATH, "mcp", method="POST", group="ai_core.group_aia_user", error_body=_error_body)
    def mcp(self, call, **kwargs):
        """One JSON-RPC message of an MCP client (Streamable HTTP, JSON answers)."""
        httprequest = request.httprequest
        if httprequest.headers.get("Origin") and not _allowed_origin():
            # The specification's defence against DNS rebinding: a page of another origin may
            # not drive the server from a browser (CORS lists the origins that may).
            raise ApiError(403, "origin_not_allowed", "This origin may not call the MCP server.")
        length = httprequest.content_length
        if length is None or length > MAX_BODY_BYTES:
            raise ApiError(
                413 if length else 411,
                "body_too_large" if length else "bad_request",
                f"A message must come with its Content-Length, at most {MAX_BODY_BYTES} bytes.",
            )
        headers = {name.lower(): value for name, value in httprequest.headers.items()}
        handler = OdooHandler(request.env, call, take_turn_slot)
        exchange = protocol.serve(httprequest.get_data(), headers, handler, _server_info())
        call.note = exchange.method or ""
        if exchange.body is None:
            return request.make_response("", headers=[("X-Request-Id", call.request_id)], status=202)
        return json_response(call, exchange.body, exchange.status)

    @api_route(
        PATH,
        "mcp",
        method="GET",
        authenticated=False,
        rate_limited=False,
        kill_switch=False,
        error_body=_error_body,
    )
    def mcp_stream(self, call, **kwargs):
        """No stream of server messages: this server sends none."""
        _refuse_method(call)

    @api_route(
        PATH,
        "mcp",
        method="DELETE",
        authenticated=False,
        rate_limited=False,
        kill_switch=False,
        error_body=_error_body,
    )
    def mcp_end_session(self, call, **kwargs):
        """No session to end: the server keeps none."""
        _refuse_method(call)
