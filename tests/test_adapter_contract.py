"""The contract every SDK adapter keeps, run against each provider's fake server.

The real SDK parses real SSE bytes, nothing is mocked. Whichever provider answered, the engine
must see the same stream shape, the same error classes, the same retry and broken-stream rules
and the same handling of unusable tool arguments. How each provider's wire format is written and
read stays in ``test_anthropic_adapter.py`` and ``test_openai_adapter.py``.
"""

from __future__ import annotations

import functools
import logging
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
from ai_engine.messages import Message, TextBlock, TokenUsage, ToolUseBlock
from fake_servers import FakeReply, FakeToolCall, FakeUsage

from .adapter_helpers import (
    FAST_RETRY,
    PROVIDERS,
    AdapterFactory,
    FakeServer,
    ProviderCase,
    closed_port,
    fail,
    run,
)


@pytest.fixture(params=PROVIDERS, ids=lambda case: case.name)
def case(request: pytest.FixtureRequest) -> ProviderCase:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def server(case: ProviderCase) -> Iterator[FakeServer]:
    with case.server_class() as fake:
        yield fake


@pytest.fixture
def make_adapter(case: ProviderCase, server: FakeServer) -> AdapterFactory:
    """The provider's adapter against the fake server; keyword options go to its constructor."""
    return functools.partial(case.adapter, server.base_url)


# === STREAMING AND RESPONSES === #


