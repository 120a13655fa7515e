"""Caps of an automation chain: what they are, what a chain used, and why it may not go on.

A chain is the sessions an action started for the same (model, record), each linked to the one
before (``previous_session_id``); with chaining off, every session is a chain of its own. Its
*resumes* count each session after the first and each resume after an approval decision.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

# Defaults of the caps of a new action, and of the Settings an action's 0 falls back to.
DEFAULT_CAPS = {
    "max_resumes": 50,
    "max_lifetime_hours": 720,
    "max_tokens": 1_000_000,
    "max_cost": 5.0,
}
CAP_PARAMS = {name: f"ai_automation.default_{name}" for name in DEFAULT_CAPS}


@dataclass(frozen=True)
class Caps:
    """The caps of an action, 0 meaning none (the Settings default already applied)."""

    max_resumes: int = 0
    max_lifetime_hours: int = 0
    max_tokens: int = 0
    max_cost: Decimal = Decimal(0)  # in the company's currency


@dataclass(frozen=True)
class ChainStats:
    """What a chain used so far; ``cost`` in the company's currency."""

    started: datetime
    sessions: int = 1
    approvals: int = 0
    tokens: int = 0
    cost: Decimal = Decimal(0)

    @property
    def resumes(self):
        return self.sessions - 1 + self.approvals


def stop_reason(env, caps, stats, now, firing):
    """Why the chain may not go on, or None.

    Args:
        firing: True before a new session is added to the chain (it would be one more resume),
            False before a turn of a session already in it.
    """
    if caps.max_lifetime_hours and now >= stats.started + timedelta(hours=caps.max_lifetime_hours):
        return env._(
            "The chain started on %(start)s UTC passed its lifetime of %(hours)s hours.",
            start=stats.started.strftime("%Y-%m-%d %H:%M"),
            hours=caps.max_lifetime_hours,
        )
    resumes = stats.resumes + (1 if firing else 0)
    if caps.max_resumes and resumes > caps.max_resumes:
        return env._(
            "The chain reached its maximum of %(max)s resumes (sessions after the first and "
            "resumes after an approval).",
            max=caps.max_resumes,
        )
    if caps.max_tokens and stats.tokens >= caps.max_tokens:
        return env._(
            "The chain used %(tokens)s tokens, its maximum is %(max)s.",
            tokens=stats.tokens,
            max=caps.max_tokens,
        )
    if caps.max_cost and stats.cost >= caps.max_cost:
        return env._(
            "The chain cost %(cost)s, its maximum is %(max)s.",
            cost=f"{stats.cost:.2f}",
            max=f"{caps.max_cost:.2f}",
        )
    return None
