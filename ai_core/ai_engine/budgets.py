"""Turn and session budgets, checked before every provider request and every tool call."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from .messages import TokenUsage
from .ports import Clock

__all__ = ["BudgetStop", "BudgetTracker", "Limits", "SessionUsage"]


@dataclass(frozen=True)
class Limits:
    """Bounds of one turn; None means unbounded for the token and cost limits.

    Attributes:
        max_tool_calls: Tool calls per turn.
        max_iterations: Provider requests per turn.
        turn_deadline: Seconds a turn may run, provider and tool time included.
        max_output_tokens: Output tokens asked for per provider request.
        max_turn_tokens: Tokens (input, output and cache) per turn.
        max_turn_cost: Cost per turn, provider calls and priced tools.
        max_session_tokens: Tokens per session, this turn included.
        max_session_cost: Cost per session, this turn included.
        max_result_chars: Characters of a tool result the model reads; the rest is cut.
    """

    max_tool_calls: int = 20
    max_iterations: int = 10
    turn_deadline: float = 60.0
    max_output_tokens: int = 4096
    max_turn_tokens: int | None = None
    max_turn_cost: Decimal | None = None
    max_session_tokens: int | None = None
    max_session_cost: Decimal | None = None
    max_result_chars: int = 20_000

    def tightened(self, **bounds: Any) -> Limits:
        """These limits with each of ``bounds`` (a field name and a bound; None: no bound)
        applied where it is lower: an extension may tighten limits, never loosen them."""
        changes = {}
        for name, bound in bounds.items():
            if bound is not None:
                current = getattr(self, name)
                changes[name] = bound if current is None else min(current, bound)
        return replace(self, **changes)


@dataclass(frozen=True)
class SessionUsage:
    """What the session consumed before this turn."""

    tokens: int = 0
    cost: Decimal = Decimal(0)


@dataclass(frozen=True)
class BudgetStop:
    """Why a turn must stop; ``message`` is shown to the user and stored as the final answer."""

    code: str
    message: str


class BudgetTracker:
    """Counts what a turn uses and says when the next step would exceed a limit."""

    def __init__(
        self,
        limits: Limits,
        clock: Clock,
        session: SessionUsage | None = None,
        earlier: SessionUsage | None = None,
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._session = session or SessionUsage()
        # What the turn spent before it stopped for a decision or a deferred call: a resumed
        # turn goes on within what is left (the session's figures include it already).
        self._earlier = earlier or SessionUsage()
        self._deadline = clock.monotonic() + limits.turn_deadline
        self.iterations = 0
        self.tool_calls = 0
        self.usage = TokenUsage()
        self.cost = Decimal(0)

    def remaining_seconds(self) -> float:
        return self._deadline - self._clock.monotonic()

    def deadline_stop(self) -> BudgetStop | None:
        if self.remaining_seconds() <= 0:
            return BudgetStop(
                "budget_deadline",
                f"The turn reached its time limit of {self.limits.turn_deadline:g} seconds.",
            )
        return None

    def check_request(self) -> BudgetStop | None:
        """Whether one more provider request is allowed."""
        limits = self.limits
        if self.iterations >= limits.max_iterations:
            return BudgetStop(
                "budget_iterations", f"The turn reached its limit of {limits.max_iterations} model calls."
            )
        return self.deadline_stop() or self._spend_stop()

    def check_tool_call(self) -> BudgetStop | None:
        """Whether one more tool call is allowed."""
        if self.tool_calls >= self.limits.max_tool_calls:
            return BudgetStop(
                "budget_tool_calls", f"The turn reached its limit of {self.limits.max_tool_calls} tool calls."
            )
        return self.deadline_stop() or self._spend_stop()

    def max_output_tokens(self) -> int:
        """Output tokens to ask for: never more than what is left of the token budgets."""
        room = [self.limits.max_output_tokens]
        if self.limits.max_turn_tokens is not None:
            room.append(self.limits.max_turn_tokens - self._earlier.tokens - self.usage.total)
        if self.limits.max_session_tokens is not None:
            room.append(self.limits.max_session_tokens - self._session.tokens - self.usage.total)
        return min(room)

    def add_request(self, usage: TokenUsage, cost: Decimal, *, iteration: bool = True) -> None:
        """Count a provider request; ``iteration=False``: not a step of the agent's loop (the
        memory's summary), whose tokens and cost count all the same."""
        self.iterations += int(iteration)
        self.usage = self.usage + usage
        self.cost += cost

    def add_tool_call(self, cost: Decimal) -> None:
        self.tool_calls += 1
        self.cost += cost

    def _spend_stop(self) -> BudgetStop | None:
        limits, tokens = self.limits, self.usage.total
        if limits.max_turn_tokens is not None and self._earlier.tokens + tokens >= limits.max_turn_tokens:
            return BudgetStop(
                "budget_turn_tokens", f"The turn used its budget of {limits.max_turn_tokens} tokens."
            )
        if (
            limits.max_session_tokens is not None
            and self._session.tokens + tokens >= limits.max_session_tokens
        ):
            return BudgetStop(
                "budget_session_tokens", f"The session used its budget of {limits.max_session_tokens} tokens."
            )
        if limits.max_turn_cost is not None and self._earlier.cost + self.cost >= limits.max_turn_cost:
            return BudgetStop("budget_turn_cost", f"The turn used its cost budget of {limits.max_turn_cost}.")
        if limits.max_session_cost is not None and self._session.cost + self.cost >= limits.max_session_cost:
            return BudgetStop(
                "budget_session_cost", f"The session used its cost budget of {limits.max_session_cost}."
            )
        return None
