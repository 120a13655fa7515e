"""AnthropicAdapter against FakeAnthropicServer: the real SDK parses real SSE bytes, nothing is mocked."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest

from ai_engine.anthropic_adapter import DEFAULT_MODEL, AnthropicAdapter
from ai_engine.errors import (
    AuthenticationError,
    BadRequestError,
    ConnectionFailed,
    ProviderError,
    RateLimited,
    ServerError,
    StreamInterrupted,
)
from ai_engine.fake_servers import FakeAnthropicServer, FakeReply, FakeToolCall, FakeUsage
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

FAST_RETRY = {"retry-after-ms": "1"}
WEATHER = ToolDefinition(
    "get_weather", "Weather of a city", {"type": "object", "properties": {"city": {"type": "string"}}}
)
CLOCK = ToolDefinition("get_time", "Current time", {"type": "object", "properties": {}})


@pytest.fixture
def server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as fake:
        yield fake


def make_adapter(server: FakeAnthropicServer, **options: object) -> AnthropicAdapter:
    return AnthropicAdapter("sk-ant-test", base_url=server.base_url, **options)  # type: ignore[arg-type]


def make_request(*messages: Message, **options: object) -> ModelRequest:
    fields: dict[str, object] = {
        "model": DEFAULT_MODEL,
        "system": "You are a careful assistant.",
        "messages": messages or (Message.user("Hello?"),),
        "tools": (WEATHER, CLOCK),
        "timeout": 10.0,
    }
    fields.update(options)
    return ModelRequest(**fields)  # type: ignore[arg-type]


def run(adapter: AnthropicAdapter, request: ModelRequest) -> tuple[list[str], ModelResponse]:
    """Consume a stream; check the port's contract (fragments, then exactly one response)."""
    items = list(adapter.stream(request))
    assert items and isinstance(items[-1], ModelResponse)
    assert all(isinstance(item, StreamText) for item in items[:-1])
    return [item.text for item in items[:-1]], items[-1]  # type: ignore[union-attr]


def fail(adapter: AnthropicAdapter, request: ModelRequest) -> tuple[list[str], ProviderError]:
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


def test_text_streams_as_fragments_then_one_response(server: FakeAnthropicServer) -> None:
    server.add_text(("Hel", "lo, ", "world", "!"), usage=FakeUsage(input_tokens=21, output_tokens=9))

    texts, response = run(make_adapter(server), make_request())

    assert texts == ["Hel", "lo, ", "world", "!"]
    assert response.message == Message("assistant", (TextBlock("Hello, world!"),))
    assert response.stop_reason == "end_turn"
    assert response.usage == TokenUsage(input_tokens=21, output_tokens=9)
    assert response.model == DEFAULT_MODEL
    assert response.provider == "anthropic"


def test_provider_label_and_reported_model_come_through(server: FakeAnthropicServer) -> None:
    server.add_text("ok", model="claude-sonnet-4-6-20260101")

    _, response = run(make_adapter(server, provider="anthropic-eu"), make_request())

    assert response.provider == "anthropic-eu"
    assert response.model == "claude-sonnet-4-6-20260101"


def test_tool_use_input_is_assembled_from_split_fragments(server: FakeAnthropicServer) -> None:
    arguments = {"city": "São Paulo", "days": [1, 2, 3], "units": {"temp": "C", "wind": None}}
    server.add_tool_calls(FakeToolCall("get_weather", arguments, id="toolu_01"), json_chunk_size=3)

    texts, response = run(make_adapter(server), make_request())

    assert texts == []
    assert response.message.content == (ToolUseBlock("toolu_01", "get_weather", arguments),)
    assert response.stop_reason == "tool_use"


def test_text_then_several_tool_calls_keep_their_order(server: FakeAnthropicServer) -> None:
    server.add_tool_calls(
        FakeToolCall("get_weather", {"city": "Lyon"}, id="toolu_a"),
        FakeToolCall("get_time", {}, id="toolu_b"),
        FakeToolCall("get_weather", {"city": "Oslo"}, id="toolu_c"),
        text="Let me check.",
    )

    texts, response = run(make_adapter(server), make_request())

    assert "".join(texts) == "Let me check."
    assert response.message.content == (
        TextBlock("Let me check."),
        ToolUseBlock("toolu_a", "get_weather", {"city": "Lyon"}),
        ToolUseBlock("toolu_b", "get_time", {}),
        ToolUseBlock("toolu_c", "get_weather", {"city": "Oslo"}),
    )


