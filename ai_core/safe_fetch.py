"""The one outbound fetch for every URL the suite fetches on someone's behalf.

Web pages of knowledge documents and HTTP tools are URLs typed by AI managers (and, for tool
arguments, partly chosen by a model): left alone, they reach whatever the Odoo server reaches, its
own database manager on loopback, the services of the private network, the cloud's metadata
endpoint. Following OWASP's SSRF prevention rules, :func:`fetch`:

- resolves the host once, refuses the request when any of its addresses is loopback, private,
  link-local, multicast, reserved, unspecified, shared (carrier-grade NAT) or a cloud metadata
  address (IPv4 and IPv6, IPv6 forms that embed an IPv4 address judged by that address), unless
  the system parameter ``aia.fetch_allowed_hosts`` lists the host name, the address or a network
  holding it (metadata addresses: the address itself or the host name, never a network);
- connects to the very addresses it checked: the host name is not looked up a second time, so a
  DNS answer that changes between the check and the connection (DNS rebinding) changes nothing;
- checks every redirect the same way before following it (or follows none, as the caller asks);
- bounds the whole exchange, connection and download included, by one timeout, and the body by a
  size cap;
- fails with :class:`FetchError` only, whose text is fit for a user or a model.

Provider base URLs are set by administrators and reached by the SDKs, not through here: a local
model server is normal.
"""

import contextlib
import ipaddress
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests
from urllib3 import Timeout
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import LocationParseError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util import parse_url

from .address_rules import ALLOWED_HOSTS_PARAM, Allowlist, refusal
from .pinned_pools import PinnedHTTPPool, PinnedHTTPSPool

__all__ = [
    "ALLOWED_HOSTS_PARAM",
    "Allowlist",
    "FetchError",
    "FetchResponse",
    "fetch",
    "host_of",
    "refusal",
]

_logger = logging.getLogger(__name__)

SCHEMES = {"http": 80, "https": 443}
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
CHUNK_SIZE = 8192
USER_AGENT = "Odoo-AI-Agents"


