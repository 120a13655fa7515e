"""Deferred tool calls: a handler hands its call to work outside the turn (another agent's session),
the turn stops, and it resumes with that work's result."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ai_engine import (
    AgentConfig,
    Deferred,
    Done,
    Limits,
    Message,
    SessionUsage,
    ThreadedToolContext,
    ToolAnswer,
    ToolCall,
    ToolDeferred,
    ToolRegistry,
    ToolResult,
    TurnRunner,
    waiting_call_id,
)
from ai_engine.testing import FakeClock, ScriptedModel, reply, tool_calls, unwrap_tool_result

TASK_SCHEMA = {"type": "object", "properties": {"task": {"type": "string"}}, "required": ["task"]}


class Sink:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    def append(self, message: Message) -> None:
        self.messages.append(message)


@pytest.fixture
def started():
    """The tasks the deferring tool handed on."""
    return []


@pytest.fixture
def registry(started):
    registry = ToolRegistry()

    @registry.tool("agent.stock", description="Ask the stock agent.", input_schema=TASK_SCHEMA)
    def ask_stock(ctx, args):
        started.append(args["task"])
        return Deferred("Asked the stock agent", {"session_id": 7})

    @registry.tool("demo.echo", description="Echo.", input_schema=TASK_SCHEMA)
    def echo(ctx, args):
        return {"echo": args["task"]}

    return registry


def runner_for(model, registry, sink, limits=None):
    config = AgentConfig(model="test-model", limits=limits or Limits(), shadow_mode=False)
    return TurnRunner(config, model, registry, ThreadedToolContext(), clock=FakeClock(), sink=sink)


def test_a_deferred_call_stops_the_turn_and_its_answer_resumes_it(registry, started):
    sink = Sink()
    model = ScriptedModel([tool_calls(("agent_stock", {"task": "count the chairs"}))])
    runner = runner_for(model, registry, sink)
    question = Message.user("How many chairs?")
    turn = runner.run([], question)
    events = turn.collect()
    deferred = events[-2]
    assert isinstance(deferred, ToolDeferred) and turn.pending == deferred
    assert (deferred.name, deferred.reason, deferred.ref) == (
        "agent.stock",
        "Asked the stock agent",
        {"session_id": 7},
    )
    assert events[-1].stop_reason == "tool_deferred"
    assert started == ["count the chairs"]
    assert not [event for event in events if isinstance(event, ToolResult)]

    model.then(reply("There are 12 chairs."))
    answer = ToolAnswer(deferred.call_id, "12 chairs in stock", cost=Decimal("0.02"))
    resumed = runner.resume([question, *sink.messages], answer)
    events = resumed.collect()
    [result] = [event for event in events if isinstance(event, ToolResult)]
    assert (result.status, result.content, result.cost) == ("ok", "12 chairs in stock", Decimal("0.02"))
    # The handler is not called again: the answer is the call's result.
    assert started == ["count the chairs"]
    assert not [event for event in events if isinstance(event, ToolCall)]
    assert events[-1] == Done("end_turn", "There are 12 chairs.")
    sent = model.requests[-1].messages[-1].tool_results[0]
    assert unwrap_tool_result(sent.content) == "12 chairs in stock" and not sent.is_error
    # The answer's cost is the turn's.
    assert resumed.cost == Decimal("0.02")


def test_a_failed_deferred_call_reaches_the_model_as_an_error(registry):
    sink = Sink()
    model = ScriptedModel([tool_calls(("agent_stock", {"task": "count"}))])
    runner = runner_for(model, registry, sink)
    question = Message.user("How many?")
    deferred = runner.run([], question).collect()[-2]
    model.then(reply("The stock agent failed."))
    events = runner.resume(
        [question, *sink.messages], ToolAnswer(deferred.call_id, "it crashed", "error")
    ).collect()
    [result] = [event for event in events if isinstance(event, ToolResult)]
    assert result.status == "error"
    assert model.requests[-1].messages[-1].tool_results[0].is_error is True


def test_the_calls_after_a_deferred_one_run_when_it_is_answered(registry, started):
    sink = Sink()
    model = ScriptedModel([tool_calls(("agent_stock", {"task": "first"}), ("demo_echo", {"task": "second"}))])
    runner = runner_for(model, registry, sink)
    question = Message.user("go")
    deferred = runner.run([], question).collect()[-2]
    assert not [message for message in sink.messages if message.role == "tool"]
    model.then(reply("done"))
    events = runner.resume([question, *sink.messages], ToolAnswer(deferred.call_id, "first done")).collect()
    assert [(event.name, event.status) for event in events if isinstance(event, ToolResult)] == [
        ("agent.stock", "ok"),
        ("demo.echo", "ok"),
    ]


def test_an_answer_for_a_call_that_does_not_wait_is_refused(registry):
    runner = runner_for(ScriptedModel([]), registry, Sink())
    with pytest.raises(ValueError, match="no tool call 'nope'"):
        runner.resume([Message.user("hi"), Message.assistant("hello")], ToolAnswer("nope", "x"))


def test_an_answer_counts_against_the_resumed_turns_cost_cap(registry):
    sink = Sink()
    model = ScriptedModel([tool_calls(("agent_stock", {"task": "count"}))])
    runner = runner_for(model, registry, sink, Limits(max_turn_cost=Decimal("0.01")))
    question = Message.user("How many?")
    deferred = runner.run([], question).collect()[-2]
    # The delegated work cost more than the turn may spend: no further provider call.
    events = runner.resume(
        [question, *sink.messages], ToolAnswer(deferred.call_id, "12", cost=Decimal("0.05"))
    ).collect()
    assert events[-1].stop_reason == "budget_exceeded"


def test_a_resumed_turn_goes_on_within_what_it_had_left(registry):
    """What the turn spent before it stopped (its own calls, the deferred work's) counts: with
    nothing left, the answer is still recorded, then the turn stops on its budget."""
    sink = Sink()
    model = ScriptedModel([tool_calls(("agent_stock", {"task": "count"}))])
    question = Message.user("How many?")
    deferred = runner_for(model, registry, sink).run([], question).collect()[-2]
    config = AgentConfig(model="test-model", limits=Limits(max_turn_tokens=100), shadow_mode=False)
    resumed = TurnRunner(
        config, model, registry, ThreadedToolContext(), clock=FakeClock(), turn_spent=SessionUsage(100)
    )
    events = resumed.resume([question, *sink.messages], ToolAnswer(deferred.call_id, "12")).collect()
    [result] = [event for event in events if isinstance(event, ToolResult)]
    assert (result.status, result.content) == ("ok", "12")
    assert events[-1].stop_reason == "budget_exceeded"
    assert "budget of 100 tokens" in events[-1].text
    model.assert_complete()


def test_the_waiting_call_is_the_one_a_resume_accepts(registry):
    sink = Sink()
    model = ScriptedModel([tool_calls(("agent_stock", {"task": "count"}))])
    question = Message.user("How many?")
    deferred = runner_for(model, registry, sink).run([], question).collect()[-2]
    history = [question, *sink.messages]
    assert waiting_call_id(history) == deferred.call_id
    assert waiting_call_id([question]) is None
    model.then(reply("12."))
    runner_for(model, registry, sink).resume(history, ToolAnswer(deferred.call_id, "12")).collect()
    assert waiting_call_id([question, *sink.messages]) is None


def test_calls_closed_by_a_new_message_keep_their_results_right_after_them(registry):
    """A new message while calls waited (a session stopped during an approval) closes them with
    "not executed" results, saved after that message; every later turn sends each result right
    after its call, as providers require."""
    asked = tool_calls(("demo_echo", {"task": "a"}), ("demo_echo", {"task": "b"})).response.message
    first_turn = [Message.user("Echo twice"), asked]  # stopped there, both calls waiting
    sink = Sink()
    model = ScriptedModel([reply("Something else, then.")])
    runner = runner_for(model, registry, sink)
    second = Message.user("Forget it: something else")
    runner.run(first_turn, second).collect()
    # As saved: the new message first (saved before its turn), then what its turn added.
    saved = [*first_turn, second, *sink.messages]
    assert [message.role for message in saved] == ["user", "assistant", "user", "tool", "tool", "assistant"]
    model.then(reply("Done."))
    runner.run(saved, Message.user("And now?")).collect()
    sent = model.requests[-1].messages
    assert [message.role for message in sent] == [
        "user",
        "assistant",
        "tool",
        "tool",
        "user",
        "assistant",
        "user",
    ]
    closed = [block.tool_use_id for message in sent[2:4] for block in message.tool_results]
    assert closed == [call.id for call in asked.tool_uses]
