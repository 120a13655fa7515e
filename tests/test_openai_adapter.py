"""OpenAIAdapter against FakeOpenAIServer: the real SDK parses real SSE bytes, nothing is mocked."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator

import pytest

from ai_engine.errors import (
    AuthenticationError,
    BadRequestError,
    ConnectionFailed,
    ProviderError,
    RateLimited,
    ServerError,
    StreamInterrupted,
)
from ai_engine.fake_servers import FakeOpenAIServer, FakeReply, FakeToolCall, FakeUsage
from ai_engine.messages import (
    Message,
    ModelRequest,
    ModelResponse,
    StreamText,
    TextBlock,
    TokenUsage,
    ToolDefinition,
    ToolUseBlock,
)
from ai_engine.openai_adapter import NO_API_KEY, OpenAIAdapter

MODEL = "gpt-fake-1"
FAST_RETRY = {"retry-after-ms": "1"}
WEATHER = ToolDefinition(
    "get_weather", "Weather of a city", {"type": "object", "properties": {"city": {"type": "string"}}}
)
CLOCK = ToolDefinition("get_time", "Current time", {"type": "object", "properties": {}})


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


def make_adapter(server: FakeOpenAIServer, **options: object) -> OpenAIAdapter:
    options.setdefault("base_url", server.base_url)
    return OpenAIAdapter("sk-test", **options)  # type: ignore[arg-type]


def make_request(*messages: Message, **options: object) -> ModelRequest:
    fields: dict[str, object] = {
        "model": MODEL,
        "system": "You are a careful assistant.",
        "messages": messages or (Message.user("Hello?"),),
        "tools": (WEATHER, CLOCK),
        "timeout": 10.0,
    }
    fields.update(options)
    return ModelRequest(**fields)  # type: ignore[arg-type]


def run(adapter: OpenAIAdapter, request: ModelRequest) -> tuple[list[str], ModelResponse]:
    """Consume a stream; check the port's contract (fragments, then exactly one response)."""
    items = list(adapter.stream(request))
    assert items and isinstance(items[-1], ModelResponse)
    assert all(isinstance(item, StreamText) for item in items[:-1])
    return [item.text for item in items[:-1]], items[-1]  # type: ignore[union-attr]


def fail(adapter: OpenAIAdapter, request: ModelRequest) -> tuple[list[str], ProviderError]:
    """Consume a stream that must fail; return the text yielded before the failure."""
    texts: list[str] = []
    with pytest.raises(ProviderError) as caught:
        for item in adapter.stream(request):
            assert isinstance(item, StreamText), "no response may be yielded by a failing stream"
            texts.append(item.text)
    return texts, caught.value


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# === STREAMING AND RESPONSES === #


def test_text_streams_as_fragments_then_one_response(server: FakeOpenAIServer) -> None:
    server.add_text(("Hel", "lo, ", "world", "!"), usage=FakeUsage(input_tokens=21, output_tokens=9))

    texts, response = run(make_adapter(server), make_request())

    assert texts == ["Hel", "lo, ", "world", "!"]
    assert response.message == Message("assistant", (TextBlock("Hello, world!"),))
    assert response.stop_reason == "end_turn"
    assert response.usage == TokenUsage(input_tokens=21, output_tokens=9)
    assert response.model == MODEL
    assert response.provider == "openai"


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


def test_text_before_tool_calls_comes_first(server: FakeOpenAIServer) -> None:
    server.add_tool_calls(FakeToolCall("get_time", {}, id="call_1"), text="One moment.")

    texts, response = run(make_adapter(server), make_request())

    assert "".join(texts) == "One moment."
    assert response.message.content == (TextBlock("One moment."), ToolUseBlock("call_1", "get_time", {}))


def test_tool_call_with_no_argument_fragment_gets_empty_input(server: FakeOpenAIServer) -> None:
    server.add_tool_calls(FakeToolCall("get_time", "", id="call_now"))

    _, response = run(make_adapter(server), make_request())

    assert response.message.tool_uses == (ToolUseBlock("call_now", "get_time", {}, None),)


