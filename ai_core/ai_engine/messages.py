"""Messages, content blocks and the request / response shapes exchanged with model adapters.

The transcript is provider-neutral: ``user`` and ``assistant`` messages carry text and tool-use
blocks, and every tool result is its own ``tool`` message. Adapters translate this to each
provider's wire format (Anthropic groups tool results into one user turn; OpenAI sends one
``tool`` message per result).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Union

__all__ = [
    "ContentBlock",
    "Message",
    "ModelRequest",
    "ModelResponse",
    "Role",
    "StopReason",
    "StreamText",
    "TextBlock",
    "TokenUsage",
    "ToolDefinition",
    "ToolResultBlock",
    "ToolUseBlock",
]

Role = Literal["user", "assistant", "tool"]
StopReason = Literal["end_turn", "tool_use", "max_tokens", "refusal", "stop_sequence", "other"]


@dataclass(frozen=True)
class TextBlock:
    """Plain text written by the user or the model."""

    text: str
    type: Literal["text"] = "text"


@dataclass(frozen=True)
class ToolUseBlock:
    """A tool call requested by the model.

    Attributes:
        id: Provider-issued call id, echoed back in the matching result.
        name: The tool's wire name (``finance_get_gl_balance``).
        input: Parsed arguments; empty when ``input_error`` is set.
        input_error: Why the raw arguments could not be parsed as a JSON object, if they could not.
    """

    id: str
    name: str
    input: dict[str, Any] = field(default_factory=dict)
    input_error: str | None = None
    type: Literal["tool_use"] = "tool_use"


@dataclass(frozen=True)
class ToolResultBlock:
    """The outcome of one tool call, as the model will read it."""

    tool_use_id: str
    content: str
    is_error: bool = False
    type: Literal["tool_result"] = "tool_result"


ContentBlock = Union[TextBlock, ToolUseBlock, ToolResultBlock]
_BLOCK_TYPES: dict[str, type] = {"text": TextBlock, "tool_use": ToolUseBlock, "tool_result": ToolResultBlock}


@dataclass(frozen=True)
class Message:
    """One transcript entry."""

    role: Role
    content: tuple[ContentBlock, ...]

    @classmethod
    def user(cls, text: str) -> Message:
        return cls("user", (TextBlock(text),))

    @classmethod
    def assistant(cls, text: str) -> Message:
        return cls("assistant", (TextBlock(text),))

    @classmethod
    def tool_result(cls, tool_use_id: str, content: str, *, is_error: bool = False) -> Message:
        return cls("tool", (ToolResultBlock(tool_use_id, content, is_error),))

    @property
    def text(self) -> str:
        """The concatenated text blocks."""
        return "".join(block.text for block in self.content if isinstance(block, TextBlock))

    @property
    def tool_uses(self) -> tuple[ToolUseBlock, ...]:
        return tuple(block for block in self.content if isinstance(block, ToolUseBlock))

    @property
    def tool_results(self) -> tuple[ToolResultBlock, ...]:
        return tuple(block for block in self.content if isinstance(block, ToolResultBlock))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form, for persistence."""
        return {"role": self.role, "content": [_block_to_dict(block) for block in self.content]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        blocks = tuple(_BLOCK_TYPES[item["type"]](**item) for item in data["content"])
        return cls(data["role"], blocks)


def _block_to_dict(block: ContentBlock) -> dict[str, Any]:
    data = dict(vars(block))
    if isinstance(block, ToolUseBlock):
        data["input"] = dict(block.input)
    return data


@dataclass(frozen=True)
class ToolDefinition:
    """A tool as offered to a provider."""

    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class TokenUsage:
    """Tokens of one provider call, normalised across providers.

    ``input_tokens`` excludes cached tokens: OpenAI's ``prompt_tokens`` include them, so the
    OpenAI adapter subtracts ``cached_tokens`` to match Anthropic's accounting.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
        )


@dataclass(frozen=True)
class ModelRequest:
    """Everything an adapter needs for one provider call.

    Attributes:
        model: Provider model id.
        system: The full system prompt (agent prompt, rules, summary).
        messages: The windowed transcript, oldest first, ending with a user or tool message.
        tools: Tools offered for this call.
        max_tokens: Upper bound on output tokens.
        timeout: Seconds this call may take, the turn deadline included.
        temperature: Sampling temperature, provider default when None.
    """

    model: str
    system: str
    messages: tuple[Message, ...]
    tools: tuple[ToolDefinition, ...] = ()
    max_tokens: int = 4096
    timeout: float = 60.0
    temperature: float | None = None


@dataclass(frozen=True)
class StreamText:
    """A fragment of assistant text, yielded while the response streams."""

    text: str


@dataclass(frozen=True)
class ModelResponse:
    """The complete response of one provider call; the last item an adapter's stream yields."""

    message: Message
    stop_reason: StopReason
    usage: TokenUsage
    model: str
    provider: str = ""
    #: Attempts the SDK retried before this one answered (429, 5xx, connection errors).
    retries: int = 0
