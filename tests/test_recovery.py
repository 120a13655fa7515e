"""Recovering a turn whose run was interrupted (its worker killed): it goes on from its saved
transcript, and a tool call that already ran is never run twice."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ai_engine import (
    AgentConfig,
    Done,
    Limits,
    Message,
    SessionUsage,
    ThreadedToolContext,
    ToolCall,
    ToolRegistry,
    ToolResult,
    ToolResultBlock,
    TurnRunner,
    answered_in_turn,
)
from ai_engine.testing import FakeClock, ScriptedModel, reply, tool_calls, unwrap_tool_result

NAME_SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


class Killed(Exception):
    """The worker died: nothing after this point of the turn happened."""


class Sink:
    """Saves the turn's messages; with ``die_after``, the worker dies once that many are saved."""

    def __init__(self, die_after: int | None = None) -> None:
        self.messages: list[Message] = []
        self.die_after = die_after

    def append(self, message: Message) -> None:
        self.messages.append(message)
        if self.die_after is not None and len(self.messages) >= self.die_after:
            raise Killed


class Ledger:
    """The ``executed`` port: results of calls that ran, by call id; records what it is asked."""

    def __init__(self, results: dict[str, ToolResultBlock] | None = None) -> None:
        self.results = dict(results or {})
        self.asked: list[str] = []

    def result_of(self, call_id: str) -> ToolResultBlock | None:
        self.asked.append(call_id)
        return self.results.get(call_id)


@pytest.fixture
def created():
    """The contacts the write tool created."""
    return []


@pytest.fixture
def registry(created):
    registry = ToolRegistry()

    @registry.tool("crm.create", description="Create a contact.", input_schema=NAME_SCHEMA, mode="write")
    def create(ctx, args):
        created.append(args["name"])
        return {"id": len(created)}

    return registry


def runner_for(model, registry, sink=None, limits=None, executed=None, turn_spent=None):
    config = AgentConfig(model="test-model", limits=limits or Limits(), shadow_mode=False)
    return TurnRunner(
        config,
        model,
        registry,
        ThreadedToolContext(),
        clock=FakeClock(),
        sink=sink,
        executed=executed,
        turn_spent=turn_spent,
    )


def interrupted(model, registry, question, die_after):
    """Run a turn of ``question`` whose worker dies once ``die_after`` messages are saved;
    returns the saved transcript."""
    sink = Sink(die_after)
    with pytest.raises(Killed):
        runner_for(model, registry, sink).run([], question).collect()
    return [question, *sink.messages]


CREATE_ACME = ("crm_create", {"name": "Acme"})


def test_a_write_whose_result_was_saved_is_not_run_again(registry, created):
    model = ScriptedModel([tool_calls(CREATE_ACME)])
    question = Message.user("Create Acme")
    # Died after the tool's result was saved (with its effects), before the next model call.
    history = interrupted(model, registry, question, die_after=2)
    assert created == ["Acme"] and history[-1].role == "tool"

    model.then(reply("Acme is created."))
    sink = Sink()
    turn = runner_for(model, registry, sink).recover(history)
    events = turn.collect()
    assert created == ["Acme"]
    assert not [event for event in events if isinstance(event, (ToolCall, ToolResult))]
    assert events[-1] == Done("end_turn", "Acme is created.")
    # The model reads the transcript as saved, the tool's result included.
    sent = model.requests[-1].messages
    assert [message.role for message in sent] == ["user", "assistant", "tool"]
    assert unwrap_tool_result(sent[-1].tool_results[0].content) == '{"id": 1}'
    assert [message.text for message in sink.messages] == ["Acme is created."]
    model.assert_complete()


def test_calls_saved_without_a_result_run_now(registry, created):
    model = ScriptedModel([tool_calls(CREATE_ACME)])
    question = Message.user("Create Acme")
    # Died once the model's answer calling the tool was saved, before the tool ran.
    history = interrupted(model, registry, question, die_after=1)
    assert created == [] and history[-1].tool_uses

    model.then(reply("Done."))
    ledger = Ledger()
    events = runner_for(model, registry, executed=ledger).recover(history).collect()
    assert created == ["Acme"]
    [result] = [event for event in events if isinstance(event, ToolResult)]
    assert result.status == "ok"
    assert ledger.asked == [history[-1].tool_uses[0].id]
    assert events[-1].stop_reason == "end_turn"


