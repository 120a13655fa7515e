"""Errors raised by model adapters and the resilience layer.

Adapters translate every SDK exception into one of these classes, so callers decide by type,
never by matching message strings.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConnectionFailed",
    "ProviderError",
    "ProviderUnavailable",
    "RateLimited",
    "ServerError",
    "StreamInterrupted",
]


class ProviderError(Exception):
    """A provider call failed.

    Attributes:
        provider: Label of the provider that failed.
        status: HTTP status when the provider answered one.
        retry_after: Seconds the provider (or the circuit breaker) asks callers to wait, if known.
        code: Stable machine-readable name of the failure, used in `error` events.
    """

    code = "provider_error"
    #: Whether the failure says the provider is unavailable (counts towards its circuit breaker).
    availability = True

    def __init__(
        self, message: str, *, provider: str = "", status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.retry_after = retry_after


class AuthenticationError(ProviderError):
    code = "provider_auth"
    availability = False


class BadRequestError(ProviderError):
    code = "provider_bad_request"
    availability = False


class RateLimited(ProviderError):
    code = "provider_rate_limited"


class ServerError(ProviderError):
    """5xx answers, including Anthropic's 529 "overloaded"."""

    code = "provider_server_error"


class ConnectionFailed(ProviderError):
    """No answer: refused connection, DNS failure or timeout."""

    code = "provider_connection"


class StreamInterrupted(ProviderError):
    """The response started streaming and then broke; never retried (the user saw part of it)."""

    code = "provider_stream_interrupted"


class ProviderUnavailable(ProviderError):
    """Every provider of the chain failed or has its circuit open."""

    code = "provider_unavailable"
