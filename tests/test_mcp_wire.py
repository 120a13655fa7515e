"""The MCP server's wire (``ai_mcp/mcp_wire.py``), without Odoo: what each kind of message gets
back, in both protocol eras, checked with the official SDK's own types."""

from __future__ import annotations

import json

import pytest
from mcp import types
from mcp.shared import inbound
from mcp.types import jsonrpc

import mcp_wire

SERVER = types.Implementation(name="odoo-aia", version="19.0")
MODERN = "2026-07-28"
META = {types.PROTOCOL_VERSION_META_KEY: MODERN, types.CLIENT_CAPABILITIES_META_KEY: {}}


class Tools(mcp_wire.Handler):
    """One tool, ``demo.echo``; records the calls that reached it."""

    def __init__(self):
        self.calls = []

    def list_tools(self):
        return [types.Tool(name="demo.echo", input_schema={"type": "object"})]

    def call_tool(self, name, arguments):
        if name != "demo.echo":
            raise mcp_wire.McpError(jsonrpc.INVALID_PARAMS, f"Unknown tool: {name}.")
        self.calls.append(arguments)
        return types.CallToolResult(content=[types.TextContent(text="echo")], structured_content=arguments)


def serve(body, headers=None, handler=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return mcp_wire.serve(raw, headers or {}, handler or Tools(), SERVER)


def request(method, params=None, id_=1):
    body = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        body["params"] = params
    return body


def modern_headers(method, name=None):
    headers = {inbound.MCP_PROTOCOL_VERSION_HEADER: MODERN, inbound.MCP_METHOD_HEADER: method}
    if name:
        headers[inbound.MCP_NAME_HEADER] = name
    return headers


def test_initialize_answers_the_version_asked_when_known_else_the_latest():
    hello = {"capabilities": {}, "clientInfo": {"name": "c", "version": "1"}}
    answer = serve(request("initialize", {"protocolVersion": "2025-03-26", **hello}))
    result = types.InitializeResult.model_validate(answer.body["result"])
    assert (answer.status, result.protocol_version, result.server_info.name) == (
        200,
        "2025-03-26",
        "odoo-aia",
    )
    assert result.capabilities.tools is not None and result.capabilities.resources is None
    newer = serve(request("initialize", {"protocolVersion": "2099-01-01", **hello}))
    assert newer.body["result"]["protocolVersion"] == "2025-11-25"


def test_a_handshake_era_call_runs_and_its_result_has_that_era_shape():
    handler = Tools()
    answer = serve(
        request("tools/call", {"name": "demo.echo", "arguments": {"a": 1}}),
        {inbound.MCP_PROTOCOL_VERSION_HEADER: "2025-11-25"},
        handler,
    )
    assert handler.calls == [{"a": 1}]
    assert answer.body["result"]["structuredContent"] == {"a": 1}
    assert "resultType" not in answer.body["result"]


def test_the_2026_envelope_is_checked_against_its_headers():
    handler = Tools()
    params = {"name": "demo.echo", "arguments": {}, "_meta": META}
    ok = serve(request("tools/call", params), modern_headers("tools/call", "demo.echo"), handler)
    assert ok.status == 200 and ok.body["result"]["resultType"] == "complete"
    assert types.SERVER_INFO_META_KEY in ok.body["result"]["_meta"]
    mismatch = serve(request("tools/call", params), modern_headers("tools/call", "demo.other"), handler)
    assert (mismatch.status, mismatch.body["error"]["code"]) == (400, jsonrpc.HEADER_MISMATCH)
    assert len(handler.calls) == 1
    discover = serve(request("server/discover", {"_meta": META}), modern_headers("server/discover"))
    assert types.DiscoverResult.model_validate(discover.body["result"]).supported_versions == [MODERN]
    old = dict(META, **{types.PROTOCOL_VERSION_META_KEY: "2025-11-25"})
    refused = serve(
        request("tools/list", {"_meta": old}),
        dict(modern_headers("tools/list"), **{inbound.MCP_PROTOCOL_VERSION_HEADER: "2025-11-25"}),
    )
    assert refused.body["error"]["code"] == jsonrpc.UNSUPPORTED_PROTOCOL_VERSION


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b"{nope", {}, 400, jsonrpc.PARSE_ERROR),
        ([request("ping")], {}, 400, jsonrpc.INVALID_REQUEST),
        ({"jsonrpc": "1.0", "id": 1, "method": "ping"}, {}, 400, jsonrpc.INVALID_REQUEST),
        (request("resources/list"), {}, 200, jsonrpc.METHOD_NOT_FOUND),
        (request("tools/call", {"arguments": {}}), {}, 200, jsonrpc.INVALID_PARAMS),
        (request("tools/call", {"name": "demo.rm"}), {}, 200, jsonrpc.INVALID_PARAMS),
        (request("ping"), {inbound.MCP_PROTOCOL_VERSION_HEADER: "1999-01-01"}, 200, jsonrpc.INVALID_REQUEST),
        (
            request("resources/list", {"_meta": META}),
            modern_headers("resources/list"),
            404,
            jsonrpc.METHOD_NOT_FOUND,
        ),
    ],
)
def test_what_is_not_a_served_request_is_an_error_and_runs_nothing(body, headers, status, code):
    handler = Tools()
    answer = serve(body, headers, handler)
    assert (answer.status, answer.body["error"]["code"]) == (status, code)
    assert answer.body["jsonrpc"] == "2.0"
    assert handler.calls == []


def test_a_notification_is_accepted_with_nothing_to_answer():
    answer = serve({"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert (answer.status, answer.body) == (202, None)
