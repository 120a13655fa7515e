"""MCP on the wire: one JSON-RPC message in, one JSON-RPC message out, with the types and checks
of the official ``mcp`` SDK (``mcp.types``: the envelopes, each method's per-version surface, the
2026-07-28 request envelope ladder). No Odoo here: the controller carries the HTTP, the
:class:`Handler` it gives answers the methods.

Both eras of the Streamable HTTP transport are served, statelessly:

- handshake era (2024-11-05 … 2025-11-25): ``initialize`` negotiates the version, later requests
  name it in the ``MCP-Protocol-Version`` header. No ``Mcp-Session-Id`` is issued: every request
  carries its API key and holds nothing of an earlier one, so any Odoo worker serves any request.
- 2026-07-28: each request carries its version, capabilities and client in ``params._meta``
  (checked against the routing headers by the SDK's ladder); ``server/discover`` describes us.

Answers are JSON (``application/json``): a tool call answers once, when it ended, and the server
never sends requests or notifications of its own, so there is nothing to stream.
"""

import json
import logging

from mcp import types
from mcp.shared import inbound
from mcp.types import jsonrpc, methods, version
from pydantic import ValidationError

_logger = logging.getLogger(__name__)

HANDSHAKE_VERSIONS = version.HANDSHAKE_PROTOCOL_VERSIONS
MODERN_VERSIONS = version.MODERN_PROTOCOL_VERSIONS
# The handshake-era version of a request without the header (the specification's rule).
DEFAULT_HANDSHAKE_VERSION = "2025-03-26"
# Methods this server answers; others are METHOD_NOT_FOUND whatever the version knows of them.
SERVED = frozenset({"initialize", "ping", "tools/list", "tools/call", "server/discover"})
# Implementation-defined JSON-RPC codes (-32000..-32019) for what the HTTP layer refuses.
AGENTS_DISABLED = -32010
UNAUTHORIZED = -32011
FORBIDDEN = -32012
RATE_LIMITED = -32013
NOT_FOUND = -32014
BODY_TOO_LARGE = -32015
API_ERROR_CODES = {
    "agents_disabled": AGENTS_DISABLED,
    "unauthorized": UNAUTHORIZED,
    "auth_throttled": RATE_LIMITED,
    "forbidden": FORBIDDEN,
    "origin_not_allowed": FORBIDDEN,
    "rate_limited": RATE_LIMITED,
    "too_many_turns": RATE_LIMITED,
    "not_found": NOT_FOUND,
    "body_too_large": BODY_TOO_LARGE,
    "bad_request": jsonrpc.INVALID_REQUEST,
    "method_not_allowed": jsonrpc.INVALID_REQUEST,
}


class McpError(Exception):
    """A JSON-RPC error answer: ``code`` (``mcp.types`` constants), a message, optional data."""

    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def error_data(self):
        return jsonrpc.ErrorData(code=self.code, message=self.message, data=self.data)


class Exchange:
    """One POST: what it asked and, once answered, ``status`` and ``body`` (None: 202, nothing)."""

    def __init__(self):
        self.request_id = None
        self.method = None
        self.version = None
        self.modern = False
        self.status = 200
        self.body = None


def error_body(request_id, code, message, data=None):
    """The JSON of a JSON-RPC error answer."""
    error = jsonrpc.JSONRPCError(
        jsonrpc="2.0", id=request_id, error=jsonrpc.ErrorData(code=code, message=message, data=data)
    )
    return error.model_dump(mode="json", by_alias=True, exclude_none=True) | {"id": request_id}


def serve(raw, headers, handler, server_info):
    """Answer the JSON-RPC message ``raw`` (bytes), with the request's ``headers`` (lowercase
    names); ``handler`` answers the methods (see :class:`Handler`). Returns the :class:`Exchange`."""
    exchange = Exchange()
    try:
        _serve(exchange, raw, headers, handler, server_info)
    except McpError as exc:
        exchange.body = error_body(exchange.request_id, exc.code, exc.message, exc.data)
        exchange.status = _error_status(exchange, exc.code)
    return exchange


