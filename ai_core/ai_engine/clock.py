"""The real clock; tests use :class:`ai_engine.testing.FakeClock`."""

from __future__ import annotations

import time
from datetime import datetime, timezone

__all__ = ["SystemClock"]


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(timezone.utc)