class FetchError(Exception):
    """A fetch refused or failed; ``str(error)`` may be shown to a user or a model.

    Attributes:
        kind: ``refused`` (the address rules), ``timeout``, ``too_large`` or ``failed``.
    """

    def __init__(self, message, kind="failed"):
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class FetchResponse:
    """The answer of the last request (a redirect's, when redirects are not followed)."""

    url: str
    status: int
    headers: dict = field(repr=False)
    content: bytes = field(repr=False)

    @property
    def content_type(self):
        """The media type, lower case, without parameters (``""`` when not given)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def charset(self):
        """The charset the server declared, or None."""
        for parameter in self.headers.get("content-type", "").split(";")[1:]:
            name, _sep, value = parameter.partition("=")
            if name.strip().lower() == "charset" and value.strip().strip('"'):
                return value.strip().strip('"')
        return None


def host_of(url):
    """The host of ``url`` as the fetch reads it (lower case, no brackets), or ``""``.

    Host checks of callers (an HTTP tool's allowed domains) use this parser, so that they judge
    the host the fetch connects to.
    """
    try:
        host = parse_url(url).host or ""
    except LocationParseError:
        return ""
    return host.strip("[]").lower().rstrip(".")


def fetch(
    url,
    *,
    allowlist,
    method="GET",
    params=None,
    json=None,
    data=None,
    headers=None,
    timeout=30,
    max_bytes=10 * 1024 * 1024,
    max_redirects=0,
):
    """Send one request (and follow up to ``max_redirects`` redirects) under the rules above.

    Args:
        url: An http or https URL.
        allowlist: The :class:`Allowlist` of the administrator (usually ``Allowlist.from_env``).
        method: The HTTP method.
        params: Query arguments, encoded as ``requests`` does.
        json: A JSON body.
        data: A body already encoded (bytes), sent as it is.
        headers: Request headers; not sent again after a redirect to another host.
        timeout: Seconds for the whole exchange, name lookups, connections, redirects and
            download included.
        max_bytes: The largest body accepted (after decompression).
        max_redirects: 0 returns a redirect as it is; more follows that many at most.

    Returns:
        FetchResponse: the last answer, whatever its status.

    Raises:
        FetchError: refused, too slow, too large, too many redirects, or the request failed.
    """
    try:
        request = requests.Request(
            method, url, params=params, json=json, data=data, headers=headers
        ).prepare()
    except (requests.RequestException, ValueError):
        raise FetchError("the URL is not valid", kind="refused") from None
    deadline = time.monotonic() + timeout
    sockets = []
    outcome = {}

    def run():
        try:
            outcome["response"] = _exchange(request, allowlist, deadline, max_bytes, max_redirects, sockets)
        except Exception as exc:  # noqa: BLE001 - handed over to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="aia-fetch", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        # Wake a read (or a connection) the worker is blocked in; it then ends on its own.
        for sock in list(sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        raise FetchError(f"no complete answer within {timeout:g} s", kind="timeout")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["response"]


# === INTERNALS === #


def _exchange(request, allowlist, deadline, max_bytes, max_redirects, sockets):
    """The requests of one fetch: the first one, then each redirect followed."""
    method, url, body = request.method, request.url, request.body
    headers = {"User-Agent": USER_AGENT, **request.headers}
    for _hop in range(max_redirects + 1):
        response = _send(method, url, body, headers, allowlist, deadline, max_bytes, sockets)
        location = response.headers.get("location")
        if not (max_redirects and response.status in REDIRECT_STATUSES and location):
            return response
        target = requests.utils.requote_uri(urljoin(url, location))
        if response.status not in (307, 308) and method != "HEAD":
            method, body = "GET", None
            headers = {
                name: value
                for name, value in headers.items()
                if name.lower() not in ("content-type", "content-length")
            }
        if _origin(target) != _origin(url):
            # What was meant for one server (keys in headers) does not follow to another.
            headers = {"User-Agent": USER_AGENT}
            if body is not None and "Content-Type" in request.headers:
                headers["Content-Type"] = request.headers["Content-Type"]
        url = target
    raise FetchError(f"more than {max_redirects} redirects")


def _origin(url):
    parsed = parse_url(url)
    return (parsed.scheme, host_of(url), parsed.port or SCHEMES.get(parsed.scheme or ""))


def _send(method, url, body, headers, allowlist, deadline, max_bytes, sockets):
    """One request to the checked addresses of ``url``'s host."""
    try:
        parsed = parse_url(url)
    except LocationParseError:
        raise FetchError("the URL is not valid", kind="refused") from None
    scheme = (parsed.scheme or "").lower()
    host = host_of(url)
    if scheme not in SCHEMES or not host:
        raise FetchError("only http and https URLs with a host are fetched", kind="refused")
    if parsed.auth:
        raise FetchError("URLs with a user name or password are not fetched", kind="refused")
    port = parsed.port or SCHEMES[scheme]
    addresses = _checked_addresses(host, port, allowlist)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError("no answer in time", kind="timeout")
    options = {
        "timeout": Timeout(connect=remaining, read=remaining),
        "maxsize": 1,
        "retries": False,
        "aia_addresses": addresses,
        "aia_sockets": sockets,
    }
    if scheme == "https":
        pool = PinnedHTTPSPool(
            parsed.host, port, cert_reqs="CERT_REQUIRED", ca_certs=requests.certs.where(), **options
        )
    else:
        pool = PinnedHTTPPool(parsed.host, port, **options)
    try:
        with pool:
            response = pool.urlopen(
                method,
                parsed.request_uri,
                body=body,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            try:
                content = _read(response, max_bytes, deadline)
            finally:
                response.release_conn()
    except FetchError:
        raise
    except NewConnectionError:
        raise FetchError(f"the connection to {host} failed") from None
    except (Urllib3Timeout, TimeoutError):
        raise FetchError("no answer in time", kind="timeout") from None
    except (Urllib3Error, OSError) as exc:
        # Its text may quote the request: its kind only.
        raise FetchError(f"the request failed ({type(exc).__name__})") from None
    return FetchResponse(
        url=url,
        status=response.status,
        headers={name.lower(): value for name, value in response.headers.items()},
        content=content,
    )


def _checked_addresses(host, port, allowlist):
    """The addresses of ``host`` (one lookup), when every one of them may be fetched."""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        # An address needs no lookup (shorthands such as 127.1 or 2130706433 get one below).
        family, sockaddr = (
            (socket.AF_INET, (host, port)) if literal.version == 4 else (socket.AF_INET6, (host, port, 0, 0))
        )
        infos = [(family, socket.SOCK_STREAM, 0, "", sockaddr)]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise FetchError(f"the host {host} could not be resolved") from None
    addresses = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6) or (family, sockaddr) in addresses:
            continue
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        reason = refusal(address)
        if reason and not allowlist.allows(host, address):
            _logger.info("outbound fetch refused: %s resolves to %s (%s)", host, address, reason)
            shown = host if literal is not None else f"{host} ({address})"
            raise FetchError(
                f"{shown} is {reason}: the request was refused. An administrator may allow it in the "
                f"system parameter {ALLOWED_HOSTS_PARAM}.",
                kind="refused",
            )
        addresses.append((family, sockaddr))
    if not addresses:
        raise FetchError(f"the host {host} has no address")
    return tuple(addresses)


def _read(response, max_bytes, deadline):
    """The body, refused as soon as it is larger than ``max_bytes`` or late."""
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise FetchError(f"the response is larger than {max_bytes} bytes", kind="too_large")
    content = bytearray()
    for chunk in response.stream(CHUNK_SIZE, decode_content=True):
        content += chunk
        if len(content) > max_bytes:
            raise FetchError(f"the response is larger than {max_bytes} bytes", kind="too_large")
        if time.monotonic() > deadline:
            raise FetchError("no complete answer in time", kind="timeout")
    return bytes(content)
