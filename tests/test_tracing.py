"""The engine's OpenTelemetry spans, exported by the real SDK to its in-memory exporter."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from ai_engine import (
    AgentConfig,
    CircuitBreaker,
    FallbackChain,
    Link,
    Message,
    ServerError,
    ThreadedToolContext,
    TokenUsage,
    ToolRegistry,
    TurnRunner,
    tracing,
)
from ai_engine.rag.retriever import KnowledgeRetriever
from ai_engine.testing import FakeClock, ScriptedModel, failure, reply, tool_calls

PROMPT = "What is the balance of account PROMPT-7731?"
ANSWER = "The balance is ANSWER-5512 euros."
ARGUMENT = "ARGUMENT-4409"
RESULT = "RESULT-8826"
SECRET = "sk-ant-api03-SECRETKEY0123456789abcdef"


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.set_tracer_provider(provider)
    yield exporter
    tracing.set_tracer_provider(None)
    provider.shutdown()


class Store:
    kind = "memory"

    def search(self, vector, *, company_id, knowledge_base_ids, top_k, score_threshold=None):
        return []


class Embedder:
    def embed(self, texts):
        return [[1.0, 0.0] for _text in texts]


def make_registry():
    registry = ToolRegistry()
    schema = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}

    @registry.tool("demo.lookup", description="Look a text up.", input_schema=schema)
    def lookup(ctx, args):
        # A retrieval inside a tool is traced as the tool call's child.
        KnowledgeRetriever(Store(), Embedder()).retrieve(
            args["text"], company_id=1, knowledge_base_ids=[1], top_k=3
        )
        return {"rows": [{"value": RESULT, "api_key": SECRET}, {"value": RESULT}], "note": SECRET}

    @registry.tool("demo.broken", description="Fails.", input_schema={"type": "object"})
    def broken(ctx, args):
        raise RuntimeError(f"failed on {RESULT}")

    return registry


def run_turn_with_fallback(**runner_options):
    """A turn whose first request falls back from the primary provider to the second one, then
    two tool calls, then an answer from the primary."""
    clock = FakeClock()
    primary = ScriptedModel(
        [
            failure(ServerError("overloaded", status=529, provider="anthropic")),
            reply(ANSWER, usage=TokenUsage(120, 9, cache_read_tokens=100)),
        ],
        provider="anthropic",
    )
    fallback = ScriptedModel(
        [
            tool_calls(
                ("demo_lookup", {"text": ARGUMENT}),
                ("demo_broken", {"why": ARGUMENT}),
                usage=TokenUsage(50, 12, cache_write_tokens=40),
            )
        ],
        provider="openrouter",
    )
    chain = FallbackChain(
        [
            Link(primary, "claude-sonnet-4-6", CircuitBreaker(5, 30, clock)),
            Link(fallback, "anthropic/claude-sonnet-4.6", CircuitBreaker(5, 30, clock)),
        ]
    )
    runner = TurnRunner(
        AgentConfig(model="claude-sonnet-4-6", system_prompt=f"Never tell {SECRET}."),
        chain,
        make_registry(),
        ThreadedToolContext(),
        clock=clock,
        **runner_options,
    )
    runner.trace_attributes = {tracing.GEN_AI_AGENT_NAME: "finance", tracing.GEN_AI_CONVERSATION_ID: "42"}
    turn = runner.run([], Message.user(PROMPT))
    events = turn.collect()
    return turn, events


def by_name(spans, prefix):
    return [span for span in spans if span.name.startswith(prefix)]


def test_a_turn_is_one_span_tree_with_its_requests_tools_and_fallback(spans):
    turn, _events = run_turn_with_fallback()
    finished = spans.get_finished_spans()
    [root] = by_name(finished, "invoke_agent")
    chats = sorted(by_name(finished, "chat "), key=lambda span: span.start_time)
    tools = sorted(by_name(finished, "execute_tool "), key=lambda span: span.start_time)
    [retrieval] = by_name(finished, "retrieval ")
    assert len(finished) == 6 and len(chats) == 2 and len(tools) == 2

    assert root.name == "invoke_agent finance" and root.parent is None
    assert turn.trace_id == trace.format_trace_id(root.context.trace_id)
    assert {span.context.trace_id for span in finished} == {root.context.trace_id}
    for child in chats + tools:
        assert child.parent.span_id == root.context.span_id
    assert retrieval.parent.span_id == tools[0].context.span_id
    assert root.attributes[tracing.GEN_AI_OPERATION_NAME] == "invoke_agent"
    assert root.attributes[tracing.GEN_AI_CONVERSATION_ID] == "42"
    assert root.attributes[tracing.AIA_TURN_STOP_REASON] == "end_turn"
    assert root.attributes[tracing.GEN_AI_USAGE_INPUT_TOKENS] == 170

    first, second = chats
    assert first.kind == SpanKind.CLIENT
    assert first.attributes[tracing.GEN_AI_OPERATION_NAME] == "chat"
    assert first.attributes[tracing.AIA_FALLBACK_USED] is True
    assert first.attributes[tracing.AIA_PROVIDER_ATTEMPTS] == 2
    assert first.attributes[tracing.GEN_AI_PROVIDER_NAME] == "openrouter"
    assert first.attributes[tracing.GEN_AI_REQUEST_MODEL] == "anthropic/claude-sonnet-4.6"
    assert first.attributes[tracing.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_use",)
    assert first.attributes[tracing.GEN_AI_USAGE_INPUT_TOKENS] == 50
    assert first.attributes[tracing.GEN_AI_USAGE_OUTPUT_TOKENS] == 12
    assert first.attributes[tracing.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 40
    assert first.attributes[tracing.AIA_PROVIDER_RETRIES] == 0
    assert tracing.AIA_TIME_TO_FIRST_TOKEN_MS in first.attributes
    [failed] = first.events
    assert failed.name == tracing.SPAN_PROVIDER_FAILED
    assert failed.attributes[tracing.GEN_AI_PROVIDER_NAME] == "anthropic"
    assert failed.attributes[tracing.ERROR_TYPE] == "provider_server_error"
    assert second.attributes[tracing.AIA_FALLBACK_USED] is False
    assert second.attributes[tracing.GEN_AI_PROVIDER_NAME] == "anthropic"
    assert second.attributes[tracing.GEN_AI_RESPONSE_FINISH_REASONS] == ("end_turn",)
    assert second.attributes[tracing.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 100

    lookup, broken = tools
    assert lookup.attributes[tracing.GEN_AI_TOOL_NAME] == "demo.lookup"
    assert lookup.attributes[tracing.GEN_AI_OPERATION_NAME] == "execute_tool"
    assert lookup.attributes[tracing.AIA_TOOL_STATUS] == "ok"
    assert lookup.attributes[tracing.AIA_TOOL_ROWS] == 2
    assert lookup.attributes[tracing.AIA_TOOL_RESULT_SIZE] > 0
    assert lookup.status.status_code == StatusCode.UNSET
    assert broken.attributes[tracing.AIA_TOOL_STATUS] == "error"
    assert broken.status.status_code == StatusCode.ERROR
    assert retrieval.attributes[tracing.AIA_RETRIEVAL_STORE] == "memory"
    assert retrieval.attributes[tracing.AIA_RETRIEVAL_TOP_K] == 3
    assert retrieval.attributes[tracing.AIA_RETRIEVAL_RESULTS] == 0


def test_no_span_carries_a_prompt_an_answer_tool_content_or_a_secret(spans):
    _turn, events = run_turn_with_fallback()
    assert ANSWER in events[-1].text  # the texts did go through the turn
    finished = spans.get_finished_spans()
    assert finished
    for text in (PROMPT, "PROMPT-7731", "ANSWER-5512", ARGUMENT, RESULT, SECRET, "Never tell"):
        for span in finished:
            for key, value in _everything(span):
                assert text not in str(value), f"{span.name} {key} carries {text!r}"


def test_a_turn_joins_the_trace_it_is_given(spans):
    parent = tracing.context_from({"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
    runner = TurnRunner(
        AgentConfig(model="m"), ScriptedModel([reply("ok")]), ToolRegistry(), ThreadedToolContext()
    )
    runner.trace_parent = parent
    turn = runner.run([], Message.user("hi"))
    turn.collect()
    [root] = by_name(spans.get_finished_spans(), "invoke_agent")
    assert turn.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert root.parent.span_id == int("b7ad6b7169203331", 16) and root.parent.is_remote


def test_without_an_sdk_spans_are_no_ops_that_still_carry_an_incoming_trace():
    tracing.set_tracer_provider(None)
    parent = tracing.context_from({"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
    runner = TurnRunner(
        AgentConfig(model="m"), ScriptedModel([reply("ok")]), ToolRegistry(), ThreadedToolContext()
    )
    runner.trace_parent = parent
    turn = runner.run([], Message.user("hi"))
    turn.collect()
    assert turn.trace_id == "0af7651916cd43dd8448eb211c80319c"
    # Without a trace to join, a no-op turn has no trace id (nothing to store or log).
    runner.trace_parent = None
    alone = runner.run([], Message.user("again"))
    runner.adapter = ScriptedModel([reply("ok")])
    alone.collect()
    assert alone.trace_id == ""


@pytest.mark.parametrize(
    "headers",
    [
        {"traceparent": "garbage"},
        {"traceparent": "00-" + "0" * 32 + "-" + "0" * 16 + "-01"},  # all-zero ids are invalid
        {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" + "x" * 100_000},
        {"traceparent": 12},
        {"tracestate": "a=b"},
        {},
        None,
    ],
)
def test_a_hostile_or_missing_traceparent_gives_no_context(headers):
    assert tracing.context_from(headers) is None


def test_a_carrier_round_trips_the_current_span(spans):
    span = tracing.start_span("outer")
    with tracing.using(span):
        headers = tracing.carrier()
    span.end()
    assert headers["traceparent"] == tracing.traceparent_of(span)
    restored = tracing.context_from(headers)
    assert trace.get_current_span(restored).get_span_context().span_id == span.get_span_context().span_id
    assert tracing.carrier() == {}  # nothing current: nothing to carry


def _everything(span):
    yield "name", span.name
    yield from span.attributes.items()
    for event in span.events:
        yield "event", event.name
        yield from event.attributes.items()
    yield "status", span.status.description


def test_the_summary_request_is_a_chat_span_of_the_turn_without_the_text_it_folds(spans):
    from ai_engine.memory import Summarizer

    history = []
    for index in range(10):
        history += [Message.user(f"question {index} {PROMPT}"), Message.assistant(f"answer {index}")]
    runner = TurnRunner(
        AgentConfig(model="agent-model", memory_window=4),
        ScriptedModel([reply(ANSWER)]),
        ToolRegistry(),
        ThreadedToolContext(),
        summarizer=Summarizer(ScriptedModel([reply(f"They asked about {ANSWER}")]), "small-model"),
    )
    turn = runner.run(history, Message.user("latest"))
    turn.collect()
    assert turn.summary
    [root] = by_name(spans.get_finished_spans(), "invoke_agent")
    fold, answer = sorted(by_name(spans.get_finished_spans(), "chat "), key=lambda span: span.start_time)
    assert fold.name == "chat small-model" and fold.parent.span_id == root.context.span_id
    assert fold.attributes[tracing.AIA_REQUEST_PURPOSE] == "summary"
    assert fold.attributes[tracing.GEN_AI_USAGE_INPUT_TOKENS] == 10
    assert tracing.AIA_REQUEST_PURPOSE not in answer.attributes
    for span in spans.get_finished_spans():
        for _key, value in _everything(span):
            assert "PROMPT-7731" not in str(value) and "ANSWER-5512" not in str(value)