def test_tool_without_any_argument_fragment_gets_empty_input(server: FakeAnthropicServer) -> None:
    # Only the empty opening fragment is streamed, as the API does for argument-less tools.
    server.add_tool_calls(FakeToolCall("get_time", "", id="toolu_now"))

    _, response = run(make_adapter(server), make_request())

    assert response.message.tool_uses == (ToolUseBlock("toolu_now", "get_time", {}, None),)


def test_usage_takes_the_final_cumulative_figures_with_cache_tokens(server: FakeAnthropicServer) -> None:
    # message_start reports output_tokens=1; message_delta the final 57.
    usage = FakeUsage(input_tokens=40, output_tokens=57, cache_read_tokens=1800, cache_write_tokens=350)
    server.add_text("cached answer", usage=usage)

    _, response = run(make_adapter(server), make_request())

    assert response.usage == TokenUsage(
        input_tokens=40, output_tokens=57, cache_read_tokens=1800, cache_write_tokens=350
    )


def test_usage_keeps_message_start_figures_when_message_delta_omits_them(server: FakeAnthropicServer) -> None:
    usage = FakeUsage(input_tokens=40, output_tokens=57, cache_read_tokens=1800, cache_write_tokens=350)
    server.add_text("cached answer", usage=usage, cumulative_delta_usage=False)

    _, response = run(make_adapter(server), make_request())

    assert response.usage == TokenUsage(
        input_tokens=40, output_tokens=57, cache_read_tokens=1800, cache_write_tokens=350
    )


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("end_turn", "end_turn"),
        ("tool_use", "tool_use"),
        ("max_tokens", "max_tokens"),
        ("refusal", "refusal"),
        ("stop_sequence", "stop_sequence"),
        ("pause_turn", "other"),
        ("model_context_window_exceeded", "other"),
    ],
)
def test_stop_reasons_are_normalised(server: FakeAnthropicServer, wire: str, expected: str) -> None:
    server.add_text("some text", stop_reason=wire, stop_sequence="###" if wire == "stop_sequence" else None)

    _, response = run(make_adapter(server), make_request())

    assert response.stop_reason == expected


# === REQUEST TRANSLATION === #


def test_request_caches_system_prompt_and_tool_definitions(server: FakeAnthropicServer) -> None:
    server.add_text("ok")

    run(make_adapter(server), make_request(max_tokens=777))

    body = server.last_request.body
    assert server.last_request.path == "/v1/messages"
    assert body["model"] == DEFAULT_MODEL
    assert body["max_tokens"] == 777
    assert body["stream"] is True
    assert body["system"] == [
        {"type": "text", "text": "You are a careful assistant.", "cache_control": {"type": "ephemeral"}}
    ]
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
    assert body["system"] == "You are a careful assistant."
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
        Message.user("Weather in Lyon and the time?"),
        Message(
            "assistant",
            (
                TextBlock("Checking."),
                ToolUseBlock("toolu_1", "get_weather", {"city": "Lyon"}),
                ToolUseBlock("toolu_2", "get_time", {}),
            ),
        ),
        Message.tool_result("toolu_1", "18 °C"),
        Message.user("Also, be brief."),
        Message.tool_result("toolu_2", "clock offline", is_error=True),
    )

    run(make_adapter(server), make_request(*transcript))

    assert server.last_request.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Lyon and the time?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Lyon"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18 °C"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
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


def test_a_wrong_key_is_an_authentication_error() -> None:
    with FakeAnthropicServer(api_key="sk-ant-right") as server:
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
        (413, BadRequestError),
        (422, BadRequestError),
        (429, RateLimited),
        (500, ServerError),
        (503, ServerError),
        (529, ServerError),
    ],
)
def test_http_errors_map_to_engine_errors(
    server: FakeAnthropicServer, status: int, expected: type[ProviderError]
) -> None:
    server.add_error(status, message="scripted failure")

    _, error = fail(make_adapter(server, max_retries=0, provider="claude-main"), make_request())

    assert type(error) is expected
    assert error.status == status
    assert error.provider == "claude-main"
    assert len(server.requests) == 1


def test_rate_limit_reports_retry_after_seconds(server: FakeAnthropicServer) -> None:
    server.add_error(429, headers={"retry-after": "17"})

    _, error = fail(make_adapter(server, max_retries=0), make_request())

    assert isinstance(error, RateLimited)
    assert error.retry_after == 17.0


