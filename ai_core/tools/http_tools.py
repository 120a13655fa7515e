"""HTTP tools configured in the UI: one request per call to an allow-listed host."""

import json
import string
from urllib.parse import quote, urlsplit

from ..ai_engine import ToolInputError, ToolTimeout
from ..logging_filter import REDACTED
from ..safe_fetch import Allowlist, FetchError, fetch, host_of

METHODS_WITH_BODY = {"POST", "PUT", "PATCH"}
SCHEMES = {"http", "https"}
# Header values shorter than this are not masked in responses (they would mask ordinary words).
MIN_MASKED_LENGTH = 6


def host_allowed(url, allowed_domains):
    """Whether ``url``'s host is one of ``allowed_domains`` or a subdomain of one.

    The host is read as the fetch reads it, so the host checked is the host reached.
    """
    host = host_of(url)
    for domain in allowed_domains:
        domain = domain.strip().lower()
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


def placeholders(url):
    """The argument names ``url`` takes, e.g. ``{"id"}`` for ``https://h/items/{id}``."""
    return {field for _text, field, _spec, _conv in string.Formatter().parse(url) if field}


def make_http_handler(*, url, method, headers, allowed_domains, timeout, max_bytes, allowlist=None):
    """A tool handler sending the arguments as query (GET, DELETE) or JSON body (others).

    ``url`` may hold ``{placeholders}`` filled from the arguments of the same name; their values
    are percent-encoded, so an argument can change neither the host nor the rest of the path, and
    they are not sent a second time in the query or body. ``timeout`` bounds the whole call,
    download included; the response is refused above ``max_bytes``. ``headers`` (which may hold
    secrets) are sent as configured and their values are masked in what the model reads back.

    Requests go through the suite's one outbound fetch: a host that resolves to a loopback,
    private, link-local or metadata address is refused unless ``allowlist`` (the administrator's
    ``aia.fetch_allowed_hosts``; empty when not given) opens it. Redirects are not followed.
    """
    allowlist = allowlist or Allowlist()
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
            host = host_of(target) or "?"
            raise ToolInputError(
                f"host {host!r} is not in this tool's allowed domains; the request was not sent"
            )
        rest = {name: value for name, value in arguments.items() if name not in in_url}
        try:
            response = fetch(
                target,
                allowlist=allowlist,
                method=method,
                params=None if method in METHODS_WITH_BODY else rest,
                json=rest if method in METHODS_WITH_BODY else None,
                headers=headers,
                timeout=timeout,
                max_bytes=max_bytes,
                max_redirects=0,
            )
        except FetchError as exc:
            if exc.kind == "timeout":
                raise ToolTimeout(f"no complete answer within {timeout:g} s") from None
            raise ToolInputError(mask(str(exc))) from None
        status, content = response.status, response.content
        if 300 <= status < 400:
            raise ToolInputError(f"HTTP {status}: redirects are not followed")
        text = content.decode(response.charset or "utf-8", errors="replace")
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
