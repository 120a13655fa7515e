"""HTTP tools configured in the UI: one request per call to an allow-listed host."""

import contextlib
import json
import socket
import string
import threading
import time
from urllib.parse import quote, urlsplit

import requests

from ..ai_engine import ToolInputError, ToolTimeout
from ..logging_filter import REDACTED

METHODS_WITH_BODY = {"POST", "PUT", "PATCH"}
SCHEMES = {"http", "https"}
CHUNK_SIZE = 8192
# Header values shorter than this are not masked in responses (they would mask ordinary words).
MIN_MASKED_LENGTH = 6


def host_allowed(url, allowed_domains):
    """Whether ``url``'s host is one of ``allowed_domains`` or a subdomain of one."""
    host = (urlsplit(url).hostname or "").lower()
    for domain in allowed_domains:
        domain = domain.strip().lower()
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


def placeholders(url):
    """The argument names ``url`` takes, e.g. ``{"id"}`` for ``https://h/items/{id}``."""
    return {field for _text, field, _spec, _conv in string.Formatter().parse(url) if field}


def make_http_handler(*, url, method, headers, allowed_domains, timeout, max_bytes):
    """A tool handler sending the arguments as query (GET, DELETE) or JSON body (others).

    ``url`` may hold ``{placeholders}`` filled from the arguments of the same name; their values
    are percent-encoded, so an argument can change neither the host nor the rest of the path, and
    they are not sent a second time in the query or body. ``timeout`` bounds the whole call,
    download included; the response is refused above ``max_bytes``. ``headers`` (which may hold
    secrets) are sent as configured and their values are masked in what the model reads back.
    """
    headers = {str(name).strip(): str(value).strip() for name, value in (headers or {}).items()}
    secrets = sorted(
        (value for value in headers.values() if len(value) >= MIN_MASKED_LENGTH), key=len, reverse=True
    )
    in_url = placeholders(url)

    def mask(text):
        for secret in secrets:
            text = text.replace(secret, REDACTED)
        return text

    def handler(ctx, args):
        arguments = dict(args)
        try:
            target = url.format(**{name: quote(str(value), safe="") for name, value in arguments.items()})
        except (KeyError, IndexError, ValueError) as exc:
            raise ToolInputError(f"the URL needs argument {exc}") from None
        if urlsplit(target).scheme.lower() not in SCHEMES:
            raise ToolInputError("only http and https URLs are allowed")
        if not host_allowed(target, allowed_domains):
            host = urlsplit(target).hostname or "?"
            raise ToolInputError(
                f"host {host!r} is not in this tool's allowed domains; the request was not sent"
            )
        rest = {name: value for name, value in arguments.items() if name not in in_url}
        request = {
            "params": None if method in METHODS_WITH_BODY else rest,
            "json": rest if method in METHODS_WITH_BODY else None,
            "headers": headers,
        }
        status, encoding, content = _fetch(method, target, request, timeout, max_bytes)
        if 300 <= status < 400:
            raise ToolInputError(f"HTTP {status}: redirects are not followed")
        text = content.decode(encoding or "utf-8", errors="replace")
        if status >= 400:
            raise ToolInputError(mask(f"HTTP {status}: {text[:500]}"))
        try:
            result = json.loads(content)
        except ValueError:
            return mask(text)
        serialized = json.dumps(result)
        masked = mask(serialized)
        return result if masked == serialized else json.loads(masked)

    return handler


def _fetch(method, url, request, timeout, max_bytes):
    """Send the request; returns (status, encoding, body).

    ``requests``' own timeout bounds each socket read only: a server dripping bytes would never
    trip it. The request runs in a worker thread so that ``timeout`` bounds the whole exchange; on
    expiry the connection is shut down, which ends the worker's pending read.
    """
    deadline = time.monotonic() + timeout
    outcome = {}

    def run():
        try:
            with requests.request(
                method, url, timeout=timeout, stream=True, allow_redirects=False, **request
            ) as response:
                outcome["response"] = response
                body = _read_capped(response, max_bytes, deadline)
                outcome["result"] = (response.status_code, response.encoding, body)
        except Exception as exc:  # noqa: BLE001 - handed over to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="aia-http-tool", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive() or isinstance(outcome.get("error"), _Expired):
        _shutdown(outcome.get("response"))
        raise ToolTimeout(f"no complete answer within {timeout:g} s")
    error = outcome.get("error")
    if isinstance(error, requests.Timeout):
        raise ToolTimeout(f"no answer within {timeout:g} s")
    if isinstance(error, requests.RequestException):
        # Its text may quote the request; the model is told its kind only.
        raise ToolInputError(f"the request failed ({type(error).__name__})")
    if error is not None:
        raise error
    return outcome["result"]


class _Expired(Exception):
    """The worker noticed the deadline between two chunks."""


def _shutdown(response):
    """Wake a read blocked on ``response``'s socket; closing the file would wait for the read."""
    connection = getattr(getattr(response, "raw", None), "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        # Already closed by the worker: nothing left to wake.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _read_capped(response, max_bytes, deadline):
    """The body, refused as soon as it is larger than ``max_bytes`` or late."""
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise ToolInputError(f"the response is larger than {max_bytes} bytes")
    content = bytearray()
    for chunk in response.iter_content(CHUNK_SIZE):
        content += chunk
        if len(content) > max_bytes:
            raise ToolInputError(f"the response is larger than {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise _Expired()
    return bytes(content)