def test_a_call_the_ledger_knows_is_not_run_even_without_its_result_in_the_transcript(registry, created):
    """The idempotency key: whatever the transcript says, a call the ledger says ran gets its
    saved result, and the write is not executed twice."""
    model = ScriptedModel([tool_calls(CREATE_ACME)])
    question = Message.user("Create Acme")
    history = interrupted(model, registry, question, die_after=1)
    call = history[-1].tool_uses[0]
    ledger = Ledger({call.id: ToolResultBlock(call.id, '{"id": 41}')})

    model.then(reply("Acme is number 41."))
    sink = Sink()
    events = runner_for(model, registry, sink, executed=ledger).recover(history).collect()
    assert created == []
    assert not [event for event in events if isinstance(event, ToolResult)]
    assert sink.messages[0] == Message.tool_result(call.id, '{"id": 41}')
    assert unwrap_tool_result(model.requests[-1].messages[-1].tool_results[0].content) == '{"id": 41}'
    assert events[-1] == Done("end_turn", "Acme is number 41.")


def test_the_ledger_is_not_asked_about_calls_the_model_just_made(registry, created):
    model = ScriptedModel([tool_calls(CREATE_ACME)])
    question = Message.user("Create Acme")
    history = interrupted(model, registry, question, die_after=2)
    model.then(tool_calls(("crm_create", {"name": "Beta"})), reply("Both exist."))
    ledger = Ledger()
    runner_for(model, registry, executed=ledger).recover(history).collect()
    assert created == ["Acme", "Beta"]
    assert ledger.asked == []


def test_a_turn_interrupted_before_anything_but_its_message_was_saved_starts_again(registry, created):
    model = ScriptedModel([tool_calls(CREATE_ACME), reply("Created.")])
    question = Message.user("Create Acme")
    earlier = [Message.user("Hi"), Message.assistant("Hello")]
    events = runner_for(model, registry).recover([*earlier, question]).collect()
    assert created == ["Acme"]
    assert events[-1] == Done("end_turn", "Created.")
    assert model.requests[0].messages == (*earlier, question)


def test_an_answer_saved_before_the_turn_ended_ends_it_without_a_model_call(registry):
    model = ScriptedModel([])
    history = [Message.user("Hi"), Message.assistant("Hello there.")]
    events = runner_for(model, registry).recover(history).collect()
    assert events == [Done("end_turn", "Hello there.")]
    assert model.requests == []


def test_what_the_interrupted_run_spent_counts_against_the_turns_budgets(registry, created):
    model = ScriptedModel([tool_calls(CREATE_ACME)])
    question = Message.user("Create Acme")
    history = interrupted(model, registry, question, die_after=2)
    # Its tokens (turn_spent, from the usage ledger) ...
    spent = SessionUsage(100, Decimal("0.5"))
    events = runner_for(model, registry, limits=Limits(max_turn_tokens=100), turn_spent=spent)
    events = events.recover(history).collect()
    assert events[-1].stop_reason == "budget_exceeded"
    assert "budget of 100 tokens" in events[-1].text
    # ... and its model calls, read from the transcript.
    events = runner_for(model, registry, limits=Limits(max_iterations=1)).recover(history).collect()
    assert events[-1].stop_reason == "budget_exceeded"
    assert "limit of 1 model calls" in events[-1].text
    assert model.remaining == 0 and created == ["Acme"]


def test_a_transcript_without_a_user_message_cannot_be_recovered(registry):
    with pytest.raises(ValueError, match="no user message"):
        runner_for(ScriptedModel([]), registry).recover([])


def test_answered_in_turn_looks_at_the_current_turn_only():
    call = tool_calls(CREATE_ACME).response.message
    call_id = call.tool_uses[0].id
    result = Message.tool_result(call_id, "ok")
    assert answered_in_turn([Message.user("go"), call, result], call_id)
    assert not answered_in_turn([Message.user("go"), call], call_id)
    assert not answered_in_turn([Message.user("go"), call, result, Message.user("again")], call_id)