def test_usage_is_normalised_so_input_excludes_cached_tokens(server: FakeOpenAIServer) -> None:
    # The wire says prompt_tokens=1840 with cached_tokens=1800.
    server.add_text("cached", usage=FakeUsage(input_tokens=40, output_tokens=57, cache_read_tokens=1800))

    _, response = run(make_adapter(server), make_request())

    assert response.usage == TokenUsage(input_tokens=40, output_tokens=57, cache_read_tokens=1800)


def test_usage_reports_cache_writes_when_the_server_does(server: FakeOpenAIServer) -> None:
    usage = FakeUsage(input_tokens=40, output_tokens=5, cache_read_tokens=100, cache_write_tokens=900)
    server.add_text("cached", usage=usage)

    _, response = run(make_adapter(server), make_request())

    assert response.usage == TokenUsage(
        input_tokens=40, output_tokens=5, cache_read_tokens=100, cache_write_tokens=900
    )


def test_missing_usage_chunk_gives_zero_usage(server: FakeOpenAIServer) -> None:
    # Some local servers ignore stream_options.include_usage.
    server.add_text("no usage here", usage_chunk=False)

    _, response = run(make_adapter(server), make_request())

    assert response.message.text == "no usage here"
    assert response.usage == TokenUsage()


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("stop", "end_turn"),
        ("tool_calls", "tool_use"),
        ("length", "max_tokens"),
        ("content_filter", "refusal"),
        ("function_call", "other"),
        ("eos", "other"),
    ],
)
def test_finish_reasons_are_normalised(server: FakeOpenAIServer, wire: str, expected: str) -> None:
    server.add_text("some text", stop_reason=wire)

    _, response = run(make_adapter(server), make_request())

    assert response.stop_reason == expected


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
        Message.user("Weather in Lyon and the time?"),
        Message(
            "assistant",
            (
                TextBlock("Checking."),
                ToolUseBlock("call_1", "get_weather", {"city": "Lyon"}),
                ToolUseBlock("call_2", "get_time", {}),
            ),
        ),
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
        {"role": "system", "content": "You are a careful assistant."},
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


def test_a_wrong_key_is_an_authentication_error() -> None:
    with FakeOpenAIServer(api_key="sk-right") as server:
        server.add_text("never sent")
        _, error = fail(make_adapter(server), make_request())

    assert isinstance(error, AuthenticationError)
    assert error.status == 401
    assert server.pending == 1


# === ERRORS === #


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, BadRequestError),
        (422, BadRequestError),
        (429, RateLimited),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
    ],
)
def test_http_errors_map_to_engine_errors(
    server: FakeOpenAIServer, status: int, expected: type[ProviderError]
) -> None:
    server.add_error(status, message="scripted failure")

    _, error = fail(make_adapter(server, max_retries=0, provider="vllm-local"), make_request())

    assert type(error) is expected
    assert error.status == status
    assert error.provider == "vllm-local"
    assert len(server.requests) == 1


def test_rate_limit_reports_retry_after_seconds(server: FakeOpenAIServer) -> None:
    server.add_error(429, headers={"retry-after": "17"})

    _, error = fail(make_adapter(server, max_retries=0), make_request())

    assert isinstance(error, RateLimited)
    assert error.retry_after == 17.0


def test_auth_error_message_does_not_echo_the_key(server: FakeOpenAIServer) -> None:
    server.add_error(401, message="Incorrect API key provided: sk-test***1234.")

    _, error = fail(make_adapter(server, max_retries=0), make_request())

    assert "sk-test" not in str(error)


def test_bad_request_message_keeps_the_provider_explanation(server: FakeOpenAIServer) -> None:
    server.add_error(400, message="Invalid 'messages[2].tool_call_id': no such call.")

    _, error = fail(make_adapter(server, max_retries=0), make_request())

    assert "no such call" in str(error)


# === SDK RETRIES === #


