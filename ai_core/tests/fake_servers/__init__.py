"""Local fake provider servers that speak the real streaming wire formats.

Tests, benchmarks and the Odoo tier point the official SDKs at these servers, so the SDK parses
real bytes and the adapters run unmocked. Each server binds ``127.0.0.1`` on a free port, answers
from a queue of scripted replies and records every request it receives.

Example::

    with FakeAnthropicServer() as server:
        server.add_text("Hello there")
        server.add_error(529, headers={"retry-after-ms": "1"})
        adapter = AnthropicAdapter("sk-test", base_url=server.base_url)
        ...
        assert server.requests[0].body["model"] == "claude-sonnet-4-6"

Only the standard library is used. Responses stream with ``Transfer-Encoding: chunked`` and one
chunk per event, flushed at once, so a client parses them incrementally and an abrupt close in the
middle of the body is seen as a broken stream rather than a normal end.

The modules: ``script`` (what a server is scripted with and records), ``provider_server`` (the
provider-neutral server and handler), ``anthropic_wire`` and ``openai_wire`` (the two wire
formats), ``local_http`` (the local HTTP server every fake service of the tests runs on).
"""

from .anthropic_wire import FakeAnthropicServer
from .local_http import LocalServer, QuietHandler
from .openai_wire import FakeOpenAIServer
from .script import FakeHTTPError, FakeReply, FakeToolCall, FakeUsage, RecordedRequest, ScriptedReply

__all__ = [
    "FakeAnthropicServer",
    "FakeHTTPError",
    "FakeOpenAIServer",
    "FakeReply",
    "FakeToolCall",
    "FakeUsage",
    "LocalServer",
    "QuietHandler",
    "RecordedRequest",
    "ScriptedReply",
]
