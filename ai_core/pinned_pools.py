"""urllib3 connection pools that connect to addresses checked beforehand (the suite's one outbound
fetch, :mod:`safe_fetch`): the host is never looked up again, so DNS rebinding changes nothing."""

import socket

from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

__all__ = ["PinnedHTTPPool", "PinnedHTTPSPool"]


class _PinnedConnection:
    """Connects to the addresses checked before the request, never to a new lookup of the host.

    The host name still names the server in the ``Host`` header, for SNI and for the certificate
    check. Each socket is recorded so that the caller can wake it when the time is up.
    """

    def __init__(self, *args, aia_addresses, aia_sockets, **kwargs):
        super().__init__(*args, **kwargs)
        self._aia_addresses = aia_addresses
        self._aia_sockets = aia_sockets

    def _new_conn(self):
        error = None
        for family, sockaddr in self._aia_addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            self._aia_sockets.append(sock)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                sock.settimeout(self.timeout)
                sock.connect(sockaddr)
                return sock
            except TimeoutError:
                sock.close()
                raise ConnectTimeoutError(self, f"connection to {self.host} timed out") from None
            except OSError as exc:
                sock.close()
                error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")


class _PinnedHTTPConnection(_PinnedConnection, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedConnection, HTTPSConnection):
    pass


class PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection
