"""Circuit breakers and the fallback chain, driven by scripted models and a fake clock."""

from __future__ import annotations

import pytest

from ai_engine import (
    AgentConfig,
    AuthenticationError,
    CircuitBreaker,
    FallbackChain,
    Link,
    Message,
    ModelRequest,
    ModelResponse,
    ProviderUnavailable,
    ServerError,
    StreamInterrupted,
    StreamText,
    ThreadedToolContext,
    ToolRegistry,
    TurnRunner,
)
from ai_engine.testing import FakeClock, ScriptedModel, chunked, failure, interrupted, reply, slow

REQUEST = ModelRequest(model="primary-model", system="", messages=(Message.user("hi"),))


def consume(chain):
    return list(chain.stream(REQUEST))


def test_breaker_opens_after_consecutive_failures_and_half_opens_after_cooldown():
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, cooldown=30, clock=clock)
    for _ in range(2):
        assert breaker.acquire()
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open" and not breaker.acquire()
    assert breaker.retry_after() == 30
    clock.advance(30)
    assert breaker.state == "half_open"
    assert breaker.acquire()
    assert not breaker.acquire()  # a single trial at a time
    breaker.record_failure()  # the trial failed: open again for a full cool-down
    assert breaker.state == "open" and breaker.retry_after() == 30
    clock.advance(30)
    assert breaker.acquire()
    breaker.record_success()
    assert breaker.state == "closed" and breaker.acquire()


def test_a_success_resets_the_consecutive_failure_count():
    breaker = CircuitBreaker(failure_threshold=2, clock=FakeClock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == "closed"


def make_chain(primary_steps, fallback_steps, threshold=5, clock=None):
    clock = clock or FakeClock()
    primary = ScriptedModel(primary_steps, provider="anthropic")
    fallback = ScriptedModel(fallback_steps, provider="openrouter")
    chain = FallbackChain(
        [
            Link(primary, "claude-sonnet-4-6", CircuitBreaker(threshold, 30, clock)),
            Link(fallback, "anthropic/claude-sonnet-4.6", CircuitBreaker(threshold, 30, clock)),
        ]
    )
    return chain, primary, fallback


def test_the_chain_falls_back_when_the_primary_fails_before_streaming():
    chain, primary, fallback = make_chain([failure(ServerError("overloaded", status=529))], [reply("from B")])
    items = consume(chain)
    response = items[-1]
    assert isinstance(response, ModelResponse) and response.message.text == "from B"
    assert response.provider == "openrouter"
    # Each link is asked for its own model id.
    assert primary.requests[0].model == "claude-sonnet-4-6"
    assert fallback.requests[0].model == "anthropic/claude-sonnet-4.6"


def test_a_failure_after_the_first_streamed_byte_is_not_retried_elsewhere():
    chain, primary, fallback = make_chain(
        [interrupted(chunked(reply("half"), 2), StreamInterrupted("cut"))], [reply("never")]
    )
    received = []
    with pytest.raises(StreamInterrupted):
        for item in chain.stream(REQUEST):
            received.append(item)
    assert all(isinstance(item, StreamText) for item in received) and received
    assert fallback.requests == []


def test_an_open_breaker_skips_its_provider_without_calling_it():
    clock = FakeClock()
    chain, primary, fallback = make_chain(
        [failure(ServerError("down", status=500))], [reply("b1"), reply("b2")], threshold=1, clock=clock
    )
    consume(chain)
    assert chain.links[0].breaker.state == "open"
    consume(chain)
    assert len(primary.requests) == 1 and len(fallback.requests) == 2


def test_when_every_circuit_is_open_callers_are_told_when_to_retry():
    clock = FakeClock()
    chain, _, _ = make_chain(
        [failure(ServerError("down", status=500))], [failure(ServerError("down", status=503))], 1, clock
    )
    with pytest.raises(ProviderUnavailable):
        consume(chain)
    clock.advance(10)
    with pytest.raises(ProviderUnavailable) as raised:
        consume(chain)
    assert raised.value.retry_after == 20
    assert "retry after 20 seconds" in raised.value.message


def test_auth_errors_fall_back_but_do_not_open_the_breaker():
    chain, _, _ = make_chain([failure(AuthenticationError("bad key", status=401))] * 2, [reply("b")] * 2, 1)
    consume(chain)
    consume(chain)
    assert chain.links[0].breaker.state == "closed"


def open_primary(clock):
    """A chain whose primary breaker opened on one failure and whose cool-down has passed."""
    chain, primary, fallback = make_chain([failure(ServerError("down", status=500))], [reply("b1")], 1, clock)
    consume(chain)
    clock.advance(30)
    assert chain.links[0].breaker.state == "half_open"
    return chain, primary, fallback


def test_a_half_open_trial_closed_mid_stream_lets_the_next_call_be_a_new_trial():
    clock = FakeClock()
    chain, primary, fallback = open_primary(clock)
    primary.then(chunked(reply("a long trial answer"), 4), reply("second trial"))
    stream = chain.stream(REQUEST)
    assert isinstance(next(stream), StreamText)  # the trial is streaming...
    stream.close()  # ...and the user pressed Stop
    breaker = chain.links[0].breaker
    assert breaker.state == "half_open"  # no verdict: still half-open, the cool-down not restarted
    response = consume(chain)[-1]
    assert response.message.text == "second trial" and response.provider == "anthropic"
    assert breaker.state == "closed"
    assert len(primary.requests) == 3 and len(fallback.requests) == 1


def test_a_half_open_trial_failing_with_an_unexpected_exception_is_released():
    clock = FakeClock()
    chain, primary, _ = open_primary(clock)  # the primary has no step left: the trial raises
    with pytest.raises(AssertionError):  # UnexpectedModelCall, not a provider error
        consume(chain)
    assert chain.links[0].breaker.state == "half_open"
    primary.then(reply("back"))
    assert consume(chain)[-1].message.text == "back"
    assert chain.links[0].breaker.state == "closed"


def test_a_call_admitted_while_closed_cannot_release_a_later_trial():
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=30, clock=clock)
    straggler = breaker.permit()
    assert straggler is not None and not straggler.trial
    breaker.record_failure()
    clock.advance(30)
    trial = breaker.permit()
    assert trial is not None and trial.trial
    breaker.release(straggler)  # the straggler was cancelled: the trial is still running
    assert breaker.permit() is None
    breaker.release(trial)
    assert breaker.permit() is not None


def test_a_half_open_trial_stopped_by_the_turn_deadline_mid_stream_is_released():
    clock = FakeClock()
    primary = ScriptedModel([failure(ServerError("down", status=500))], provider="anthropic", clock=clock)
    breaker = CircuitBreaker(1, 30, clock)
    chain = FallbackChain([Link(primary, "claude-sonnet-4-6", breaker)])
    runner = TurnRunner(AgentConfig(model="m"), chain, ToolRegistry(), ThreadedToolContext(), clock=clock)
    assert runner.run([], Message.user("hi")).collect()[-1].stop_reason == "error"
    clock.advance(30)
    # The trial streams its first fragment only after 61 s: past the turn's 60 s deadline.
    primary.then(slow(chunked(reply("a slow trial answer"), 4), 61), reply("fast again"))
    turn = runner.run([], Message.user("hi"))
    assert turn.collect()[-1].stop_reason == "budget_exceeded"
    assert breaker.state == "half_open"
    assert runner.run([], Message.user("hi")).collect()[-1].text == "fast again"
    assert breaker.state == "closed"


def test_each_failure_names_its_provider_once():
    # The adapters' own messages start with their provider's label; a message without it gets it.
    chain, _, _ = make_chain(
        [failure(ServerError("anthropic:2: HTTP 529 overloaded", provider="anthropic:2", status=529))],
        [failure(ServerError("connection failed", provider="openai:3"))],
        5,
        FakeClock(),
    )
    with pytest.raises(ProviderUnavailable) as raised:
        consume(chain)
    assert raised.value.message == (
        "Provider unavailable (anthropic:2: HTTP 529 overloaded; openai:3: connection failed)."
    )
