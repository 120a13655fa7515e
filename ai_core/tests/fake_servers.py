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
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar, Union

__all__ = [
    "FakeAnthropicServer",
    "FakeHTTPError",
    "FakeOpenAIServer",
    "FakeReply",
    "FakeToolCall",
    "FakeUsage",
    "RecordedRequest",
    "ScriptedReply",
]

_logger = logging.getLogger(__name__)


# === SCRIPT TYPES === #


@dataclass(frozen=True)
class FakeUsage:
    """Token figures of a scripted reply, in the engine's normalised accounting.

    ``input_tokens`` excludes cached tokens. The OpenAI server reports
    ``prompt_tokens = input + cache_read + cache_write`` with ``cached_tokens = cache_read``, as the
    real API does, so both servers normalise back to the same :class:`~ai_engine.messages.TokenUsage`.
    """

    input_tokens: int = 12
    output_tokens: int = 7
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True)
class FakeToolCall:
    """A tool call in a scripted reply.

    Attributes:
        name: Tool name the model calls.
        arguments: A dict (serialised as JSON) or a raw string sent as is, e.g. malformed JSON.
        id: Call id; generated when None.
    """

    name: str
    arguments: Union[Mapping[str, Any], str] = field(default_factory=dict)
    id: str | None = None

    @property
    def raw_arguments(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(dict(self.arguments))


@dataclass(frozen=True)
class FakeReply:
    """A scripted streamed reply (HTTP 200).

    Attributes:
        text: Assistant text; a string is split into word-sized fragments, a sequence is sent
            fragment by fragment as given.
        tool_calls: Tool calls, after the text.
        stop_reason: Provider-native stop / finish reason; derived from the content when None
            (``tool_use`` / ``end_turn`` for Anthropic, ``tool_calls`` / ``stop`` for OpenAI).
        stop_sequence: Anthropic only: the matched stop sequence reported in ``message_delta``.
        usage: Token figures reported by the reply.
        model: Model id reported; the request's model when None.
        json_chunk_size: Tool arguments are split into fragments of this many characters.
        cut_after: Close the socket abruptly after this many wire events (pings and the
            role chunk count), without ending the body.
        error_after: Send a provider error event after this many wire events, then end the body.
        error_type: The ``error.type`` of that event.
        end_after: End the body normally after this many wire events, without the closing
            events, as a proxy that loses its upstream may do.
        event_delay: Seconds to sleep before each event; the server default when None.
        cumulative_delta_usage: Anthropic only: ``message_delta`` repeats every usage figure (the
            current API); when False it carries ``output_tokens`` only (older API versions).
        interleave_tool_calls: OpenAI only: send the argument fragments of several tool calls
            interleaved instead of one call after the other.
        usage_chunk: OpenAI only: whether to end with a usage chunk; by default when the request
            asked ``stream_options.include_usage`` (False mimics servers that ignore it).
    """

    text: Union[str, Sequence[str]] = ""
    tool_calls: tuple[FakeToolCall, ...] = ()
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: FakeUsage = field(default_factory=FakeUsage)
    model: str | None = None
    json_chunk_size: int = 5
    cut_after: int | None = None
    error_after: int | None = None
    error_type: str = "overloaded_error"
    end_after: int | None = None
    event_delay: float | None = None
    cumulative_delta_usage: bool = True
    interleave_tool_calls: bool = False
    usage_chunk: bool | None = None

    @property
    def text_fragments(self) -> list[str]:
        if isinstance(self.text, str):
            return re.findall(r"\S+\s*|\s+", self.text)
        return [fragment for fragment in self.text]

    def json_fragments(self, call: FakeToolCall) -> list[str]:
        raw = call.raw_arguments
        size = max(1, self.json_chunk_size)
        return [raw[i : i + size] for i in range(0, len(raw), size)]


@dataclass(frozen=True)
class FakeHTTPError:
    """A scripted HTTP error answer, with the provider's real JSON error shape.

    Attributes:
        status: HTTP status.
        error_type: The body's ``error.type``; derived from the status when None.
        message: The body's ``error.message``.
        headers: Extra response headers, e.g. ``retry-after``, ``retry-after-ms``, ``x-should-retry``.
    """

    status: int
    error_type: str | None = None
    message: str = "Scripted error"
    headers: Mapping[str, str] = field(default_factory=dict)


ScriptedReply = Union[FakeReply, FakeHTTPError]


@dataclass(frozen=True)
class RecordedRequest:
    """One request received by a fake server.

    Attributes:
        method: HTTP method.
        path: Request path, query string included.
        headers: Request headers, names lower-cased.
        body: The parsed JSON body; the raw text when it was not JSON; None when empty.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: Any


_Server = TypeVar("_Server", bound="_FakeServer")


class _CutStream(Exception):
    """Raised inside a handler to drop the connection in the middle of a body."""


# === SERVER BASE === #


class _FakeServer:
    """Threaded HTTP server shared by both fakes; subclasses render the wire formats."""

    #: Path suffix the server answers; any prefix is accepted so custom base URLs can be checked.
    endpoint_suffix = ""
    #: Path appended to ``url`` to form what the SDK calls its base URL.
    base_path = ""
    request_id_header = "request-id"

    def __init__(self, *, api_key: str | None = None, event_delay: float = 0.0) -> None:
        """Prepare a server; it listens once started.

        Args:
            api_key: When set, requests without this key get the provider's 401 answer (the
                scripted queue is left untouched).
            event_delay: Default seconds to sleep before each streamed event.
        """
        self.api_key = api_key
        self.event_delay = event_delay
        self._lock = threading.Lock()
        self._script: deque[ScriptedReply] = deque()
        self._requests: list[RecordedRequest] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._counter = 0

    # --- lifecycle ---

    def start(self: _Server) -> _Server:
        """Bind a free loopback port and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        handler = _make_handler(self)
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        # Handler threads report broken connections themselves; keep tracebacks off stderr.
        httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self._httpd = httpd
        # A short poll interval keeps stop() quick; the default 0.5 s adds up over a test suite.
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(0.05,), name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self: _Server) -> _Server:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The base URL to give the provider's SDK."""
        return self.url + self.base_path

    # --- scripting ---

    def add(self, *replies: ScriptedReply) -> None:
        """Queue scripted replies; each request consumes the oldest one."""
        with self._lock:
            self._script.extend(replies)

    def add_text(self, text: Union[str, Sequence[str]], **options: Any) -> None:
        """Queue a text reply; ``options`` are further :class:`FakeReply` fields."""
        self.add(FakeReply(text=text, **options))

    def add_tool_calls(
        self, *calls: FakeToolCall, text: Union[str, Sequence[str]] = "", **options: Any
    ) -> None:
        """Queue a reply calling tools, optionally after some text."""
        self.add(FakeReply(text=text, tool_calls=tuple(calls), **options))

    def add_error(
        self,
        status: int,
        *,
        error_type: str | None = None,
        message: str = "Scripted error",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Queue an HTTP error answer."""
        self.add(FakeHTTPError(status, error_type, message, dict(headers or {})))

    @property
    def pending(self) -> int:
        """How many scripted replies are still queued."""
        with self._lock:
            return len(self._script)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            return self._requests[-1]

    def reset(self) -> None:
        """Forget queued replies and recorded requests."""
        with self._lock:
            self._script.clear()
            self._requests.clear()

    # --- hooks for the handler ---

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_reply(self) -> ScriptedReply | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}{self._counter:04d}"

    def _authorised(self, headers: Mapping[str, str]) -> bool:
        if self.api_key is None:
            return True
        return headers.get("authorization") == f"Bearer {self.api_key}"

    # --- rendering, per provider ---

    def _error_body(self, status: int, error_type: str | None, message: str) -> dict[str, Any]:
        raise NotImplementedError

    def _events(self, reply: FakeReply, body: Any) -> Iterator[bytes]:
        raise NotImplementedError

    def _stream_error_event(self, reply: FakeReply) -> bytes:
        raise NotImplementedError


def _sse(data: Any, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def _make_handler(server: _FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1 so the SDK keeps the connection alive between retries and accepts chunked bodies.
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args: Any) -> None:
            _logger.debug("fake server: %s", fmt % args)

        def do_GET(self) -> None:
            self._record(None)
            self._send_error(404, "not_found_error", "Not found")

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            body: Any = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
            headers = self._record(body)
            if not self.path.split("?", 1)[0].endswith(server.endpoint_suffix):
                self._send_error(404, None, f"Unknown path {self.path}")
                return
            if not server._authorised(headers):
                self._send_error(401, None, "invalid api key")
                return
            reply = server._next_reply()
            if reply is None:
                # Not retryable, so a test that under-scripts fails fast with a clear message.
                self._send_error(
                    400, None, "fake server: no scripted reply left", {"x-should-retry": "false"}
                )
            elif isinstance(reply, FakeHTTPError):
                self._send_error(reply.status, reply.error_type, reply.message, reply.headers)
            else:
                self._stream(reply, body)

        def _record(self, body: Any) -> dict[str, str]:
            headers = {name.lower(): value for name, value in self.headers.items()}
            server._record(RecordedRequest(self.command, self.path, headers, body))
            return headers

        def _send_error(
            self, status: int, error_type: str | None, message: str, headers: Mapping[str, str] | None = None
        ) -> None:
            payload = json.dumps(server._error_body(status, error_type, message)).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.send_header(server.request_id_header, server._next_id("req_fake_"))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()

        def _stream(self, reply: FakeReply, body: Any) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream; charset=utf-8")
            self.send_header("cache-control", "no-cache")
            self.send_header("transfer-encoding", "chunked")
            self.send_header(server.request_id_header, server._next_id("req_fake_"))
            self.end_headers()
            self.wfile.flush()
            delay = server.event_delay if reply.event_delay is None else reply.event_delay
            try:
                for sent, event in enumerate(server._events(reply, body)):
                    if reply.cut_after is not None and sent >= reply.cut_after:
                        raise _CutStream
                    if reply.error_after is not None and sent >= reply.error_after:
                        self._write_chunk(server._stream_error_event(reply), delay)
                        break
                    if reply.end_after is not None and sent >= reply.end_after:
                        break
                    self._write_chunk(event, delay)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except _CutStream:
                self._cut()
            except OSError:
                # The client went away (e.g. it stopped reading after an error); nothing to do.
                self.close_connection = True

        def _write_chunk(self, data: bytes, delay: float) -> None:
            if delay:
                time.sleep(delay)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def _cut(self) -> None:
            # Abrupt close with the chunked body unterminated: the client sees a broken stream.
            self.close_connection = True
            # The client may have hung up first: the connection is closed either way.
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    return Handler


# === ANTHROPIC === #

_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class FakeAnthropicServer(_FakeServer):
    """Fake of the Anthropic Messages API (``POST /v1/messages``, streamed).

    Accepts the key as ``x-api-key`` or ``Authorization: Bearer``. Emits ``message_start`` (usage
    with cache figures), ``ping``, ``content_block_start`` / ``content_block_delta`` (``text_delta``;
    ``input_json_delta`` fragments, the first one empty) / ``content_block_stop`` per block,
    ``message_delta`` (stop reason, cumulative usage) and ``message_stop``; mid-stream errors as
    ``event: error``. The SDK's base URL is the server root.
    """

    endpoint_suffix = "/v1/messages"
    base_path = ""
    request_id_header = "request-id"

    def _authorised(self, headers: Mapping[str, str]) -> bool:
        if self.api_key is None:
            return True
        return headers.get("x-api-key") == self.api_key or super()._authorised(headers)

    def _error_body(self, status: int, error_type: str | None, message: str) -> dict[str, Any]:
        kind = (
            error_type
            or _ANTHROPIC_ERROR_TYPES.get(status)
            or ("api_error" if status >= 500 else "invalid_request_error")
        )
        return {
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": self._next_id("req_fake_"),
        }

    def _stream_error_event(self, reply: FakeReply) -> bytes:
        body = {"type": "error", "error": {"type": reply.error_type, "message": "Overloaded"}}
        return _sse(body, "error")

    def _events(self, reply: FakeReply, body: Any) -> Iterator[bytes]:
        usage = reply.usage
        model = reply.model or (body.get("model") if isinstance(body, dict) else None) or "claude-fake"
        start_usage = {
            "input_tokens": usage.input_tokens,
            "cache_creation_input_tokens": usage.cache_write_tokens,
            "cache_read_input_tokens": usage.cache_read_tokens,
            # The real API reports a provisional output count here; the final one is in message_delta.
            "output_tokens": 1,
        }
        message = {
            "id": self._next_id("msg_fake_"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": start_usage,
        }
        yield _sse({"type": "message_start", "message": message}, "message_start")
        yield _sse({"type": "ping"}, "ping")
        index = 0
        fragments = reply.text_fragments
        if fragments:
            yield _sse(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                },
                "content_block_start",
            )
            for fragment in fragments:
                delta = {"type": "text_delta", "text": fragment}
                yield _sse(
                    {"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta"
                )
            yield _sse({"type": "content_block_stop", "index": index}, "content_block_stop")
            index += 1
        for call in reply.tool_calls:
            block = {
                "type": "tool_use",
                "id": call.id or self._next_id("toolu_fake_"),
                "name": call.name,
                "input": {},
            }
            yield _sse(
                {"type": "content_block_start", "index": index, "content_block": block}, "content_block_start"
            )
            # The real API opens every tool input with an empty fragment.
            for fragment in ["", *reply.json_fragments(call)]:
                delta = {"type": "input_json_delta", "partial_json": fragment}
                yield _sse(
                    {"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta"
                )
            yield _sse({"type": "content_block_stop", "index": index}, "content_block_stop")
            index += 1
        stop_reason = reply.stop_reason or ("tool_use" if reply.tool_calls else "end_turn")
        final_usage: dict[str, Any] = {"output_tokens": usage.output_tokens}
        if reply.cumulative_delta_usage:
            final_usage = {
                "input_tokens": usage.input_tokens,
                "cache_creation_input_tokens": usage.cache_write_tokens,
                "cache_read_input_tokens": usage.cache_read_tokens,
                "output_tokens": usage.output_tokens,
            }
        delta = {"stop_reason": stop_reason, "stop_sequence": reply.stop_sequence}
        yield _sse({"type": "message_delta", "delta": delta, "usage": final_usage}, "message_delta")
        yield _sse({"type": "message_stop"}, "message_stop")


# === OPENAI === #

_OPENAI_ERRORS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}


class FakeOpenAIServer(_FakeServer):
    """Fake of OpenAI Chat Completions (``POST …/chat/completions``, streamed).

    Emits ``data: {chunk}`` lines: a role chunk, text deltas, tool-call fragments keyed by
    ``tool_calls[].index`` (id and name only in the first fragment of each call), a chunk with the
    ``finish_reason``, then, when the request asked ``stream_options.include_usage``, a usage chunk
    with empty ``choices`` and ``prompt_tokens_details.cached_tokens``, then ``data: [DONE]``.
    Mid-stream errors are sent as ``data: {"error": {...}}`` (OpenRouter, vLLM). The SDK's base
    URL is ``url + "/v1"``; any path ending in ``/chat/completions`` is answered.
    """

    endpoint_suffix = "/chat/completions"
    base_path = "/v1"
    request_id_header = "x-request-id"

    def _error_body(self, status: int, error_type: str | None, message: str) -> dict[str, Any]:
        default_type, code = _OPENAI_ERRORS.get(
            status, ("server_error" if status >= 500 else "invalid_request_error", None)
        )
        return {
            "error": {"message": message, "type": error_type or default_type, "param": None, "code": code}
        }

    def _stream_error_event(self, reply: FakeReply) -> bytes:
        return _sse({"error": {"message": "The server had an error", "type": reply.error_type, "code": None}})

    def _events(self, reply: FakeReply, body: Any) -> Iterator[bytes]:
        request = body if isinstance(body, dict) else {}
        model = reply.model or request.get("model") or "gpt-fake"
        include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
        if reply.usage_chunk is not None:
            include_usage = reply.usage_chunk
        base = {
            "id": self._next_id("chatcmpl-fake"),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_fake",
        }

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            data = {
                **base,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }
            if include_usage:
                # With include_usage the real API sends a null usage on every chunk but the last.
                data["usage"] = None
            return _sse(data)

        yield chunk({"role": "assistant", "content": "", "refusal": None})
        for fragment in reply.text_fragments:
            yield chunk({"content": fragment})
        calls = [
            (index, call, call.id or self._next_id("call_fake_"))
            for index, call in enumerate(reply.tool_calls)
        ]
        for index, call, call_id in calls:
            first = {
                "index": index,
                "id": call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            if not reply.interleave_tool_calls:
                yield chunk({"tool_calls": [first]})
                for fragment in reply.json_fragments(call):
                    yield chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
            else:
                yield chunk({"tool_calls": [first]})
        if reply.interleave_tool_calls:
            pending = {index: deque(reply.json_fragments(call)) for index, call, _ in calls}
            while any(pending.values()):
                for index in sorted(pending):
                    if pending[index]:
                        fragment = pending[index].popleft()
                        yield chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
        finish_reason = reply.stop_reason or ("tool_calls" if reply.tool_calls else "stop")
        yield chunk({}, finish_reason)
        if include_usage:
            usage = reply.usage
            details: dict[str, Any] = {"cached_tokens": usage.cache_read_tokens, "audio_tokens": 0}
            if usage.cache_write_tokens:
                details["cache_write_tokens"] = usage.cache_write_tokens
            prompt = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
            usage_data = {
                "prompt_tokens": prompt,
                "completion_tokens": usage.output_tokens,
                "total_tokens": prompt + usage.output_tokens,
                "prompt_tokens_details": details,
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
            }
            yield _sse({**base, "choices": [], "usage": usage_data})
        yield _sse("[DONE]")
