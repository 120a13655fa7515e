"""The provider-neutral part of the fake provider servers: the script queue, the recorded
requests, and a request handler that answers with a scripted error or streams a scripted reply as
the chunks the subclass renders."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any, TypeVar, Union

from .local_http import LocalServer, QuietHandler
from .script import FakeHTTPError, FakeReply, FakeToolCall, RecordedRequest, ScriptedReply

__all__ = ["FakeProviderServer", "sse"]

_Server = TypeVar("_Server", bound="FakeProviderServer")


class _CutStream(Exception):
    """Raised inside a handler to drop the connection in the middle of a body."""


class FakeProviderServer:
    """Threaded HTTP server shared by the provider fakes; subclasses render the wire formats."""

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
        self._httpd: LocalServer | None = None
        self._counter = 0

    # --- lifecycle ---

    def start(self: _Server) -> _Server:
        """Bind a free loopback port and serve in a daemon thread."""
        if self._httpd is None:
            self._httpd = LocalServer(_make_handler(self)).start(type(self).__name__)
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.stop()

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
        return self._httpd.port

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


def sse(data: Any, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def _make_handler(server: FakeProviderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        # HTTP/1.1 so the SDK keeps the connection alive between retries and accepts chunked bodies.
        protocol_version = "HTTP/1.1"

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
            request_id = {server.request_id_header: server._next_id("req_fake_")}
            self.send_json(
                status, server._error_body(status, error_type, message), {**request_id, **(headers or {})}
            )

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
