"""OpenAIAdapter on the Chat Completions wire, against FakeOpenAIServer; the real SDK parses real
SSE bytes, nothing is mocked. Only what is particular to Chat Completions and the servers that
speak it is here: tool-call fragments keyed by index, ``tool`` role messages, the token cap
field, keyless local servers, usage normalisation. The shared adapter contract (finish reasons
included) is in ``test_adapter_contract.py``."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from ai_engine.errors import RateLimited, StreamInterrupted
from ai_engine.messages import Message, TokenUsage, ToolUseBlock
from ai_engine.openai_adapter import NO_API_KEY, OpenAIAdapter
from fake_servers import FakeOpenAIServer, FakeReply, FakeToolCall, FakeUsage

from .adapter_helpers import CLOCK, OPENAI, SYSTEM_PROMPT, TWO_TOOL_CALLS, WEATHER, fail, run


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


def make_adapter(server: FakeOpenAIServer, **options: object) -> OpenAIAdapter:
    options.setdefault("base_url", server.base_url)
    return OpenAIAdapter(OPENAI.api_key, **options)  # type: ignore[arg-type]


MODEL = OPENAI.model
make_request = OPENAI.request


# === STREAMING AND RESPONSES === #


def test_tool_calls_are_assembled_by_index_from_interleaved_fragments(server: FakeOpenAIServer) -> None:
    paris = {"city": "Paris", "days": [1, 2, 3], "units": {"temp": "C"}}
    server.add_tool_calls(
        FakeToolCall("get_weather", paris, id="call_a"),
        FakeToolCall("get_time", {"tz": "Europe/Oslo"}, id="call_b"),
        FakeToolCall("get_weather", {"city": "Kraków"}, id="call_c"),
        interleave_tool_calls=True,
        json_chunk_size=3,
    )

    texts, response = run(make_adapter(server), make_request())

    assert texts == []
    assert response.message.content == (
        ToolUseBlock("call_a", "get_weather", paris),
        ToolUseBlock("call_b", "get_time", {"tz": "Europe/Oslo"}),
        ToolUseBlock("call_c", "get_weather", {"city": "Kraków"}),
    )
    assert response.stop_reason == "tool_use"


def test_usage_is_normalised_so_input_excludes_cached_tokens(server: FakeOpenAIServer) -> None:
    # The wire says prompt_tokens=1840 with cached_tokens=1800.
    server.add_text("cached", usage=FakeUsage(input_tokens=40, output_tokens=57, cache_read_tokens=1800))

    _, response = run(make_adapter(server), make_request())

    assert response.usage == TokenUsage(input_tokens=40, output_tokens=57, cache_read_tokens=1800)


def test_missing_usage_chunk_gives_zero_usage(server: FakeOpenAIServer) -> None:
    # Some local servers ignore stream_options.include_usage.
    server.add_text("no usage here", usage_chunk=False)

    _, response = run(make_adapter(server), make_request())

    assert response.message.text == "no usage here"
    assert response.usage == TokenUsage()


# === REQUEST TRANSLATION === #


def test_request_body_has_tools_streaming_usage_and_token_cap(server: FakeOpenAIServer) -> None:
    server.add_text("ok")

    run(make_adapter(server), make_request(max_tokens=777))

    body = server.last_request.body
    assert body["model"] == MODEL
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == 777
    assert "max_completion_tokens" not in body
    assert "temperature" not in body
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": WEATHER.description,
                "parameters": WEATHER.input_schema,
            },
        },
        {
            "type": "function",
            "function": {
                "name": "get_time",
                "description": CLOCK.description,
                "parameters": CLOCK.input_schema,
            },
        },
    ]


def test_temperature_is_sent_when_set(server: FakeOpenAIServer) -> None:
    server.add_text("ok")

    run(make_adapter(server), make_request(temperature=0.3))

    assert server.last_request.body["temperature"] == 0.3


def test_openai_itself_gets_max_completion_tokens(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No base_url means api.openai.com; the SDK's env override points it at the fake instead.
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    server.add_text("ok")

    run(OpenAIAdapter("sk-test", base_url=None), make_request(max_tokens=321))

    body = server.last_request.body
    assert body["max_completion_tokens"] == 321
    assert "max_tokens" not in body


def test_token_cap_field_can_be_chosen(server: FakeOpenAIServer) -> None:
    server.add_text("ok")

    run(make_adapter(server, max_tokens_field="max_completion_tokens"), make_request(max_tokens=55))

    assert server.last_request.body["max_completion_tokens"] == 55


def test_transcript_becomes_system_user_assistant_and_tool_messages(server: FakeOpenAIServer) -> None:
    server.add_text("done")
    transcript = (
        *TWO_TOOL_CALLS,
        Message.tool_result("call_1", "18 °C"),
        Message.tool_result("call_2", "clock offline", is_error=True),
        Message("assistant", (ToolUseBlock("call_3", "get_time", {"tz": "UTC"}),)),
        Message.tool_result("call_3", "12:00"),
    )

    run(make_adapter(server), make_request(*transcript))

    messages = server.last_request.body["messages"]
    for message in messages:
        for call in message.get("tool_calls", []):
            call["function"]["arguments"] = json.loads(call["function"]["arguments"])
    assert messages == [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "Weather in Lyon and the time?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": {"city": "Lyon"}},
                },
                {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": {}}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18 °C"},
        {"role": "tool", "tool_call_id": "call_2", "content": "ERROR: clock offline"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_3",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": {"tz": "UTC"}},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_3", "content": "12:00"},
    ]


def test_base_url_path_and_custom_headers_reach_the_server(server: FakeOpenAIServer) -> None:
    server.add_text("ok")
    adapter = OpenAIAdapter(
        "sk-or-secret",
        base_url=server.url + "/api/v1",
        default_headers={"HTTP-Referer": "https://erp.example", "X-Title": "Odoo AI"},
        provider="openrouter",
    )

    _, response = run(adapter, make_request())

    recorded = server.last_request
    assert recorded.path == "/api/v1/chat/completions"
    assert recorded.headers["authorization"] == "Bearer sk-or-secret"
    assert recorded.headers["http-referer"] == "https://erp.example"
    assert recorded.headers["x-title"] == "Odoo AI"
    assert response.provider == "openrouter"


def test_keyless_local_server_gets_a_placeholder_never_the_env_key(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    server.add_text("ok")

    run(OpenAIAdapter(None, base_url=server.base_url, provider="ollama"), make_request())

    assert server.last_request.headers["authorization"] == f"Bearer {NO_API_KEY}"


# === SDK RETRIES === #


def test_sdk_does_not_retry_when_asked_to_wait_over_two_minutes(server: FakeOpenAIServer) -> None:
    server.add_error(429, headers={"retry-after": "300"})
    server.add_text("not reached")

    _, error = fail(make_adapter(server, max_retries=2), make_request())

    assert isinstance(error, RateLimited)
    assert error.retry_after == 300.0
    assert len(server.requests) == 1


def test_the_response_counts_the_sdk_retries_before_it(server: FakeOpenAIServer) -> None:
    # Traces report them (aia.provider.retries on the request's span).
    server.add_error(429, headers={"retry-after": "0"})
    server.add_error(503, headers={"retry-after": "0"})
    server.add_text("third time")

    response = run(make_adapter(server, max_retries=2), make_request())[-1]

    assert response.message.text == "third time"
    assert response.retries == 2
    assert len(server.requests) == 3


# === BROKEN STREAMS === #


def test_stream_cut_after_the_finish_reason_is_still_a_failure(server: FakeOpenAIServer) -> None:
    # role, 1 text delta, finish chunk; the usage chunk and [DONE] never come.
    server.add(FakeReply(text=("all there",), cut_after=3))

    texts, error = fail(make_adapter(server), make_request())

    assert texts == ["all there"]
    assert isinstance(error, StreamInterrupted)
