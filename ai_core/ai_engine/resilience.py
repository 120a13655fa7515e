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

from .clock import SystemClock
from .errors import ProviderError, ProviderUnavailable
from .messages import ModelRequest
from .ports import Clock, ModelAdapter, ModelStreamItem

__all__ = ["CircuitBreaker", "FallbackChain", "Link"]

_logger = logging.getLogger(__name__)


class CircuitBreaker:
    """Opens after ``failure_threshold`` consecutive availability failures.

    While open, calls are refused for ``cooldown`` seconds; then one trial call is let through
    (half-open): its success closes the breaker, its failure opens it again.
    """

    def __init__(
        self, failure_threshold: int = 5, cooldown: float = 30.0, clock: Clock | None = None
    ) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self._clock = clock or SystemClock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False
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

    def acquire(self) -> bool:
        """Whether a call may go through now; in half-open state only one at a time."""
        with self._lock:
            if self._opened_at is None:
                return True
            if self.retry_after() > 0 or self._trial_running:
                return False
            self._trial_running = True
            return True

    def record_success(self) -> None:
        with self._lock:
            self._failures, self._opened_at, self._trial_running = 0, None, False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            half_open_trial = self._trial_running
            self._trial_running = False
            if half_open_trial or self._failures >= self.failure_threshold:
                self._opened_at = self._clock.monotonic()


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
    """

    def __init__(self, links: Sequence[Link]) -> None:
        if not links:
            raise ValueError("a fallback chain needs at least one link")
        self.links = tuple(links)
        self.provider = links[0].adapter.provider

    def stream(self, request: ModelRequest) -> Iterator[ModelStreamItem]:
        errors: list[ProviderError] = []
        for link in self.links:
            if not link.breaker.acquire():
                continue
            started = False
            try:
                for item in link.adapter.stream(replace(request, model=link.model)):
                    started = True
                    yield item
            except ProviderError as exc:
                if exc.availability:
                    link.breaker.record_failure()
                else:
                    # A bad key or request still proves the provider answers.
                    link.breaker.record_success()
                if started:
                    raise
                _logger.warning(
                    "provider %s failed (%s); trying the next one", link.adapter.provider, exc.code
                )
                errors.append(exc)
                continue
            link.breaker.record_success()
            return
        waits = [link.breaker.retry_after() for link in self.links if link.breaker.retry_after() > 0]
        retry_after = min(waits) if waits and len(waits) == len(self.links) else None
        reasons = (
            "; ".join(f"{error.provider or '?'}: {error.message}" for error in errors) or "all circuits open"
        )
        message = "Provider unavailable"
        if retry_after:
            message += f", retry after {retry_after:.0f} seconds"
        raise ProviderUnavailable(f"{message} ({reasons}).", retry_after=retry_after)
