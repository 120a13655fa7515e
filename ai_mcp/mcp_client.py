"""Outside MCP servers as tools: the official SDK's client (``mcp.Client`` on the Streamable HTTP
transport) speaks the protocol, and every HTTP request it makes goes through the suite's one
outbound fetch (:func:`safe_fetch.fetch`): the server's addresses are checked (and pinned) as for
HTTP tools, redirects are not followed, one deadline bounds the whole exchange and each answer is
refused above a size cap before the SDK reads it. No Odoo here: the ``aia.mcp.server`` model
gives the URL, headers, allowlist of addresses, timeout and cap.

Odoo workers are synchronous: each listing or call runs its own event loop (``anyio.run``) and
opens, uses and closes one MCP connection.
"""

import contextlib
import functools
import json
import time

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from odoo.addons.ai_core.ai_engine import ToolInputError, ToolTimeout
from odoo.addons.ai_core.logging_filter import REDACTED
from odoo.addons.ai_core.safe_fetch import Allowlist, FetchError, fetch

__all__ = ["McpServerError", "RemoteTool", "call_tool", "list_tools"]

# Pages of tools/list read at most (a server could page forever).
MAX_PAGES = 20
# Header values shorter than this are not masked (they would mask ordinary words).
MIN_MASKED_LENGTH = 6
# Headers httpx sets for its own connection; the fetch sets its own.
_HOP_HEADERS = {"host", "content-length", "connection", "accept-encoding", "transfer-encoding"}
# The fetch hands over a decoded body: its encoding headers no longer describe it.
_DECODED_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}


class McpServerError(Exception):
    """Listing or calling failed; ``str(error)`` may be shown to an administrator or a model.

    Attributes:
        kind: ``timeout``, ``refused`` (address rules), ``too_large``, ``malformed``, ``error``
            (the server answered a JSON-RPC error) or ``failed``.
    """

    def __init__(self, message, kind="failed"):
        super().__init__(message)
        self.kind = kind


class RemoteTool:
    """What discovery keeps of a remote tool."""

    def __init__(self, name, description, input_schema, read_only):
        self.name = name
        self.description = description
        self.input_schema = input_schema
        self.read_only = read_only


class _FetchTransport(httpx2.AsyncBaseTransport):
    """The SDK's HTTP requests, each sent by the safe fetch within the exchange's deadline.

    The GET stream a server may offer for its own requests and notifications is answered 405
    here (the SDK then goes without it): a tool call needs only the answers to its POSTs, and an
    open stream would hold the worker until the deadline.
    """

    def __init__(self, allowlist, deadline, max_bytes):
        self.allowlist = allowlist
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.errors = []

    async def handle_async_request(self, request):
        if request.method == "GET":
            return httpx2.Response(405, request=request)
        body = await request.aread()
        headers = {name: value for name, value in request.headers.items() if name.lower() not in _HOP_HEADERS}
        remaining = self.deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise FetchError("no complete answer in time", kind="timeout")
            response = await anyio.to_thread.run_sync(
                functools.partial(
                    fetch,
                    str(request.url),
                    allowlist=self.allowlist,
                    method=request.method,
                    data=body or None,
                    headers=headers,
                    timeout=remaining,
                    max_bytes=self.max_bytes,
                    max_redirects=0,
                ),
                abandon_on_cancel=True,
            )
        except FetchError as exc:
            self.errors.append(exc)
            raise httpx2.TransportError(str(exc)) from None
        kept = {name: value for name, value in response.headers.items() if name not in _DECODED_HEADERS}
        return httpx2.Response(response.status, headers=kept, content=response.content, request=request)


def list_tools(url, *, headers=None, allowlist=None, timeout=30, max_bytes=1_000_000):
    """The tools ``url``'s MCP server offers.

    Returns:
        list[RemoteTool]

    Raises:
        McpServerError
    """

    async def work(client):
        tools, cursor = [], None
        for _page in range(MAX_PAGES):
            result = await client.list_tools(cursor=cursor)
            tools.extend(result.tools)
            cursor = result.next_cursor
            if not cursor:
                break
        return [
            RemoteTool(
                name=tool.name,
                description=tool.description or tool.title or "",
                input_schema=tool.input_schema or {"type": "object"},
                read_only=bool(tool.annotations and tool.annotations.read_only_hint),
            )
            for tool in tools
        ]

    return _run(url, work, headers, allowlist, timeout, max_bytes)


