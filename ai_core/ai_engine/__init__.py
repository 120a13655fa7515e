"""The agent engine: plain, typed, synchronous Python that knows nothing of Odoo.

Provider SDKs are imported only when an adapter is built, so importing this package is cheap.
"""

from __future__ import annotations

from .budgets import BudgetStop, Limits, SessionUsage
from .clock import SystemClock
from .errors import (
    AuthenticationError,
    BadRequestError,
    ConnectionFailed,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    ServerError,
    StreamInterrupted,
)
from .events import (
    ApprovalRequired,
    Done,
    Error,
    TextDelta,
    ToolCall,
    ToolDeferred,
    ToolResult,
    TurnEvent,
    Usage,
    WouldExecute,
)
from .messages import (
    Message,
    ModelRequest,
    ModelResponse,
    StreamText,
    TextBlock,
    TokenUsage,
    ToolDefinition,
    ToolResultBlock,
    ToolUseBlock,
)
from .pricing import ModelPrice, PriceTable
from .redaction import CappedText, cap_text, redact, redact_text
from .resilience import CircuitBreaker, FallbackChain, Link, Permit
from .runner import (
    AgentConfig,
    ApprovalDecision,
    ToolAnswer,
    Turn,
    TurnRunner,
    answered_in_turn,
    waiting_call_id,
)
from .tools import (
    Deferred,
    MemoryCallLedger,
    RateLimiter,
    ThreadedToolContext,
    ToolDenied,
    ToolInputError,
    ToolRegistry,
    ToolSpec,
    ToolTimeout,
)

__all__ = [
    "AgentConfig",
    "ApprovalDecision",
    "ApprovalRequired",
    "AuthenticationError",
    "BadRequestError",
    "BudgetStop",
    "CappedText",
    "CircuitBreaker",
    "ConnectionFailed",
    "Deferred",
    "Done",
    "Error",
    "FallbackChain",
    "Limits",
    "Link",
    "MemoryCallLedger",
    "Message",
    "ModelPrice",
    "ModelRequest",
    "ModelResponse",
    "Permit",
    "PriceTable",
    "ProviderError",
    "ProviderUnavailable",
    "RateLimited",
    "RateLimiter",
    "ServerError",
    "SessionUsage",
    "StreamInterrupted",
    "StreamText",
    "SystemClock",
    "TextBlock",
    "TextDelta",
    "ThreadedToolContext",
    "TokenUsage",
    "ToolAnswer",
    "ToolCall",
    "ToolDefinition",
    "ToolDeferred",
    "ToolDenied",
    "ToolInputError",
    "ToolRegistry",
    "ToolResult",
    "ToolResultBlock",
    "ToolSpec",
    "ToolTimeout",
    "ToolUseBlock",
    "Turn",
    "TurnEvent",
    "TurnRunner",
    "Usage",
    "WouldExecute",
    "answered_in_turn",
    "cap_text",
    "redact",
    "redact_text",
    "waiting_call_id",
]
