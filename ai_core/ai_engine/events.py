"""The events a turn yields. Their ``type`` names are what the SSE API emits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Literal, Union

from .messages import TokenUsage

__all__ = [
    "ApprovalRequired",
    "Done",
    "Error",
    "TextDelta",
    "ToolCall",
    "ToolDeferred",
    "ToolResult",
    "ToolStatus",
    "TurnEvent",
    "Usage",
    "WouldExecute",
]

ToolStatus = Literal["ok", "error", "timeout", "shadowed", "denied"]


class _Event:
    type: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form (Decimals become strings) with the event ``type`` first."""
        return {"type": self.type, **{key: _plain(value) for key, value in asdict(self).items()}}  # type: ignore[call-overload]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value


@dataclass(frozen=True)
class TextDelta(_Event):
    type: ClassVar[str] = "text_delta"
    text: str


@dataclass(frozen=True)
class ToolCall(_Event):
    """The model asked for a tool; ``arguments`` are redacted for display and audit."""

    type: ClassVar[str] = "tool_call"
    call_id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ToolResult(_Event):
    """The outcome of a tool call, with what the audit log stores.

    Every field is safe to store and serve: the model reads the tool's own text, which this
    event never carries (the runner keeps it in the transcript of the running turn only).

    Attributes:
        content: The text the model was given, redacted (:func:`~ai_engine.redaction.redact`
            with the tool's keys, then secrets found in the text) and truncated to the turn's
            ``max_result_chars``; not wrapped. The tool message the sink receives has the same.
        arguments: Redacted arguments.
        output: Redacted raw output (None when the tool did not run).
        result_size: Characters of the serialised output before redaction and truncation.
        citations: The knowledge passages this result gave the model, as ``[n]`` cites them
            (a tool declared with ``cites``); left out of :meth:`to_dict` when there are none.
    """

    type: ClassVar[str] = "tool_result"
    call_id: str
    name: str
    status: ToolStatus
    content: str
    arguments: dict[str, Any] = field(default_factory=dict)
    output: Any = None
    result_size: int = 0
    latency_ms: int = 0
    cost: Decimal = Decimal(0)
    citations: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return _with_citations(super().to_dict(), self.citations)


@dataclass(frozen=True)
class _HeldWrite(_Event):
    """A write tool call that did not run: its validated arguments and what it would do."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    preview: str


@dataclass(frozen=True)
class WouldExecute(_HeldWrite):
    """Shadow mode: a write tool that would have run with these validated arguments."""

    type: ClassVar[str] = "would_execute"


@dataclass(frozen=True)
class ApprovalRequired(_HeldWrite):
    """A write tool waits for a decision; the turn stops after this event and resumes with it."""

    type: ClassVar[str] = "approval_required"


@dataclass(frozen=True)
class ToolDeferred(_Event):
    """A tool handed its call to work that runs outside the turn (another agent's session): the
    turn stops after this event and resumes with the call's result (``ToolAnswer``).

    Attributes:
        reason: What the call waits for, for people.
        ref: Where that work is, for the UI and the audit (e.g. ``{"session_id": 42}``).
    """

    type: ClassVar[str] = "tool_deferred"
    call_id: str
    name: str
    arguments: dict[str, Any]
    reason: str
    ref: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Usage(_Event):
    """One provider call; :meth:`to_dict` adds its ``total_tokens``."""

    type: ClassVar[str] = "usage"
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost: Decimal
    latency_ms: int

    @property
    def tokens(self) -> TokenUsage:
        return TokenUsage(
            self.input_tokens, self.output_tokens, self.cache_read_tokens, self.cache_write_tokens
        )

    @property
    def total_tokens(self) -> int:
        """Every token of the call, cached ones included: the one definition of a total."""
        return self.tokens.total

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "total_tokens": self.total_tokens}


@dataclass(frozen=True)
class Error(_Event):
    """Why the turn could not finish normally; ``code`` is stable, ``message`` is for people."""

    type: ClassVar[str] = "error"
    code: str
    message: str
    retry_after: float | None = None


@dataclass(frozen=True)
class Done(_Event):
    """The last event of every turn.

    Attributes:
        stop_reason: ``end_turn``, ``max_tokens``, ``refusal``, ``approval_required``,
            ``tool_deferred``, ``budget_exceeded`` or ``error``.
        text: The final assistant text of the turn.
        citations: The knowledge passages the answer cites as ``[n]`` (document, page,
            offsets), of those the model was given in the turn (retrieved before the answer,
            then the turn's tool results); left out of :meth:`to_dict` when there are none.
    """

    type: ClassVar[str] = "done"
    stop_reason: str
    text: str = ""
    citations: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return _with_citations(super().to_dict(), self.citations)


def _with_citations(data: dict[str, Any], citations: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    if citations:
        data["citations"] = [dict(item) for item in citations]
    else:
        del data["citations"]
    return data


TurnEvent = Union[
    TextDelta, ToolCall, ToolResult, WouldExecute, ApprovalRequired, ToolDeferred, Usage, Error, Done
]
