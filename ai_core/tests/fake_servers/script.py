"""What the fake provider servers are scripted with, and what they record: replies, tool calls,
usage figures, HTTP errors, received requests. Provider-neutral; each server renders them in its
own wire format."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

__all__ = ["FakeHTTPError", "FakeReply", "FakeToolCall", "FakeUsage", "RecordedRequest", "ScriptedReply"]


@dataclass(frozen=True)
class FakeUsage:
    """Token figures of a scripted reply, in the engine's normalised accounting.

    ``input_tokens`` excludes cached tokens. The OpenAI server reports
    ``prompt_tokens = input + cache_read + cache_write`` with ``cached_tokens = cache_read``, as the
    real API does, so both servers normalise back to the same :class:`~ai_engine.messages.TokenUsage`.
    """

    input_tokens: int = 12
    output_tokens: int = 7
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True)
class FakeToolCall:
    """A tool call in a scripted reply.

    Attributes:
        name: Tool name the model calls.
        arguments: A dict (serialised as JSON) or a raw string sent as is, e.g. malformed JSON.
        id: Call id; generated when None.
    """

    name: str
    arguments: Union[Mapping[str, Any], str] = field(default_factory=dict)
    id: str | None = None

    @property
    def raw_arguments(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(dict(self.arguments))


@dataclass(frozen=True)
class FakeReply:
    """A scripted streamed reply (HTTP 200).

    Attributes:
        text: Assistant text; a string is split into word-sized fragments, a sequence is sent
            fragment by fragment as given.
        tool_calls: Tool calls, after the text.
        stop_reason: Provider-native stop / finish reason; derived from the content when None
            (``tool_use`` / ``end_turn`` for Anthropic, ``tool_calls`` / ``stop`` for OpenAI).
        stop_sequence: Anthropic only: the matched stop sequence reported in ``message_delta``.
        usage: Token figures reported by the reply.
        model: Model id reported; the request's model when None.
        json_chunk_size: Tool arguments are split into fragments of this many characters.
        cut_after: Close the socket abruptly after this many wire events (pings and the
            role chunk count), without ending the body.
        error_after: Send a provider error event after this many wire events, then end the body.
        error_type: The ``error.type`` of that event.
        end_after: End the body normally after this many wire events, without the closing
            events, as a proxy that loses its upstream may do.
        event_delay: Seconds to sleep before each event; the server default when None.
        cumulative_delta_usage: Anthropic only: ``message_delta`` repeats every usage figure (the
            current API); when False it carries ``output_tokens`` only (older API versions).
        interleave_tool_calls: OpenAI only: send the argument fragments of several tool calls
            interleaved instead of one call after the other.
        usage_chunk: OpenAI only: whether to end with a usage chunk; by default when the request
            asked ``stream_options.include_usage`` (False mimics servers that ignore it).
    """

    text: Union[str, Sequence[str]] = ""
    tool_calls: tuple[FakeToolCall, ...] = ()
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: FakeUsage = field(default_factory=FakeUsage)
    model: str | None = None
    json_chunk_size: int = 5
    cut_after: int | None = None
    error_after: int | None = None
    error_type: str = "overloaded_error"
    end_after: int | None = None
    event_delay: float | None = None
    cumulative_delta_usage: bool = True
    interleave_tool_calls: bool = False
    usage_chunk: bool | None = None

    @property
    def text_fragments(self) -> list[str]:
        if isinstance(self.text, str):
            return re.findall(r"\S+\s*|\s+", self.text)
        return [fragment for fragment in self.text]

    def json_fragments(self, call: FakeToolCall) -> list[str]:
        raw = call.raw_arguments
        size = max(1, self.json_chunk_size)
        return [raw[i : i + size] for i in range(0, len(raw), size)]


@dataclass(frozen=True)
class FakeHTTPError:
    """A scripted HTTP error answer, with the provider's real JSON error shape.

    Attributes:
        status: HTTP status.
        error_type: The body's ``error.type``; derived from the status when None.
        message: The body's ``error.message``.
        headers: Extra response headers, e.g. ``retry-after``, ``retry-after-ms``, ``x-should-retry``.
    """

    status: int
    error_type: str | None = None
    message: str = "Scripted error"
    headers: Mapping[str, str] = field(default_factory=dict)


ScriptedReply = Union[FakeReply, FakeHTTPError]


@dataclass(frozen=True)
class RecordedRequest:
    """One request received by a fake server.

    Attributes:
        method: HTTP method.
        path: Request path, query string included.
        headers: Request headers, names lower-cased.
        body: The parsed JSON body; the raw text when it was not JSON; None when empty.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: Any