def test_sdk_retries_a_server_error_then_succeeds(server: FakeOpenAIServer) -> None:
    server.add_error(500, headers=FAST_RETRY)
    server.add_text("second time lucky")

    texts, response = run(make_adapter(server, max_retries=2), make_request())

    assert "".join(texts) == "second time lucky"
    assert response.message.text == "second time lucky"
    assert len(server.requests) == 2
    assert server.requests[0].body == server.requests[1].body


def test_sdk_retries_rate_limits(server: FakeOpenAIServer) -> None:
    server.add_error(429, headers=FAST_RETRY)
    server.add_error(429, headers=FAST_RETRY)
    server.add_text("ok")

    _, response = run(make_adapter(server, max_retries=2), make_request())

    assert response.message.text == "ok"
    assert len(server.requests) == 3


def test_sdk_gives_up_after_max_retries(server: FakeOpenAIServer) -> None:
    for _ in range(3):
        server.add_error(503, headers=FAST_RETRY)

    _, error = fail(make_adapter(server, max_retries=1), make_request())

    assert isinstance(error, ServerError)
    assert len(server.requests) == 2


def test_no_retry_with_max_retries_zero(server: FakeOpenAIServer) -> None:
    server.add_error(500, headers=FAST_RETRY)
    server.add_text("not reached")

    _, error = fail(make_adapter(server, max_retries=0), make_request())

    assert isinstance(error, ServerError)
    assert len(server.requests) == 1


def test_retry_after_ms_replaces_the_default_backoff(server: FakeOpenAIServer) -> None:
    # Without the header the SDK would wait at least 0.375 s (0.5 s minus 25 % jitter).
    server.add_error(500, headers=FAST_RETRY)
    server.add_text("ok")

    started = time.monotonic()
    run(make_adapter(server, max_retries=1), make_request())

    assert time.monotonic() - started < 0.3


def test_sdk_does_not_retry_when_asked_to_wait_over_two_minutes(server: FakeOpenAIServer) -> None:
    server.add_error(429, headers={"retry-after": "300"})
    server.add_text("not reached")

    _, error = fail(make_adapter(server, max_retries=2), make_request())

    assert isinstance(error, RateLimited)
    assert error.retry_after == 300.0
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_never_retried(server: FakeOpenAIServer, status: int) -> None:
    server.add_error(status, headers=FAST_RETRY)
    server.add_text("not reached")

    fail(make_adapter(server, max_retries=3), make_request())

    assert len(server.requests) == 1


# === BROKEN STREAMS === #


def test_stream_cut_after_text_is_interrupted_and_not_retried(server: FakeOpenAIServer) -> None:
    # Chunks: role, then 3 text deltas, then the socket closes.
    server.add(FakeReply(text=("one ", "two ", "three ", "four"), cut_after=4))
    server.add_text("must not be used")

    texts, error = fail(make_adapter(server, max_retries=2), make_request())

    assert texts == ["one ", "two ", "three "]
    assert isinstance(error, StreamInterrupted)
    assert len(server.requests) == 1


def test_stream_cut_before_any_output_is_a_connection_failure(server: FakeOpenAIServer) -> None:
    server.add(FakeReply(text="never seen", cut_after=1))
    server.add_text("must not be used")

    texts, error = fail(make_adapter(server, max_retries=2), make_request())

    assert texts == []
    assert type(error) is ConnectionFailed
    assert len(server.requests) == 1


def test_stream_cut_after_the_finish_reason_is_still_a_failure(server: FakeOpenAIServer) -> None:
    # role, 1 text delta, finish chunk; the usage chunk and [DONE] never come.
    server.add(FakeReply(text=("all there",), cut_after=3))

    texts, error = fail(make_adapter(server), make_request())

    assert texts == ["all there"]
    assert isinstance(error, StreamInterrupted)


def test_stream_ending_cleanly_without_finish_reason_is_a_failure(server: FakeOpenAIServer) -> None:
    # A proxy that loses its upstream may end the body properly, just early: role + 2 deltas.
    server.add(FakeReply(text=("half ", "an ", "answer"), end_after=3))

    texts, error = fail(make_adapter(server), make_request())

    assert texts == ["half ", "an "]
    assert isinstance(error, StreamInterrupted)


