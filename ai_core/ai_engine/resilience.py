"""Circuit breakers and the fallback chain of model adapters.

Retries with backoff and jitter are the SDKs' own (``max_retries`` on each adapter): they retry
429, 5xx and connection errors, honour ``retry-after``, and only before the response starts
streaming. This module adds what the SDKs lack: a breaker per provider and a chain that moves on
to the next provider when one fails before its first streamed byte.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from opentelemetry import trace

from . import tracing
from .clock import SystemClock
from .errors import ProviderError, ProviderUnavailable
from .messages import ModelRequest
from .ports import Clock, ModelAdapter, ModelStreamItem

__all__ = ["CircuitBreaker", "FallbackChain", "Link", "Permit"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Permit:
    """Leave for one call through a :class:`CircuitBreaker`, compared by identity.

    Attributes:
        trial: Whether this call is the half-open trial: its verdict closes or reopens the breaker.
    """

    trial: bool = False


class CircuitBreaker:
    """Opens after ``failure_threshold`` consecutive availability failures.

    While open, calls are refused for ``cooldown`` seconds; then one trial call is let through
    (half-open): its success closes the breaker, its failure opens it again. A trial that ends
    with no verdict (cancelled, stopped by a deadline, an unexpected exception) must be given
    back with :meth:`release`: the breaker stays half-open and the next call is a new trial.
    """

    def __init__(
        self, failure_threshold: int = 5, cooldown: float = 30.0, clock: Clock | None = None
    ) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self._clock = clock or SystemClock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial: Permit | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half_open``."""
        if self._opened_at is None:
            return "closed"
        return "half_open" if self.retry_after() == 0 else "open"

    def retry_after(self) -> float:
        """Seconds until a trial call is allowed (0 when allowed now)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.cooldown - self._clock.monotonic())

    def permit(self) -> Permit | None:
        """Leave for a call now, or None when refused; in half-open state one trial at a time.

        The caller must end every permit it got with :meth:`record_success`,
        :meth:`record_failure` or :meth:`release`, whatever way the call ends.
        """
        with self._lock:
            if self._opened_at is None:
                return Permit()
            if self.retry_after() > 0 or self._trial is not None:
                return None
            self._trial = Permit(trial=True)
            return self._trial

    def acquire(self) -> bool:
        """Whether a call may go through now (see :meth:`permit`, which callers should prefer)."""
        return self.permit() is not None

    def record_success(self, permit: Permit | None = None) -> None:
        """The provider answered: the breaker closes.

        Args:
            permit: The call's permit; any success closes the breaker and ends a running trial.
        """
        with self._lock:
            self._failures, self._opened_at, self._trial = 0, None, None

    def record_failure(self, permit: Permit | None = None) -> None:
        """The provider is unavailable: one more consecutive failure; a failed trial reopens.

        Args:
            permit: The call's permit; without one, a running trial is taken as the failed call.
        """
        with self._lock:
            self._failures += 1
            trial = self._trial is not None and (permit is None or permit is self._trial)
            if trial:
                self._trial = None
            if trial or self._failures >= self.failure_threshold:
                self._opened_at = self._clock.monotonic()

    def release(self, permit: Permit) -> None:
        """End a call with no verdict on the provider; a trial's slot goes to the next call."""
        with self._lock:
            if permit is self._trial:
                self._trial = None


@dataclass(frozen=True)
class Link:
    """One provider of a fallback chain: its adapter, the model id to ask it for, its breaker."""

    adapter: ModelAdapter
    model: str
    breaker: CircuitBreaker


class FallbackChain:
    """A model adapter that tries each link in order.

    A link is skipped while its breaker is open. A failure before the first streamed item moves
    on to the next link; a failure after it is raised as is, since the user already saw part of
    that answer. When every link failed or is open, :class:`ProviderUnavailable` says when to retry.
    A call that ends with no verdict on its provider (the caller closed the stream, the turn
    deadline stopped it, an exception that is not a :class:`ProviderError`) releases its permit,
    so a half-open breaker lets the next call be a new trial.
    """

    def __init__(self, links: Sequence[Link]) -> None:
        if not links:
            raise ValueError("a fallback chain needs at least one link")
        self.links = tuple(links)
        self.provider = links[0].adapter.provider

    def stream(self, request: ModelRequest) -> Iterator[ModelStreamItem]:
        errors: list[ProviderError] = []
        # The caller's request span (current while the first item is awaited): the chain notes
        # on it each provider that failed and whether another one answered.
        span = trace.get_current_span()
        attempts = 0
        for index, link in enumerate(self.links):
            permit = link.breaker.permit()
            if permit is None:
                continue
            started = settled = False
            attempts += 1
            try:
                for item in link.adapter.stream(replace(request, model=link.model)):
                    if not started:
                        span.set_attributes(
                            {
                                tracing.AIA_PROVIDER_ATTEMPTS: attempts,
                                tracing.AIA_FALLBACK_USED: index > 0,
                                tracing.GEN_AI_PROVIDER_NAME: link.adapter.provider,
                                tracing.GEN_AI_REQUEST_MODEL: link.model,
                            }
                        )
                    started = True
                    yield item
            except ProviderError as exc:
                settled = True
                if exc.availability:
                    link.breaker.record_failure(permit)
                else:
                    # A bad key or request still proves the provider answers.
                    link.breaker.record_success(permit)
                if started:
                    raise
                span.add_event(
                    tracing.SPAN_PROVIDER_FAILED,
                    {
                        tracing.GEN_AI_PROVIDER_NAME: link.adapter.provider,
                        tracing.GEN_AI_REQUEST_MODEL: link.model,
                        tracing.ERROR_TYPE: exc.code,
                    },
                )
                _logger.warning(
                    "provider %s failed (%s); trying the next one", link.adapter.provider, exc.code
                )
                errors.append(exc)
                continue
            else:
                settled = True
                link.breaker.record_success(permit)
                return
            finally:
                # Closed by the caller (Stop, the turn deadline) or an unexpected exception: no
                # verdict on the provider, but a half-open trial must not hold its slot forever.
                if not settled:
                    link.breaker.release(permit)
        waits = [link.breaker.retry_after() for link in self.links if link.breaker.retry_after() > 0]
        retry_after = min(waits) if waits and len(waits) == len(self.links) else None
        reasons = "; ".join(_labelled(error) for error in errors) or "all circuits open"
        message = "Provider unavailable"
        if retry_after:
            message += f", retry after {retry_after:.0f} seconds"
        raise ProviderUnavailable(f"{message} ({reasons}).", retry_after=retry_after)


def _labelled(error: ProviderError) -> str:
    """``error``'s message naming its provider once (the adapters' messages start with it)."""
    label = f"{error.provider or '?'}: "
    return error.message if error.message.startswith(label) else label + error.message