def _serve(exchange, raw, headers, handler, server_info):
    try:
        body = json.loads(raw)
    except ValueError:
        raise McpError(jsonrpc.PARSE_ERROR, "The body is not JSON.") from None
    if isinstance(body, list):
        # JSON-RPC batches left MCP in 2025-06-18: nothing of a batch runs.
        raise McpError(jsonrpc.INVALID_REQUEST, "Batches are not supported: send one message per request.")
    if not isinstance(body, dict):
        raise McpError(jsonrpc.INVALID_REQUEST, "The body must be one JSON-RPC message.")
    if isinstance(body.get("id"), (str, int)) and not isinstance(body.get("id"), bool):
        exchange.request_id = body["id"]
    try:
        message = jsonrpc.jsonrpc_message_adapter.validate_python(body, by_name=False)
    except ValidationError:
        raise McpError(jsonrpc.INVALID_REQUEST, "Not a valid JSON-RPC 2.0 message.") from None
    if not isinstance(message, jsonrpc.JSONRPCRequest):
        # A notification (initialized, cancelled) or a response: nothing to answer, nothing to do
        # (no request of ours waits for a response, no request runs after its POST ended).
        exchange.status = 202
        return
    exchange.method = message.method
    params = message.params
    exchange.version = _request_version(exchange, body, headers)
    if message.method not in SERVED:
        raise McpError(jsonrpc.METHOD_NOT_FOUND, f"Method not found: {message.method}.")
    try:
        request = methods.parse_client_request(message.method, exchange.version, params)
    except KeyError:
        raise McpError(
            jsonrpc.METHOD_NOT_FOUND,
            f"Method {message.method} does not exist in protocol version {exchange.version}.",
        ) from None
    except ValidationError as exc:
        raise McpError(jsonrpc.INVALID_PARAMS, f"Invalid params: {_first_error(exc)}") from None
    result = _dispatch(exchange, request, handler, server_info)
    dumped = methods.serialize_server_result(
        message.method, exchange.version, result.model_dump(mode="json", by_alias=True, exclude_none=True)
    )
    if exchange.modern:
        meta = dict(dumped.get("_meta") or {})
        meta.setdefault(
            types.SERVER_INFO_META_KEY, server_info.model_dump(mode="json", by_alias=True, exclude_none=True)
        )
        dumped["_meta"] = meta
    answer = jsonrpc.JSONRPCResponse(jsonrpc="2.0", id=message.id, result=dumped)
    exchange.body = answer.model_dump(mode="json", by_alias=True)


def _request_version(exchange, body, headers):
    """The protocol version of the request: its envelope's (2026-07-28, checked by the SDK's
    ladder), the one ``initialize`` asks for, or the ``MCP-Protocol-Version`` header's."""
    params = body.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    if (
        isinstance(meta, dict)
        and types.PROTOCOL_VERSION_META_KEY in meta
        or body.get("method") == "server/discover"
    ):
        route = inbound.classify_inbound_request(
            body, headers=headers, supported_modern_versions=MODERN_VERSIONS
        )
        if isinstance(route, inbound.InboundLadderRejection):
            exchange.modern = True
            raise McpError(route.code, route.message, route.data)
        exchange.modern = True
        return route.protocol_version
    if body.get("method") == "initialize":
        asked = params.get("protocolVersion") if isinstance(params, dict) else None
        return asked if asked in HANDSHAKE_VERSIONS else version.LATEST_HANDSHAKE_VERSION
    named = headers.get(inbound.MCP_PROTOCOL_VERSION_HEADER)
    if named is None:
        return DEFAULT_HANDSHAKE_VERSION
    if named not in HANDSHAKE_VERSIONS:
        raise McpError(
            jsonrpc.INVALID_REQUEST,
            f"Unsupported MCP-Protocol-Version {named!r}: this server speaks "
            f"{', '.join(HANDSHAKE_VERSIONS + MODERN_VERSIONS)}.",
        )
    return named


def _dispatch(exchange, request, handler, server_info):
    capabilities = types.ServerCapabilities(tools=types.ToolsCapability(list_changed=False))
    if isinstance(request, types.InitializeRequest):
        if exchange.modern:
            raise McpError(jsonrpc.INVALID_REQUEST, "initialize is not part of protocol 2026-07-28.")
        return types.InitializeResult(
            protocol_version=exchange.version,
            capabilities=capabilities,
            server_info=server_info,
            instructions=handler.instructions(),
        )
    if isinstance(request, types.DiscoverRequest):
        return types.DiscoverResult(
            supported_versions=list(MODERN_VERSIONS),
            capabilities=capabilities,
            instructions=handler.instructions(),
        )
    if isinstance(request, types.PingRequest):
        return types.EmptyResult()
    if isinstance(request, types.ListToolsRequest):
        # One page: a user's agents and their tools are a few dozen entries.
        return types.ListToolsResult(tools=handler.list_tools())
    if isinstance(request, types.CallToolRequest):
        return handler.call_tool(request.params.name, request.params.arguments or {})
    raise McpError(jsonrpc.METHOD_NOT_FOUND, f"Method not found: {request.method}.")


def _error_status(exchange, code):
    """HTTP status of an error answer: the SDK's table for the 2026-07-28 wire and for what is not
    one JSON-RPC request; 200 for a handshake-era request's error, as its clients expect."""
    if exchange.modern or exchange.method is None:
        return inbound.ERROR_CODE_HTTP_STATUS.get(code, 400 if exchange.method is None else 200)
    return 200


def _first_error(exc):
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ())) or "(root)"
    return f"{where}: {error.get('msg', 'invalid')}"


class Handler:
    """What the server's methods do (the Odoo side implements it)."""

    def instructions(self):
        """Text a client may show its model about this server, or None."""
        return None

    def list_tools(self):
        """The ``mcp.types.Tool`` list the caller may use."""
        raise NotImplementedError

    def call_tool(self, name, arguments):
        """The ``mcp.types.CallToolResult`` of ``name``; raises :class:`McpError` for a protocol
        error (an unknown tool)."""
        raise NotImplementedError