def test_stream_ending_cleanly_before_any_output_is_a_connection_failure(server: FakeOpenAIServer) -> None:
    server.add(FakeReply(tool_calls=(FakeToolCall("get_time", {"tz": "UTC"}),), end_after=3))

    texts, error = fail(make_adapter(server), make_request())

    assert texts == []
    assert type(error) is ConnectionFailed


def test_error_chunk_after_text_is_a_stream_interruption(server: FakeOpenAIServer) -> None:
    server.add(FakeReply(text=("partial ", "answer ", "here"), error_after=3, error_type="server_error"))
    server.add_text("must not be used")

    texts, error = fail(make_adapter(server, max_retries=2), make_request())

    assert texts == ["partial ", "answer "]
    assert isinstance(error, StreamInterrupted)
    assert len(server.requests) == 1


def test_error_chunk_before_any_output_is_a_server_error(server: FakeOpenAIServer) -> None:
    server.add(FakeReply(text="never seen", error_after=1, error_type="server_error"))

    texts, error = fail(make_adapter(server), make_request())

    assert texts == []
    assert type(error) is ServerError


def test_rate_limit_error_chunk_before_any_output_is_rate_limited(server: FakeOpenAIServer) -> None:
    server.add(FakeReply(text="never seen", error_after=1, error_type="rate_limit_error"))

    _, error = fail(make_adapter(server), make_request())

    assert type(error) is RateLimited


def test_connection_refused_is_a_connection_failure() -> None:
    adapter = OpenAIAdapter(None, base_url=f"http://127.0.0.1:{closed_port()}/v1", max_retries=0)

    texts, error = fail(adapter, make_request())

    assert texts == []
    assert type(error) is ConnectionFailed
    assert error.provider == "openai"


def test_read_timeout_uses_the_request_timeout(server: FakeOpenAIServer) -> None:
    server.add(FakeReply(text="slow", event_delay=1.0))

    started = time.monotonic()
    _, error = fail(make_adapter(server, max_retries=0), make_request(timeout=0.2))

    assert type(error) is ConnectionFailed
    assert time.monotonic() - started < 0.8


def test_whole_call_is_bounded_even_when_chunks_keep_coming(server: FakeOpenAIServer) -> None:
    server.add(FakeReply(text=[f"w{i} " for i in range(40)], event_delay=0.05))

    started = time.monotonic()
    texts, error = fail(make_adapter(server), make_request(timeout=0.6))

    assert isinstance(error, StreamInterrupted)
    assert texts
    assert time.monotonic() - started < 1.5


# === MALFORMED TOOL ARGUMENTS === #


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ('{"city": "Paris",', "not valid JSON"),
        ('{"city": "Par', "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ("null", "JSON object"),
    ],
)
def test_malformed_tool_arguments_become_an_input_error(
    server: FakeOpenAIServer, raw: str, problem: str
) -> None:
    server.add_tool_calls(
        FakeToolCall("get_weather", raw, id="call_bad"),
        FakeToolCall("get_time", {"tz": "UTC"}, id="call_good"),
        json_chunk_size=4,
    )

    _, response = run(make_adapter(server), make_request())

    bad, good = response.message.tool_uses
    assert (bad.id, bad.name, bad.input) == ("call_bad", "get_weather", {})
    assert bad.input_error is not None and problem in bad.input_error
    assert good == ToolUseBlock("call_good", "get_time", {"tz": "UTC"})
    assert response.stop_reason == "tool_use"


def test_malformed_tool_arguments_are_logged_without_their_content(
    server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.add_tool_calls(
        FakeToolCall("get_weather", '{"iban": "FR7630006000011234567890189",', id="call_bad")
    )

    with caplog.at_level(logging.DEBUG, logger="ai_engine"):
        run(make_adapter(server), make_request())

    engine_logs = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("ai_engine"))
    assert "get_weather" in engine_logs
    assert "FR76" not in engine_logs