def test_overloaded_reports_retry_after_ms(server: FakeAnthropicServer) -> None:
    server.add_error(529, headers={"retry-after-ms": "1500"})

    _, error = fail(make_adapter(server, max_retries=0), make_request())

    assert isinstance(error, ServerError)
    assert error.status == 529
    assert error.retry_after == 1.5


def test_auth_error_message_does_not_echo_the_provider_text(server: FakeAnthropicServer) -> None:
    server.add_error(401, message="invalid x-api-key sk-ant-sec***ret")

    _, error = fail(make_adapter(server, max_retries=0), make_request())

    assert "sk-ant" not in str(error)


# === SDK RETRIES === #


def test_sdk_retries_an_overloaded_answer_then_succeeds(server: FakeAnthropicServer) -> None:
    server.add_error(529, headers=FAST_RETRY)
    server.add_text("second time lucky")

    texts, response = run(make_adapter(server, max_retries=2), make_request())

    assert "".join(texts) == "second time lucky"
    assert response.message.text == "second time lucky"
    assert len(server.requests) == 2
    assert server.requests[0].body == server.requests[1].body


def test_sdk_retries_server_errors_up_to_max_retries(server: FakeAnthropicServer) -> None:
    server.add_error(500, headers=FAST_RETRY)
    server.add_error(500, headers=FAST_RETRY)
    server.add_text("third time")

    _, response = run(make_adapter(server, max_retries=2), make_request())

    assert response.message.text == "third time"
    assert len(server.requests) == 3


def test_sdk_gives_up_after_max_retries(server: FakeAnthropicServer) -> None:
    for _ in range(3):
        server.add_error(529, headers=FAST_RETRY)

    _, error = fail(make_adapter(server, max_retries=1), make_request())

    assert isinstance(error, ServerError)
    assert len(server.requests) == 2


def test_no_retry_with_max_retries_zero(server: FakeAnthropicServer) -> None:
    server.add_error(529, headers=FAST_RETRY)
    server.add_text("not reached")

    _, error = fail(make_adapter(server, max_retries=0), make_request())

    assert isinstance(error, ServerError)
    assert len(server.requests) == 1


def test_rate_limit_is_retried_after_the_asked_delay(server: FakeAnthropicServer) -> None:
    server.add_error(429, headers={"retry-after-ms": "120"})
    server.add_text("ok")

    started = time.monotonic()
    run(make_adapter(server, max_retries=1), make_request())

    assert len(server.requests) == 2
    assert time.monotonic() - started >= 0.12


def test_retry_after_ms_replaces_the_default_backoff(server: FakeAnthropicServer) -> None:
    # Without the header the SDK would wait at least 0.375 s (0.5 s minus 25 % jitter).
    server.add_error(529, headers=FAST_RETRY)
    server.add_text("ok")

    started = time.monotonic()
    run(make_adapter(server, max_retries=1), make_request())

    assert time.monotonic() - started < 0.3


@pytest.mark.parametrize("status", [400, 401, 403])
def test_client_errors_are_never_retried(server: FakeAnthropicServer, status: int) -> None:
    server.add_error(status, headers=FAST_RETRY)
    server.add_text("not reached")

    fail(make_adapter(server, max_retries=3), make_request())

    assert len(server.requests) == 1


# === BROKEN STREAMS === #


def test_stream_cut_after_text_is_interrupted_and_not_retried(server: FakeAnthropicServer) -> None:
    # Events: message_start, ping, block start, 3 deltas, then the socket closes.
    server.add(FakeReply(text=("one ", "two ", "three ", "four"), cut_after=6))
    server.add_text("must not be used")

    texts, error = fail(make_adapter(server, max_retries=2), make_request())

    assert texts == ["one ", "two ", "three "]
    assert isinstance(error, StreamInterrupted)
    assert len(server.requests) == 1


def test_stream_cut_before_any_output_is_a_connection_failure(server: FakeAnthropicServer) -> None:
    server.add(FakeReply(text="never seen", cut_after=2))
    server.add_text("must not be used")

    texts, error = fail(make_adapter(server, max_retries=2), make_request())

    assert texts == []
    assert type(error) is ConnectionFailed
    assert len(server.requests) == 1


def test_stream_cut_while_tool_input_streams_is_a_connection_failure(server: FakeAnthropicServer) -> None:
    # message_start, ping, tool block start, two input fragments, cut.
    server.add(FakeReply(tool_calls=(FakeToolCall("get_weather", {"city": "Paris"}),), cut_after=5))

    texts, error = fail(make_adapter(server), make_request())

    assert texts == []
    assert type(error) is ConnectionFailed


