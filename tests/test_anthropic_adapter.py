"""What only the Anthropic Messages API asks of AnthropicAdapter, checked against FakeAnthropicServer
with the real SDK parsing real SSE bytes: prompt caching marks, tool results grouped into one user
turn, no sampling parameters, usage spread over two events.

Whatever both adapters must do alike (stop reasons, errors, retries, broken streams, bad tool
input) lives in ``test_adapter_contract.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ai_engine.anthropic_adapter import DEFAULT_MODEL, AnthropicAdapter
from ai_engine.messages import Message, TextBlock, TokenUsage, ToolUseBlock
from fake_servers import FakeAnthropicServer, FakeToolCall, FakeUsage

from .adapter_helpers import ANTHROPIC, CLOCK, SYSTEM_PROMPT, TWO_TOOL_CALLS, WEATHER, run


@pytest.fixture
def server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as fake:
        yield fake


def make_adapter(server: FakeAnthropicServer, **options: object) -> AnthropicAdapter:
    return AnthropicAdapter(ANTHROPIC.api_key, base_url=server.base_url, **options)  # type: ignore[arg-type]


make_request = ANTHROPIC.request


# === STREAMING AND RESPONSES === #


def test_tool_use_input_is_assembled_from_split_fragments(server: FakeAnthropicServer) -> None:
    arguments = {"city": "São Paulo", "days": [1, 2, 3], "units": {"temp": "C", "wind": None}}
    server.add_tool_calls(FakeToolCall("get_weather", arguments, id="toolu_01"), json_chunk_size=3)

    texts, response = run(make_adapter(server), make_request())

    assert texts == []
    assert response.message.content == (ToolUseBlock("toolu_01", "get_weather", arguments),)
    assert response.stop_reason == "tool_use"


def test_usage_keeps_message_start_figures_when_message_delta_omits_them(server: FakeAnthropicServer) -> None:
    usage = FakeUsage(input_tokens=40, output_tokens=57, cache_read_tokens=1800, cache_write_tokens=350)
    server.add_text("cached answer", usage=usage, cumulative_delta_usage=False)

    _, response = run(make_adapter(server), make_request())

    assert response.usage == TokenUsage(
        input_tokens=40, output_tokens=57, cache_read_tokens=1800, cache_write_tokens=350
    )


# === REQUEST TRANSLATION === #


def test_request_caches_system_prompt_and_tool_definitions(server: FakeAnthropicServer) -> None:
    server.add_text("ok")

    run(make_adapter(server), make_request(max_tokens=777))

    body = server.last_request.body
    assert server.last_request.path == "/v1/messages"
    assert body["model"] == DEFAULT_MODEL
    assert body["max_tokens"] == 777
    assert body["stream"] is True
    assert body["system"] == [{"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}]
    assert body["tools"] == [
        {"name": "get_weather", "description": WEATHER.description, "input_schema": WEATHER.input_schema},
        {
            "name": "get_time",
            "description": CLOCK.description,
            "input_schema": CLOCK.input_schema,
            "cache_control": {"type": "ephemeral"},
        },
    ]
    assert "temperature" not in body


def test_request_without_prompt_caching_sends_plain_system_and_tools(server: FakeAnthropicServer) -> None:
    server.add_text("ok")

    run(make_adapter(server, cache_prompt=False), make_request())

    body = server.last_request.body
    assert body["system"] == SYSTEM_PROMPT
    assert all("cache_control" not in tool for tool in body["tools"])


def test_temperature_is_never_sent(server: FakeAnthropicServer) -> None:
    # API version 2026-10-21 answers 400 to any sampling parameter; SDK 2.x dropped them.
    server.add_text("ok")

    _, response = run(make_adapter(server), make_request(temperature=0.2))

    assert response.message.text == "ok"
    assert "temperature" not in server.last_request.body


def test_tool_results_are_grouped_into_one_user_turn_results_first(server: FakeAnthropicServer) -> None:
    server.add_text("done")
    transcript = (
        *TWO_TOOL_CALLS,
        Message.tool_result("call_1", "18 °C"),
        Message.user("Also, be brief."),
        Message.tool_result("call_2", "clock offline", is_error=True),
    )

    run(make_adapter(server), make_request(*transcript))

    assert server.last_request.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Lyon and the time?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Lyon"}},
                {"type": "tool_use", "id": "call_2", "name": "get_time", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "18 °C"},
                {
                    "type": "tool_result",
                    "tool_use_id": "call_2",
                    "content": "clock offline",
                    "is_error": True,
                },
                {"type": "text", "text": "Also, be brief."},
            ],
        },
    ]


def test_empty_text_blocks_are_not_sent(server: FakeAnthropicServer) -> None:
    server.add_text("done")
    transcript = (
        Message.user("Time?"),
        Message("assistant", (TextBlock(""), ToolUseBlock("toolu_1", "get_time", {}))),
        Message.tool_result("toolu_1", "12:00"),
    )

    run(make_adapter(server), make_request(*transcript))

    assistant = server.last_request.body["messages"][1]
    assert assistant["content"] == [{"type": "tool_use", "id": "toolu_1", "name": "get_time", "input": {}}]


def test_key_and_custom_headers_are_sent(server: FakeAnthropicServer) -> None:
    server.add_text("ok")
    adapter = AnthropicAdapter(
        "sk-ant-secret", base_url=server.base_url, default_headers={"anthropic-beta": "fake-beta-1"}
    )

    run(adapter, make_request())

    headers = server.last_request.headers
    assert headers["authorization"] == "Bearer sk-ant-secret"
    assert headers["anthropic-beta"] == "fake-beta-1"
    assert "anthropic-version" in headers