def test_text_streams_as_fragments_then_one_response(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    server.add_text(("Hel", "lo, ", "world", "!"), usage=FakeUsage(input_tokens=21, output_tokens=9))

    texts, response = run(make_adapter(), case.request())

    assert texts == ["Hel", "lo, ", "world", "!"]
    assert response.message == Message("assistant", (TextBlock("Hello, world!"),))
    assert response.stop_reason == "end_turn"
    assert response.usage == TokenUsage(input_tokens=21, output_tokens=9)
    assert response.model == case.model
    assert response.provider == case.name


def test_provider_label_and_reported_model_come_through(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    server.add_text("ok", model=f"{case.model}-20260101")

    _, response = run(make_adapter(provider=f"{case.name}-eu"), case.request())

    assert response.provider == f"{case.name}-eu"
    assert response.model == f"{case.model}-20260101"


def test_text_then_several_tool_calls_keep_their_order(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    server.add_tool_calls(
        FakeToolCall("get_weather", {"city": "Lyon"}, id="call_a"),
        FakeToolCall("get_time", {}, id="call_b"),
        FakeToolCall("get_weather", {"city": "Oslo"}, id="call_c"),
        text="Let me check.",
    )

    texts, response = run(make_adapter(), case.request())

    assert "".join(texts) == "Let me check."
    assert response.message.content == (
        TextBlock("Let me check."),
        ToolUseBlock("call_a", "get_weather", {"city": "Lyon"}),
        ToolUseBlock("call_b", "get_time", {}),
        ToolUseBlock("call_c", "get_weather", {"city": "Oslo"}),
    )


def test_tool_call_without_any_argument_fragment_gets_empty_input(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    # No argument fragment at all (Anthropic streams only its empty opening one), as for a tool
    # that takes no argument.
    server.add_tool_calls(FakeToolCall("get_time", "", id="call_now"))

    _, response = run(make_adapter(), case.request())

    assert response.message.tool_uses == (ToolUseBlock("call_now", "get_time", {}, None),)


@pytest.mark.parametrize(
    ("case", "wire", "expected"),
    [
        pytest.param(case, wire, expected, id=f"{case.name}-{wire}")
        for case in PROVIDERS
        for wire, expected in case.stop_reasons
    ],
)
def test_stop_reasons_are_normalised(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory, wire: str, expected: str
) -> None:
    # Only Anthropic reports the matched stop sequence; the OpenAI fake ignores the field.
    server.add_text("some text", stop_reason=wire, stop_sequence="###" if wire == "stop_sequence" else None)

    _, response = run(make_adapter(), case.request())

    assert response.stop_reason == expected


def test_usage_reports_final_figures_with_cache_tokens(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    # Anthropic's message_start reports output_tokens=1, its message_delta the final 57; OpenAI's
    # prompt_tokens include the cache reads and writes, which must come out of input_tokens.
    usage = FakeUsage(input_tokens=40, output_tokens=57, cache_read_tokens=1800, cache_write_tokens=350)
    server.add_text("cached answer", usage=usage)

    _, response = run(make_adapter(), case.request())

    assert response.usage == TokenUsage(
        input_tokens=40, output_tokens=57, cache_read_tokens=1800, cache_write_tokens=350
    )


# === ERRORS === #


def test_a_wrong_key_is_an_authentication_error(case: ProviderCase) -> None:
    with case.server_class(api_key="sk-right") as server:
        server.add_text("never sent")
        _, error = fail(case.adapter(server.base_url), case.request())

    assert isinstance(error, AuthenticationError)
    assert error.status == 401
    assert server.pending == 1


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
        (502, ServerError),
        (503, ServerError),
        (529, ServerError),
    ],
)
def test_http_errors_map_to_engine_errors(
    case: ProviderCase,
    server: FakeServer,
    make_adapter: AdapterFactory,
    status: int,
    expected: type[ProviderError],
) -> None:
    server.add_error(status, message="scripted failure")

    _, error = fail(make_adapter(max_retries=0, provider="team-gateway"), case.request())

    assert type(error) is expected
    assert error.status == status
    assert error.provider == "team-gateway"
    assert len(server.requests) == 1


def test_rate_limit_reports_retry_after_seconds(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    server.add_error(429, headers={"retry-after": "17"})

    _, error = fail(make_adapter(max_retries=0), case.request())

    assert isinstance(error, RateLimited)
    assert error.retry_after == 17.0


def test_overloaded_reports_retry_after_ms(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    server.add_error(529, headers={"retry-after-ms": "1500"})

    _, error = fail(make_adapter(max_retries=0), case.request())

    assert isinstance(error, ServerError)
    assert error.status == 529
    assert error.retry_after == 1.5


def test_auth_error_message_does_not_echo_the_provider_text(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    server.add_error(401, message="Incorrect API key provided: sk-secret***1234.")

    _, error = fail(make_adapter(max_retries=0), case.request())

    assert "sk-secret" not in str(error)


def test_bad_request_message_keeps_the_provider_explanation(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    server.add_error(400, message="Invalid 'messages[2].tool_call_id': no such call.")

    _, error = fail(make_adapter(max_retries=0), case.request())

    assert "no such call" in str(error)


# === SDK RETRIES === #


@pytest.mark.parametrize("status", [500, 529])
def test_sdk_retries_a_server_error_then_succeeds(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory, status: int
) -> None:
    server.add_error(status, headers=FAST_RETRY)
    server.add_text("second time lucky")

    texts, response = run(make_adapter(max_retries=2), case.request())

    assert "".join(texts) == "second time lucky"
    assert response.message.text == "second time lucky"
    assert len(server.requests) == 2
    assert server.requests[0].body == server.requests[1].body


@pytest.mark.parametrize("status", [429, 500])
def test_sdk_retries_up_to_max_retries(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory, status: int
) -> None:
    server.add_error(status, headers=FAST_RETRY)
    server.add_error(status, headers=FAST_RETRY)
    server.add_text("third time")

    _, response = run(make_adapter(max_retries=2), case.request())

    assert response.message.text == "third time"
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [503, 529])
def test_sdk_gives_up_after_max_retries(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory, status: int
) -> None:
    for _ in range(3):
        server.add_error(status, headers=FAST_RETRY)

    _, error = fail(make_adapter(max_retries=1), case.request())

    assert isinstance(error, ServerError)
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [500, 529])
def test_no_retry_with_max_retries_zero(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory, status: int
) -> None:
    server.add_error(status, headers=FAST_RETRY)
    server.add_text("not reached")

    _, error = fail(make_adapter(max_retries=0), case.request())

    assert isinstance(error, ServerError)
    assert len(server.requests) == 1


def test_rate_limit_is_retried_after_the_asked_delay(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    server.add_error(429, headers={"retry-after-ms": "120"})
    server.add_text("ok")

    started = time.monotonic()
    run(make_adapter(max_retries=1), case.request())

    assert len(server.requests) == 2
    assert time.monotonic() - started >= 0.12


@pytest.mark.parametrize("status", [500, 529])
def test_retry_after_ms_replaces_the_default_backoff(
    case: ProviderCase,
    server: FakeServer,
    make_adapter: AdapterFactory,
    status: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without the header the SDK would wait at least 0.375 s (0.5 s minus 25 % jitter). What the
    # SDK asks to sleep is read, not the wall time, which a loaded machine stretches.
    slept: list[float] = []
    real_sleep = time.sleep

    def recording_sleep(seconds: float) -> None:
        slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", recording_sleep)
    server.add_error(status, headers=FAST_RETRY)
    server.add_text("ok")

    run(make_adapter(max_retries=1), case.request())

    assert len(server.requests) == 2
    assert slept == [0.001]


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_never_retried(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory, status: int
) -> None:
    server.add_error(status, headers=FAST_RETRY)
    server.add_text("not reached")

    fail(make_adapter(max_retries=3), case.request())

    assert len(server.requests) == 1


# === BROKEN STREAMS === #


def test_stream_cut_after_text_is_interrupted_and_not_retried(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    # The preamble, 3 text deltas, then the socket closes.
    server.add(FakeReply(text=("one ", "two ", "three ", "four"), cut_after=case.text_preamble_events + 3))
    server.add_text("must not be used")

    texts, error = fail(make_adapter(max_retries=2), case.request())

    assert texts == ["one ", "two ", "three "]
    assert isinstance(error, StreamInterrupted)
    assert len(server.requests) == 1


def test_stream_cut_before_any_output_is_a_connection_failure(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    server.add(FakeReply(text="never seen", cut_after=case.preamble_events))
    server.add_text("must not be used")

    texts, error = fail(make_adapter(max_retries=2), case.request())

    assert texts == []
    assert type(error) is ConnectionFailed
    assert len(server.requests) == 1


def test_stream_cut_while_tool_input_streams_is_a_connection_failure(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    # The preamble, the tool call's start, two argument fragments, cut.
    call = FakeToolCall("get_weather", {"city": "Paris"})
    server.add(FakeReply(tool_calls=(call,), cut_after=case.preamble_events + 3))

    texts, error = fail(make_adapter(), case.request())

    assert texts == []
    assert type(error) is ConnectionFailed


def test_stream_ending_cleanly_without_its_end_marker_is_a_failure(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    # A proxy that loses its upstream may end the body properly, just early: preamble + 2 deltas,
    # no message_stop (Anthropic) or finish_reason (OpenAI).
    server.add(FakeReply(text=("half ", "an ", "answer"), end_after=case.text_preamble_events + 2))

    texts, error = fail(make_adapter(), case.request())

    assert texts == ["half ", "an "]
    assert isinstance(error, StreamInterrupted)


def test_stream_ending_cleanly_before_any_output_is_a_connection_failure(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    call = FakeToolCall("get_time", {"tz": "UTC"})
    server.add(FakeReply(tool_calls=(call,), end_after=case.preamble_events + 2))

    texts, error = fail(make_adapter(), case.request())

    assert texts == []
    assert type(error) is ConnectionFailed


def test_error_event_after_text_is_a_stream_interruption(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    reply = FakeReply(
        text=("partial ", "answer ", "here"),
        error_after=case.text_preamble_events + 2,
        error_type=case.server_error_type,
    )
    server.add(reply)
    server.add_text("must not be used")

    texts, error = fail(make_adapter(max_retries=2), case.request())

    assert texts == ["partial ", "answer "]
    assert isinstance(error, StreamInterrupted)
    assert error.provider == case.name
    assert len(server.requests) == 1


def test_server_error_event_before_any_output_is_a_server_error(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    server.add(FakeReply(text="never seen", error_after=1, error_type=case.server_error_type))

    texts, error = fail(make_adapter(), case.request())

    assert texts == []
    assert type(error) is ServerError
    assert error.status is None


def test_rate_limit_error_event_before_any_output_is_rate_limited(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    server.add(FakeReply(text="never seen", error_after=1, error_type="rate_limit_error"))

    _, error = fail(make_adapter(), case.request())

    assert type(error) is RateLimited


def test_connection_refused_is_a_connection_failure(case: ProviderCase) -> None:
    base_url = f"http://127.0.0.1:{closed_port()}{case.server_class.base_path}"

    texts, error = fail(case.adapter(base_url, max_retries=0), case.request())

    assert texts == []
    assert type(error) is ConnectionFailed
    assert error.provider == case.name


def test_read_timeout_uses_the_request_timeout(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    # Each event waits 1 s; the 0.2 s request timeout must fire long before. Without it the
    # reply would arrive whole (no other timeout is that short): the error alone proves it fired.
    server.add(FakeReply(text="slow", event_delay=1.0))

    _, error = fail(make_adapter(max_retries=0), case.request(timeout=0.2))

    assert type(error) is ConnectionFailed


def test_whole_call_is_bounded_even_when_events_keep_coming(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory
) -> None:
    # Every event arrives within the read timeout, but the call as a whole overruns: without the
    # whole-call deadline the 2 s reply would arrive whole, so the interruption proves it.
    server.add(FakeReply(text=[f"w{i} " for i in range(40)], event_delay=0.05))

    texts, error = fail(make_adapter(), case.request(timeout=0.6))

    assert isinstance(error, StreamInterrupted)
    assert texts  # some text made it out before the deadline
    assert len(texts) < 40


# === MALFORMED TOOL ARGUMENTS === #


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ('{"city": "Paris",', "not valid JSON"),
        ('{"city": "Par', "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('"Paris"', "JSON object"),
        ("null", "JSON object"),
    ],
)
def test_malformed_tool_arguments_become_an_input_error(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory, raw: str, problem: str
) -> None:
    server.add_tool_calls(
        FakeToolCall("get_weather", raw, id="call_bad"),
        FakeToolCall("get_time", {"tz": "UTC"}, id="call_good"),
        json_chunk_size=4,
    )

    _, response = run(make_adapter(), case.request())

    bad, good = response.message.tool_uses
    assert (bad.id, bad.name, bad.input) == ("call_bad", "get_weather", {})
    assert bad.input_error is not None and problem in bad.input_error
    assert good == ToolUseBlock("call_good", "get_time", {"tz": "UTC"})
    assert response.stop_reason == "tool_use"


def test_malformed_tool_arguments_are_logged_without_their_content(
    case: ProviderCase, server: FakeServer, make_adapter: AdapterFactory, caplog: pytest.LogCaptureFixture
) -> None:
    raw = '{"card": "4111 1111 1111 1111", "iban": "FR7630006000011234567890189",'
    server.add_tool_calls(FakeToolCall("get_weather", raw, id="call_bad"))

    with caplog.at_level(logging.DEBUG, logger="ai_engine"):
        run(make_adapter(), case.request())

    engine_logs = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("ai_engine"))
    assert "get_weather" in engine_logs
    assert "4111" not in engine_logs
    assert "FR76" not in engine_logs