def call_tool(url, name, arguments, *, headers=None, allowlist=None, timeout=30, max_bytes=200_000):
    """Call tool ``name`` of ``url``'s MCP server.

    Returns:
        The structured content when the server gives one, else the text of its content blocks.

    Raises:
        McpServerError: also when the tool reported an error (``isError``), with its text.
    """

    async def work(client):
        return await client.call_tool(name, arguments)

    result = _run(url, work, headers, allowlist, timeout, max_bytes)
    text = "\n".join(_block_text(block) for block in result.content)
    if result.is_error:
        raise McpServerError(text or "the tool reported an error", kind="error")
    if result.structured_content is not None:
        return result.structured_content
    if len(result.content) == 1 and text.lstrip().startswith(("{", "[")):
        # A tool without an output schema often sends its JSON as text: give the model the data.
        with contextlib.suppress(ValueError):
            return json.loads(text)
    return text


def make_mcp_handler(*, url, tool_name, headers, allowlist, timeout, max_bytes):
    """A tool handler calling ``tool_name`` on the server; failures become the tool errors the
    model reads (a timeout as :class:`ToolTimeout`), header values masked in them."""
    headers = {str(name).strip(): str(value).strip() for name, value in (headers or {}).items()}
    secrets = sorted(
        (value for value in headers.values() if len(value) >= MIN_MASKED_LENGTH), key=len, reverse=True
    )

    def mask(text):
        for secret in secrets:
            text = text.replace(secret, REDACTED)
        return text

    def handler(ctx, args):
        try:
            return call_tool(
                url,
                tool_name,
                dict(args),
                headers=headers,
                allowlist=allowlist,
                timeout=timeout,
                max_bytes=max_bytes,
            )
        except McpServerError as exc:
            if exc.kind == "timeout":
                raise ToolTimeout(f"no complete answer within {timeout:g} s") from None
            raise ToolInputError(mask(str(exc))) from None

    return handler


# === INTERNALS === #


def _block_text(block):
    text = getattr(block, "text", None)
    if isinstance(text, str):
        return text
    return f"[{getattr(block, 'type', 'content')} content not shown]"


def _run(url, work, headers, allowlist, timeout, max_bytes):
    """Connect to ``url``, run ``work(client)``, close; failures as :class:`McpServerError`."""
    transport = _FetchTransport(allowlist or Allowlist(), time.monotonic() + timeout, max_bytes)

    async def main():
        with anyio.fail_after(timeout):
            async with httpx2.AsyncClient(transport=transport, headers=headers or {}) as http:
                async with Client(
                    streamable_http_client(url, http_client=http, terminate_on_close=False),
                    cache=None,
                    read_timeout_seconds=timeout,
                ) as client:
                    return await work(client)

    try:
        return anyio.run(main)
    except Exception as exc:  # noqa: BLE001 - task groups wrap what failed
        raise _translate(_innermost(exc), transport) from None


def _innermost(exc):
    while len(getattr(exc, "exceptions", ())) == 1:
        exc = exc.exceptions[0]
    return exc


def _translate(exc, transport):
    if transport.errors:
        # What the fetch refused says more than what the SDK made of it.
        error = transport.errors[-1]
        kind = error.kind if error.kind in ("timeout", "refused", "too_large") else "failed"
        return McpServerError(f"MCP server: {error}", kind=kind)
    if isinstance(exc, TimeoutError):
        return McpServerError("MCP server: no complete answer in time", kind="timeout")
    if isinstance(exc, MCPError):
        return McpServerError(f"MCP server error: {exc}", kind="error")
    if isinstance(exc, ValidationError):
        return McpServerError("MCP server: the answer was malformed", kind="malformed")
    return McpServerError(f"MCP server: the exchange failed ({type(exc).__name__})")
