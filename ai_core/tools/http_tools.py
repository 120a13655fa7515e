"""HTTP tools configured in the UI: one request per call to an allow-listed host."""

import json
from urllib.parse import urlsplit

import requests

from ..ai_engine import ToolInputError

METHODS_WITH_BODY = {"POST", "PUT", "PATCH"}


def host_allowed(url, allowed_domains):
    """Whether ``url``'s host is one of ``allowed_domains`` or a subdomain of one."""
    host = (urlsplit(url).hostname or "").lower()
    for domain in allowed_domains:
        domain = domain.strip().lower()
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


def make_http_handler(*, url, method, headers, allowed_domains, timeout, max_bytes):
    """A tool handler sending the arguments as query (GET, DELETE) or JSON body (others).

    ``url`` may hold ``{placeholders}`` filled from the arguments of the same name.
    """

    def handler(ctx, args):
        arguments = dict(args)
        try:
            target = url.format(**arguments)
        except (KeyError, IndexError, ValueError) as exc:
            raise ToolInputError(f"the URL needs argument {exc}") from None
        if not host_allowed(target, allowed_domains):
            raise ToolInputError(f"host of {target!r} is not in this tool's allowed domains")
        body = arguments if method in METHODS_WITH_BODY else None
        params = None if method in METHODS_WITH_BODY else arguments
        with requests.request(
            method,
            target,
            params=params,
            json=body,
            headers=headers,
            timeout=timeout,
            stream=True,
            allow_redirects=False,
        ) as response:
            content = b""
            for chunk in response.iter_content(8192):
                content += chunk
                if len(content) > max_bytes:
                    raise ToolInputError(f"the response is larger than {max_bytes} bytes")
        text = content.decode(response.encoding or "utf-8", errors="replace")
        if response.status_code >= 400:
            raise ToolInputError(f"HTTP {response.status_code}: {text[:500]}")
        try:
            return json.loads(text)
        except ValueError:
            return text

    return handler
