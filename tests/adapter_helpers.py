"""Shared pieces of the adapter tests: each provider's fake server, adapter and standard request,
and the stream consumers that check the model port's contract."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

import pytest

from ai_engine.anthropic_adapter import DEFAULT_MODEL, AnthropicAdapter
from ai_engine.errors import ProviderError
from ai_engine.messages import (
    Message,
    ModelRequest,
    ModelResponse,
    StreamText,
    TextBlock,
    ToolDefinition,
    ToolUseBlock,
)
from ai_engine.openai_adapter import OpenAIAdapter
from ai_engine.ports import ModelAdapter
from fake_servers import FakeAnthropicServer, FakeOpenAIServer

__all__ = [
    "ANTHROPIC",
    "CLOCK",
    "FAST_RETRY",
    "OPENAI",
    "PROVIDERS",
    "SYSTEM_PROMPT",
    "TWO_TOOL_CALLS",
    "WEATHER",
    "AdapterFactory",
    "FakeServer",
    "ProviderCase",
    "closed_port",
    "fail",
    "run",
]

FakeServer = Union[FakeAnthropicServer, FakeOpenAIServer]
#: Builds an adapter against a running fake server; keyword options go to the constructor.
AdapterFactory = Callable[..., ModelAdapter]

#: Makes the SDK retry at once instead of after its default backoff.
FAST_RETRY = {"retry-after-ms": "1"}
SYSTEM_PROMPT = "You are a careful assistant."
WEATHER = ToolDefinition(
    "get_weather", "Weather of a city", {"type": "object", "properties": {"city": {"type": "string"}}}
)
CLOCK = ToolDefinition("get_time", "Current time", {"type": "object", "properties": {}})
#: A transcript that opens a tool round: the user asks two things, the assistant calls a tool for each.
TWO_TOOL_CALLS = (
    Message.user("Weather in Lyon and the time?"),
    Message(
        "assistant",
        (
            TextBlock("Checking."),
            ToolUseBlock("call_1", "get_weather", {"city": "Lyon"}),
            ToolUseBlock("call_2", "get_time", {}),
        ),
    ),
)


@dataclass(frozen=True)
class ProviderCase:
    """One provider as the shared adapter tests drive it.

    Attributes:
        name: The adapter's default provider label.
        server_class: The provider's fake server.
        adapter_class: The adapter, built as ``adapter_class(api_key, base_url=..., **options)``.
        api_key: Key the adapter under test sends.
        model: Model of the standard request.
        preamble_events: Wire events a stream sends before its first content block.
        text_preamble_events: Wire events a stream sends before its first text fragment.
        server_error_type: ``error.type`` of an in-stream error that stands for a server failure.
        stop_reasons: Provider-native stop (finish) reasons and the engine's reading of each.
    """

    name: str
    server_class: type[FakeAnthropicServer] | type[FakeOpenAIServer]
    adapter_class: Callable[..., ModelAdapter]
    api_key: str
    model: str
    preamble_events: int
    text_preamble_events: int
    server_error_type: str
    stop_reasons: tuple[tuple[str, str], ...]

    def adapter(self, base_url: str, **options: Any) -> ModelAdapter:
        """The provider's adapter, pointed at ``base_url``."""
        return self.adapter_class(self.api_key, base_url=base_url, **options)

    def request(self, *messages: Message, **options: Any) -> ModelRequest:
        """The standard request (system prompt, two tools, a greeting); ``options`` override fields."""
        fields: dict[str, Any] = {
            "model": self.model,
            "system": SYSTEM_PROMPT,
            "messages": messages or (Message.user("Hello?"),),
            "tools": (WEATHER, CLOCK),
            "timeout": 10.0,
        }
        fields.update(options)
        return ModelRequest(**fields)


ANTHROPIC = ProviderCase(
    name="anthropic",
    server_class=FakeAnthropicServer,
    adapter_class=AnthropicAdapter,
    api_key="sk-ant-test",
    model=DEFAULT_MODEL,
    preamble_events=2,  # message_start, ping
    text_preamble_events=3,  # and the text block's content_block_start
    server_error_type="overloaded_error",
    stop_reasons=(
        ("end_turn", "end_turn"),
        ("tool_use", "tool_use"),
        ("max_tokens", "max_tokens"),
        ("refusal", "refusal"),
        ("stop_sequence", "stop_sequence"),
        ("pause_turn", "other"),
        ("model_context_window_exceeded", "other"),
    ),
)
OPENAI = ProviderCase(
    name="openai",
    server_class=FakeOpenAIServer,
    adapter_class=OpenAIAdapter,
    api_key="sk-test",
    model="gpt-fake-1",
    preamble_events=1,  # the role chunk
    text_preamble_events=1,  # text deltas follow it directly
    server_error_type="server_error",
    stop_reasons=(
        ("stop", "end_turn"),
        ("tool_calls", "tool_use"),
        ("length", "max_tokens"),
        ("content_filter", "refusal"),
        ("function_call", "other"),
        ("eos", "other"),
    ),
)
PROVIDERS = (ANTHROPIC, OPENAI)


def run(adapter: ModelAdapter, request: ModelRequest) -> tuple[list[str], ModelResponse]:
    """Consume a stream; check the port's contract (fragments, then exactly one response)."""
    items = list(adapter.stream(request))
    assert items and isinstance(items[-1], ModelResponse)
    assert all(isinstance(item, StreamText) for item in items[:-1])
    return [item.text for item in items[:-1]], items[-1]  # type: ignore[union-attr]


def fail(adapter: ModelAdapter, request: ModelRequest) -> tuple[list[str], ProviderError]:
    """Consume a stream that must fail; return the text yielded before the failure."""
    texts: list[str] = []
    with pytest.raises(ProviderError) as caught:
        for item in adapter.stream(request):
            assert isinstance(item, StreamText), "no response may be yielded by a failing stream"
            texts.append(item.text)
    return texts, caught.value


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