def test_stream_ending_cleanly_without_message_stop_is_a_failure(server: FakeAnthropicServer) -> None:
    # A proxy that loses its upstream may end the body properly, just early.
    server.add(FakeReply(text=("half ", "an ", "answer"), end_after=5))

    texts, error = fail(make_adapter(server), make_request())

    assert texts == ["half ", "an "]
    assert isinstance(error, StreamInterrupted)


def test_stream_ending_cleanly_before_any_output_is_a_connection_failure(server: FakeAnthropicServer) -> None:
    server.add(FakeReply(tool_calls=(FakeToolCall("get_time", {"tz": "UTC"}),), end_after=4))

    texts, error = fail(make_adapter(server), make_request())

    assert texts == []
    assert type(error) is ConnectionFailed


def test_error_event_after_text_is_a_stream_interruption(server: FakeAnthropicServer) -> None:
    server.add(FakeReply(text=("partial ", "answer ", "here"), error_after=5))
    server.add_text("must not be used")

    texts, error = fail(make_adapter(server, max_retries=2), make_request())

    assert texts == ["partial ", "answer "]
    assert isinstance(error, StreamInterrupted)
    assert error.provider == "anthropic"
    assert len(server.requests) == 1


def test_overloaded_error_event_before_any_output_is_a_server_error(server: FakeAnthropicServer) -> None:
    server.add(FakeReply(text="never seen", error_after=1))

    texts, error = fail(make_adapter(server), make_request())

    assert texts == []
    assert type(error) is ServerError
    assert error.status is None


def test_rate_limit_error_event_before_any_output_is_rate_limited(server: FakeAnthropicServer) -> None:
    server.add(FakeReply(text="never seen", error_after=1, error_type="rate_limit_error"))

    _, error = fail(make_adapter(server), make_request())

    assert type(error) is RateLimited


def test_connection_refused_is_a_connection_failure() -> None:
    adapter = AnthropicAdapter("sk-ant-test", base_url=f"http://127.0.0.1:{closed_port()}", max_retries=0)

    texts, error = fail(adapter, make_request())

    assert texts == []
    assert type(error) is ConnectionFailed
    assert error.provider == "anthropic"


def test_read_timeout_uses_the_request_timeout(server: FakeAnthropicServer) -> None:
    # Each event waits 1 s; the 0.2 s request timeout must fire long before.
    server.add(FakeReply(text="slow", event_delay=1.0))

    started = time.monotonic()
    _, error = fail(make_adapter(server, max_retries=0), make_request(timeout=0.2))

    assert type(error) is ConnectionFailed
    assert time.monotonic() - started < 0.8


def test_whole_call_is_bounded_even_when_events_keep_coming(server: FakeAnthropicServer) -> None:
    # Every event arrives within the read timeout, but the call as a whole overruns.
    server.add(FakeReply(text=[f"w{i} " for i in range(40)], event_delay=0.05))

    started = time.monotonic()
    texts, error = fail(make_adapter(server), make_request(timeout=0.6))

    assert isinstance(error, StreamInterrupted)
    assert texts  # some text made it out before the deadline
    assert time.monotonic() - started < 1.5


# === MALFORMED TOOL INPUT === #


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ('{"city": "Paris",', "not valid JSON"),
        ('{"city": "Par', "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('"Paris"', "JSON object"),
    ],
)
def test_malformed_tool_input_becomes_an_input_error(
    server: FakeAnthropicServer, raw: str, problem: str
) -> None:
    server.add_tool_calls(
        FakeToolCall("get_weather", raw, id="toolu_bad"),
        FakeToolCall("get_time", {"tz": "UTC"}, id="toolu_good"),
        json_chunk_size=4,
    )

    _, response = run(make_adapter(server), make_request())

    bad, good = response.message.tool_uses
    assert (bad.id, bad.name, bad.input) == ("toolu_bad", "get_weather", {})
    assert bad.input_error is not None and problem in bad.input_error
    assert good == ToolUseBlock("toolu_good", "get_time", {"tz": "UTC"})
    assert response.stop_reason == "tool_use"


def test_malformed_tool_input_is_logged_without_the_arguments(
    server: FakeAnthropicServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.add_tool_calls(FakeToolCall("get_weather", '{"secret": "4111 1111 1111 1111",', id="toolu_bad"))

    with caplog.at_level(logging.DEBUG, logger="ai_engine"):
        run(make_adapter(server), make_request())

    engine_logs = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("ai_engine"))
    assert "get_weather" in engine_logs
    assert "4111" not in engine_logs
