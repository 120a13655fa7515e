"""A local HTTP server for tests, and a base for the request handlers it serves.

Every fake service of the tests (provider APIs, web pages, web services, a Qdrant server) starts
the same way: bound to a free port of a loopback address, serving from a daemon thread, stopped
quickly. Only the standard library is used.

Example::

    class Pages(QuietHandler):
        def do_GET(self):
            self.server.hits.append(self.path)
            self.send_body(200, b"<p>Hi</p>", "text/html")

    server = LocalServer(Pages, hits=[]).start()
    ...
    server.stop()
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["LocalServer", "QuietHandler"]

_logger = logging.getLogger(__name__)


class LocalServer(ThreadingHTTPServer):
    """A threaded HTTP server on a free port of ``host``, serving ``handler`` once started.

    Keyword arguments become attributes of the server, which its handlers read as
    ``self.server.<name>`` (what they record, what they answer).
    """

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", **state: Any) -> None:
        super().__init__((host, 0), handler)
        for name, value in state.items():
            setattr(self, name, value)
        self._serving: threading.Thread | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Handler threads report broken connections themselves; keep tracebacks off stderr."""

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """``http://<host>:<port>``, without a trailing slash."""
        return f"http://{self.server_address[0]}:{self.port}"

    def start(self, name: str | None = None) -> LocalServer:
        """Serve in a daemon thread (called ``name``); returns the server."""
        # A short poll interval keeps stop() quick; the default 0.5 s adds up over a test suite.
        self._serving = threading.Thread(
            target=self.serve_forever, args=(0.05,), name=name or type(self).__name__, daemon=True
        )
        self._serving.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._serving is not None:
            self.shutdown()
        self.server_close()
        if self._serving is not None:
            self._serving.join(timeout=5)
            self._serving = None


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps the test output clean and answers a body in one call."""

    def log_message(self, fmt: str, *args: Any) -> None:
        _logger.debug("local server: %s", fmt % args)

    def send_body(
        self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None
    ) -> None:
        """Answer ``status`` with ``body`` of ``content_type`` and its length, plus ``headers``."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def send_json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        """Answer ``status`` with ``payload`` as JSON."""
        self.send_body(status, json.dumps(payload).encode(), "application/json", headers)
