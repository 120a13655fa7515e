"""The synchronous, bounded agent loop.

One turn: build the context (system prompt with rules and summary, windowed transcript), ask the
model, run the tools it calls, repeat until a final answer, an approval stop, a budget stop or a
provider failure. Every step yields events; every new assistant or tool message goes to the sink
as soon as it exists, so a crash mid-turn loses nothing already produced, and
:meth:`TurnRunner.recover` goes on from there.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Literal, Protocol

from opentelemetry.trace import Span, SpanKind

from . import tracing
from .budgets import BudgetStop, BudgetTracker, Limits, SessionUsage
from .clock import SystemClock
from .errors import ProviderError
from .events import (
    ApprovalRequired,
    Done,
    Error,
    TextDelta,
    ToolCall,
    ToolDeferred,
    ToolResult,
    ToolStatus,
    TurnEvent,
    Usage,
    WouldExecute,
)
from .memory import Summarizer, pinned_section, summary_section
from .messages import (
    Message,
    ModelRequest,
    ModelResponse,
    StreamText,
    TextBlock,
    TokenUsage,
    ToolResultBlock,
    ToolUseBlock,
)
from .ports import (
    CallLedger,
    Clock,
    ExecutedCalls,
    MessageSink,
    ModelAdapter,
    RetrievedChunk,
    ToolContext,
)
from .pricing import PriceTable
from .rag.embedder import EmbeddingModelError
from .rag.retriever import citations, cited, wrap_passages
from .rag.stores import VectorStoreError
from .redaction import StreamRedactor, redact, redact_text
from .tools import (
    Deferred,
    ToolDenied,
    ToolInputError,
    ToolRegistry,
    ToolSpec,
    ToolTimeout,
    serialize,
    truncate,
)
from .untrusted import wrap_tool_result

__all__ = [
    "AgentConfig",
    "ApprovalDecision",
    "Knowledge",
    "Summarizer",
    "ToolAnswer",
    "Turn",
    "TurnRunner",
    "answered_in_turn",
    "build_system_prompt",
    "split_window",
    "waiting_call_id",
]

_logger = logging.getLogger(__name__)

#: Ends what was streamed of an answer whose provider failed midway.
INTERRUPTED = "*(interrupted: the model's answer was cut off)*"


@dataclass(frozen=True)
class AgentConfig:
    """What an agent is, as far as one turn is concerned.

    Attributes:
        model: Provider model id.
        system_prompt: The agent's instructions.
        rules: Standing rules, appended to the system prompt (a user message cannot change them).
        limits: The turn's budgets.
        memory_window: Earlier messages kept in the context; older ones are folded into the
            running summary (once half a window of them has gathered), or left out without a
            summarizer.
        shadow_mode: Write tools are previewed, never executed.
        approval_mode: ``write``: each write tool waits for an approval decision.
        read_only: Write tools are not offered and are denied when called.
        temperature: Sampling temperature (provider default when None).
    """

    model: str
    system_prompt: str = ""
    rules: tuple[str, ...] = ()
    limits: Limits = Limits()
    memory_window: int = 20
    shadow_mode: bool = True
    approval_mode: Literal["none", "write"] = "none"
    read_only: bool = False
    temperature: float | None = None


@dataclass(frozen=True)
class ApprovalDecision:
    """A decision on the tool call a turn stopped for."""

    call_id: str
    approved: bool
    reason: str = ""


@dataclass(frozen=True)
class ToolAnswer:
    """The result of a deferred tool call (``ToolDeferred``), once the work it waited for ended.

    Attributes:
        content: What the model reads as the tool's result.
        status: ``ok``, or ``error`` when that work failed.
        cost: What that work cost, counted as the call's cost in the resumed turn.
    """

    call_id: str
    content: str
    status: ToolStatus = "ok"
    cost: Decimal = Decimal(0)


#: What a stopped turn resumes with: a decision on a held write, or a deferred call's result.
Resumption = ApprovalDecision | ToolAnswer


class Knowledge(Protocol):
    """Retrieves passages for a user message (already scoped to the agent's company and bases)."""

    def __call__(self, query: str) -> Sequence[RetrievedChunk]: ...


def build_system_prompt(config: AgentConfig) -> str:
    """The agent's own words only: what the model reads from elsewhere (the running summary,
    passages, tool results) goes in the messages, wrapped as untrusted data."""
    parts = [config.system_prompt.strip()]
    if config.rules:
        parts.append("Rules you must always follow:\n" + "\n".join(f"- {rule}" for rule in config.rules))
    return "\n\n".join(part for part in parts if part)


def split_window(history: Sequence[Message], memory_window: int) -> tuple[list[Message], list[Message]]:
    """Split ``history`` into (dropped, kept) with at most ``memory_window`` messages kept.

    The kept part always starts at a user message, so no tool result is separated from the call
    that asked for it.
    """
    start = max(0, len(history) - memory_window)
    while start < len(history) and history[start].role != "user":
        start += 1
    return list(history[:start]), list(history[start:])


@dataclass
class Turn:
    """One run of the loop: iterate it for events; afterwards it holds the outcome.

    Attributes:
        messages: Messages this turn produced (assistant and tool), in order.
        stop_reason: The ``Done`` event's stop reason.
        usage: Tokens of the turn's provider calls.
        cost: Provider and tool cost of the turn.
        summary: The running summary after this turn (None when unchanged).
        summarized: How many leading history messages the summary now covers.
        pending: The approval or the deferred call the turn stopped for, if any.
        citations: The knowledge passages given to the model, numbered as the model cites them:
            those retrieved before the answer, then those of tool results (``ToolSpec.cites``).
            ``Done`` carries the ones the answer cites.
        knowledge_error: Why the knowledge bases could not be searched before the answer (the
            turn goes on without them, and says so in an ``error`` event).
    """

    _events: Iterator[TurnEvent]
    messages: list[Message] = field(default_factory=list)
    stop_reason: str = ""
    usage: TokenUsage = TokenUsage()
    cost: Decimal = Decimal(0)
    summary: str | None = None
    summarized: int = 0
    pending: ApprovalRequired | ToolDeferred | None = None
    citations: list[dict[str, Any]] = field(default_factory=list)
    knowledge_error: str | None = None
    #: The trace of the turn's span (32 hex digits), once the turn started; "" without a trace.
    trace_id: str = ""
    _span: Span | None = None

    def __iter__(self) -> Iterator[TurnEvent]:
        return self._events

    def collect(self) -> list[TurnEvent]:
        """Run the turn to its end and return every event."""
        return list(self)

    @property
    def text(self) -> str:
        """The last assistant text of the turn."""
        for message in reversed(self.messages):
            if message.role == "assistant" and message.text:
                return message.text
        return ""


@dataclass(frozen=True)
class _Outcome:
    """Internal: a finished tool call.

    Attributes:
        result: The event, whose content is redacted (it is stored and served).
        told: What the model reads: the tool's own text, truncated, not redacted.
        would_execute: In shadow mode, the preview event of the write tool.
    """

    result: ToolResult
    told: str
    would_execute: WouldExecute | None = None


class _Stopped(Exception):
    """Internal: the turn ends now with this stop; ``partial`` is text streamed before it."""

    def __init__(self, stop: BudgetStop, partial: str = "") -> None:
        self.stop = stop
        self.partial = partial


class TurnRunner:
    """Runs turns of one agent with one model adapter, tool registry and tool context.

    Args:
        config: The agent's configuration.
        adapter: The model (a provider adapter, a fallback chain, or a scripted model in tests).
        registry: The tools offered; already filtered by the agent's allowlist.
        context: Runs tool handlers (as the session's user, in Odoo).
        pricing: Prices for the cost of provider calls.
        clock: Time source for deadlines and call budgets.
        ledger: Counts calls for tools with daily / monthly budgets.
        sink: Receives every new assistant and tool message at once.
        summarizer: Folds messages that leave the memory window into a summary.
        session_usage: Tokens and cost of the session before this turn.
        turn_spent: Tokens and cost a resumed or recovered turn spent before it stopped (for a
            decision or a deferred call) or was interrupted: it goes on within what is left of
            its turn budgets.
        executed: What the tool calls of the saved transcript that already ran returned: such a
            call is not run again when its turn resumes or is recovered (its idempotency key).
        knowledge: Retrieval for the agent's knowledge bases: called once with the user's message
            at the start of a turn; the passages are added, wrapped as untrusted data, in front
            of that message in the requests of this turn (the saved transcript stays as written).
        pinned: The facts the user asked the agent to remember (``(number, text)`` each): every
            request carries them, wrapped as untrusted data, at the head of its first message.

    Attributes:
        trace_parent: The trace context a turn's span belongs to (what started the turn: an API
            request, a queued job); None: the context current when the turn starts.
        trace_attributes: Attributes of each turn's span (agent, conversation ids).
    """

    trace_parent: Any = None
    trace_attributes: Mapping[str, Any] = {}

    def __init__(
        self,
        config: AgentConfig,
        adapter: ModelAdapter,
        registry: ToolRegistry,
        context: ToolContext,
        *,
        pricing: PriceTable | None = None,
        clock: Clock | None = None,
        ledger: CallLedger | None = None,
        sink: MessageSink | None = None,
        summarizer: Summarizer | None = None,
        session_usage: SessionUsage | None = None,
        turn_spent: SessionUsage | None = None,
        executed: ExecutedCalls | None = None,
        knowledge: Knowledge | None = None,
        pinned: Sequence[tuple[int, str]] = (),
    ) -> None:
        self.config = config
        self.adapter = adapter
        # The allowlist was applied by the caller; read-only agents never see write tools.
        self.registry = registry.filtered(
            (spec.name for spec in registry), include_write=not config.read_only
        )
        self.context = context
        self.pricing = pricing or PriceTable()
        self.clock = clock or SystemClock()
        self.ledger = ledger
        self.sink = sink
        self.summarizer = summarizer
        self.session_usage = session_usage or SessionUsage()
        self.turn_spent = turn_spent
        self.executed = executed
        self.knowledge = knowledge
        self.pinned = tuple(pinned)

    # === ENTRY POINTS === #

    def run(self, history: Sequence[Message], user_message: Message, *, summary: str | None = None) -> Turn:
        """Start a turn for ``user_message`` (already saved by the caller) after ``history``."""
        turn = Turn(iter(()))
        turn._events = self._traced(turn, self._drive(turn, list(history), user_message, None, summary))
        return turn

    def recover(self, history: Sequence[Message], *, summary: str | None = None) -> Turn:
        """Go on with a turn whose run was interrupted (its worker killed), from ``history``, its
        saved transcript: the turn starts at the last user message.

        Calls of the last assistant message without a result run now, but those the
        ``executed`` port knows (they ran, their result was saved) get their saved result
        instead; a transcript ending with tool results asks the model again; one ending with
        the user message starts the turn as :meth:`run` would; one ending with an answer ends
        the turn with it. What the interrupted run spent counts against the turn's budgets:
        ``turn_spent``, and its model calls and tool results in ``history``.

        Raises:
            ValueError: When ``history`` has no user message.
        """
        history = list(history)
        start = _current_turn_start(history)
        if not history or history[start].role != "user":
            raise ValueError("no user message opens the turn to recover")
        turn = Turn(iter(()))
        if start == len(history) - 1:
            events = self._drive(turn, history[:start], history[start], None, summary, recovering=True)
        else:
            events = self._drive(turn, history, None, None, summary, recovering=True)
        turn._events = self._traced(turn, events)
        return turn

    def resume(self, history: Sequence[Message], decision: Resumption, *, summary: str | None = None) -> Turn:
        """Continue a turn that stopped for an approval or a deferred call; ``history`` ends
        where that turn stopped.

        Raises:
            ValueError: When no call of ``history`` waits for the decision's call id.
        """
        if waiting_call_id(history) != decision.call_id:
            raise ValueError(f"no tool call {decision.call_id!r} is waiting for a decision or a result")
        turn = Turn(iter(()))
        turn._events = self._traced(turn, self._drive(turn, list(history), None, decision, summary))
        return turn

    # === LOOP === #

    def _traced(self, turn: Turn, events: Iterator[TurnEvent]) -> Iterator[TurnEvent]:
        """``events`` inside the turn's ``invoke_agent`` span, started when the turn starts and
        ended when it ends, however it ends (its provider requests and tool calls are children).

        The span is never the current span across a ``yield``: the caller may take the next event
        in another context (a streamed HTTP response). Children name it as their parent instead.
        """
        attributes = dict(self.trace_attributes)
        agent = attributes.get(tracing.GEN_AI_AGENT_NAME)
        attributes[tracing.GEN_AI_OPERATION_NAME] = tracing.OP_INVOKE_AGENT
        attributes[tracing.GEN_AI_REQUEST_MODEL] = self.config.model
        span = tracing.start_span(
            f"invoke_agent {agent}" if agent else "invoke_agent", attributes, parent=self.trace_parent
        )
        turn._span, turn.trace_id = span, tracing.trace_id_of(span)
        try:
            yield from events
        except Exception as exc:
            tracing.record_error(span, type(exc).__name__)
            raise
        finally:
            if span.is_recording():
                span.set_attributes(
                    {
                        tracing.AIA_TURN_STOP_REASON: turn.stop_reason or "interrupted",
                        tracing.GEN_AI_USAGE_INPUT_TOKENS: turn.usage.input_tokens,
                        tracing.GEN_AI_USAGE_OUTPUT_TOKENS: turn.usage.output_tokens,
                    }
                )
            span.end()

    def _drive(
        self,
        turn: Turn,
        history: list[Message],
        user_message: Message | None,
        decision: Resumption | None,
        summary: str | None,
        *,
        recovering: bool = False,
    ) -> Iterator[TurnEvent]:
        earlier = self.turn_spent if decision is not None or recovering else None
        budget = BudgetTracker(self.config.limits, self.clock, self.session_usage, earlier)
        transcript = _answers_after_their_calls(history)
        if user_message is not None:
            # A new message supersedes calls still waiting for a decision: close them so the
            # transcript stays valid for every provider.
            for call in _unresolved_calls(transcript):
                self._append(
                    turn, transcript, _not_executed(call, "the user sent a new message instead of deciding")
                )
            transcript.append(user_message)
        turn_start = _current_turn_start(transcript)
        try:
            summary, window = yield from self._fold(
                turn, budget, history, transcript[: turn_start + 1], summary
            )
        except _Stopped as stopped:
            yield from self._stop(turn, transcript, stopped)
            return
        system = build_system_prompt(self.config)
        # A recovered turn's requests carry the passages its interrupted run's requests carried.
        asked = user_message if user_message is not None or not recovering else transcript[turn_start]
        knowledge = self._retrieve(turn, asked) if asked is not None else None
        if turn.knowledge_error:
            # Not the end of the turn: the user must see that the answer lacks the knowledge.
            yield Error("knowledge_unavailable", turn.knowledge_error)
        if recovering:
            budget.iterations, budget.tool_calls = _steps(transcript[turn_start:])
            last = transcript[-1]
            if last.role == "assistant" and not last.tool_uses:
                # The answer was saved; only the turn's end was not.
                turn.stop_reason = "end_turn"
                yield Done("end_turn", last.text)
                return
        try:
            if decision is not None or recovering:
                # Calls read back from the saved transcript: they may have run already.
                yield from self._run_tool_calls(
                    turn, transcript, budget, _unresolved_calls(transcript), decision, saved=True
                )
                if turn.pending:
                    return
            while True:
                stop = budget.check_request()
                if stop:
                    raise _Stopped(stop)
                # Tool results are wrapped as untrusted data in the request only: the transcript
                # keeps them as the tools gave them, so a result is never wrapped twice.
                messages = [_for_model(message) for message in window + transcript[turn_start:]]
                if knowledge is not None:
                    # The passages precede the user's message in every request of this turn.
                    opening = messages[len(window)]
                    messages[len(window)] = Message(opening.role, (knowledge, *opening.content))
                memory = [pinned_section(self.pinned)] if self.pinned else []
                memory += [summary_section(summary)] if summary else []
                if memory:
                    # What the user asked to remember and the earlier conversation come first, in
                    # the first user message.
                    first = 0 if messages[0].role == "user" else len(window)
                    head = messages[first]
                    messages[first] = Message(head.role, (*map(TextBlock, memory), *head.content))
                response = yield from self._request(turn, budget, system, messages, transcript)
                if response is None:
                    return
                self._append(turn, transcript, response.message, stored=_redacted_text(response.message))
                calls = response.message.tool_uses
                if not calls:
                    yield self._done(turn, response.stop_reason)
                    return
                yield from self._run_tool_calls(turn, transcript, budget, calls, None)
                if turn.pending:
                    return
        except _Stopped as stopped:
            yield from self._stop(turn, transcript, stopped)

    def _request(
        self,
        turn: Turn,
        budget: BudgetTracker,
        system: str,
        messages: list[Message],
        transcript: list[Message],
    ) -> Generator[TurnEvent, None, ModelResponse | None]:
        request = ModelRequest(
            model=self.config.model,
            system=system,
            messages=tuple(messages),
            tools=self.registry.definitions(),
            max_tokens=budget.max_output_tokens(),
            timeout=max(budget.remaining_seconds(), 0.001),
            temperature=self.config.temperature,
        )
        started = self.clock.monotonic()
        response: ModelResponse | None = None
        partial: list[str] = []
        # What is shown of the answer is redacted as it streams, as what is stored is.
        shown = StreamRedactor()
        span = tracing.start_span(
            f"chat {request.model}",
            _request_attributes(
                self.adapter.provider, request.model, request.max_tokens, request.temperature
            ),
            kind=SpanKind.CLIENT,
            parent=turn._span,
        )
        stream = self.adapter.stream(request)
        try:
            # The first step (connection, the SDK's retries, the fallback chain's choice of a
            # provider) runs inside the span, so what it records lands on this request.
            items = iter(stream)
            with tracing.using(span):
                head = next(items, None)
            if head is not None:
                span.set_attribute(
                    tracing.AIA_TIME_TO_FIRST_TOKEN_MS, round((self.clock.monotonic() - started) * 1000)
                )
            for item in items if head is None else itertools.chain((head,), items):
                if isinstance(item, StreamText):
                    partial.append(item.text)
                    released = shown.feed(item.text)
                    if released:
                        yield TextDelta(released)
                    deadline = budget.deadline_stop()
                    if deadline:
                        yield from _release(shown)
                        raise _Stopped(deadline, "".join(partial))
                else:
                    response = item
            yield from _release(shown)
        except _Stopped as stopped:
            tracing.record_error(span, stopped.stop.code)
            raise
        except ProviderError as exc:
            tracing.record_error(span, exc.code)
            # What streamed before the failure stays shown (and kept in the stopped message).
            yield from _release(shown)
            deadline = budget.deadline_stop()
            if deadline:
                raise _Stopped(deadline, "".join(partial)) from exc
            _logger.warning("provider %s failed: %s (%s)", exc.provider or "?", exc.code, exc.status)
            if partial:
                # What was shown of the answer stays in the transcript, marked as cut.
                cut = Message("assistant", (TextBlock(f"{''.join(partial)}\n\n{INTERRUPTED}"),))
                self._append(turn, transcript, cut, stored=_redacted_text(cut))
            yield Error(exc.code, exc.message, exc.retry_after)
            yield self._done(turn, "error")
            return None
        except BaseException as exc:
            if not isinstance(exc, GeneratorExit):
                tracing.record_error(span, type(exc).__name__)
            raise
        finally:
            _end_request(stream, span, response)
        if response is None:
            yield Error("provider_incomplete", "The model's answer ended before it was complete.")
            yield self._done(turn, "error")
            return None
        cost = self.pricing.cost(response.model or self.config.model, response.usage)
        budget.add_request(response.usage, cost)
        turn.usage, turn.cost = budget.usage, budget.cost
        yield self._usage_event(response, self.adapter, self.config.model, cost, started)
        return response

    def _run_tool_calls(
        self,
        turn: Turn,
        transcript: list[Message],
        budget: BudgetTracker,
        calls: Sequence[ToolUseBlock],
        decision: Resumption | None,
        *,
        saved: bool = False,
    ) -> Iterator[TurnEvent]:
        """Run ``calls`` in order; ``saved``: they come from the saved transcript, not from the
        model's last answer, and one that already ran (the ``executed`` port knows its result)
        gets that result instead of running twice."""
        for index, call in enumerate(calls):
            known = self.executed.result_of(call.id) if saved and self.executed is not None else None
            if known is not None:
                budget.add_tool_call(Decimal(0))
                self._append(turn, transcript, Message("tool", (known,)))
                continue
            decided = decision is not None and call.id == decision.call_id
            # A deferred call's answer is work already done: it is recorded whatever is left.
            stop = None if decided and isinstance(decision, ToolAnswer) else budget.check_tool_call()
            if stop:
                for skipped in calls[index:]:
                    self._append(turn, transcript, _not_executed(skipped, stop.message))
                raise _Stopped(stop)
            spec = self.registry.by_wire_name(call.name)
            arguments = redact(call.input, spec.redact_keys if spec else ())
            if not decided:
                yield ToolCall(call.id, spec.name if spec else call.name, arguments)
            name = spec.name if spec else call.name
            span = tracing.start_span(
                f"execute_tool {name}",
                {
                    tracing.GEN_AI_OPERATION_NAME: tracing.OP_EXECUTE_TOOL,
                    tracing.GEN_AI_TOOL_NAME: name,
                    tracing.GEN_AI_TOOL_CALL_ID: call.id,
                    tracing.GEN_AI_TOOL_TYPE: "function",
                },
                parent=turn._span,
            )
            try:
                # Current while the handler runs: what it traces (a retrieval) is its child.
                with tracing.using(span):
                    outcome = self._execute(call, spec, arguments, decision if decided else None)
            except BaseException as exc:
                tracing.record_error(span, type(exc).__name__)
                span.end()
                raise
            _end_tool_span(span, outcome)
            if isinstance(outcome, (ApprovalRequired, ToolDeferred)):
                turn.pending = outcome
                yield outcome
                # The stop reason is the event's type: approval_required or tool_deferred.
                yield self._done(turn, outcome.type)
                return
            result = outcome.result
            if outcome.would_execute is not None:
                # Before the result reaches the sink: a sink that commits the result with its
                # event (the tool's effects, its audit row) has the preview by then.
                yield outcome.would_execute
            budget.add_tool_call(result.cost)
            turn.cost = budget.cost
            is_error = result.status != "ok"
            # The model reads the tool's own text; what is stored (sink, turn) is the redacted one.
            self._append(
                turn,
                transcript,
                Message.tool_result(call.id, outcome.told, is_error=is_error),
                stored=Message.tool_result(call.id, result.content, is_error=is_error),
            )
            turn.citations.extend(result.citations)
            yield result

    def _execute(
        self,
        call: ToolUseBlock,
        spec: ToolSpec | None,
        arguments: dict[str, Any],
        decision: Resumption | None,
    ) -> _Outcome | ApprovalRequired | ToolDeferred:
        """Run one call through every check.

        Returns:
            The outcome (with, in shadow mode, the ``would_execute`` event); or the approval the
            call must wait for; or, when its handler deferred it, what it waits for.
        """

        def result(status: ToolStatus, content: str, *, stored: str | None = None, **extra: Any) -> _Outcome:
            """``content`` for the model; ``stored`` (default: ``content`` redacted) for the event."""
            name = spec.name if spec else call.name
            redacted = redact_text(content) if stored is None else stored
            return _Outcome(
                ToolResult(call.id, name, status, redacted, arguments=arguments, **extra), content
            )

        if isinstance(decision, ToolAnswer):
            # The call ran its checks and its handler when it was deferred.
            return result(decision.status, decision.content, cost=decision.cost)
        if spec is None:
            offered = ", ".join(tool.wire_name for tool in self.registry) or "none"
            return result("error", f"Unknown tool {call.name!r}. Tools you may call: {offered}.")
        if call.input_error:
            return result("error", f"The arguments are not a valid JSON object: {call.input_error}")
        invalid = spec.input_error(call.input)
        if invalid:
            return result("error", f"Invalid arguments: {invalid}. Fix them and call the tool again.")
        if decision is not None and not decision.approved:
            reason = f" Reason: {decision.reason}" if decision.reason else ""
            return result("denied", f"The user rejected this action; it was not executed.{reason}")
        if self.registry.rate_limiter and not self.registry.rate_limiter.allow(spec.name, spec.rate_limit):
            return result("denied", f"Rate limit of {spec.rate_limit:g} calls per second reached; try later.")
        over_budget = self._call_budget_error(spec)
        if over_budget:
            return result("denied", over_budget)
        if spec.mode == "write" and decision is None:
            if self.config.read_only:
                return result("denied", "This agent is read-only: write tools are not available.")
            # Shadow mode wins over approval mode: nothing runs, so there is nothing to approve.
            if self.config.shadow_mode:
                preview = self._preview(spec, call.input)
                content = serialize({"shadow_mode": True, "executed": False, "would_have": preview})
                shadowed = result("shadowed", content)
                return replace(shadowed, would_execute=WouldExecute(call.id, spec.name, arguments, preview))
            if self.config.approval_mode == "write":
                return ApprovalRequired(call.id, spec.name, arguments, self._preview(spec, call.input))
            if spec.needs_approval:
                return result(
                    "denied",
                    "This action runs only once a person approves it, and this agent does not ask for "
                    "approval: it was not executed. Tell the user it needs an agent in approval mode.",
                )
        return self._invoke(spec, call, arguments, result)

    def _invoke(
        self, spec: ToolSpec, call: ToolUseBlock, arguments: dict[str, Any], result: Any
    ) -> _Outcome | ToolDeferred:
        started = self.clock.monotonic()
        if self.ledger is not None:
            self.ledger.record_call(spec.name, self.clock.now())

        def elapsed() -> int:
            return round((self.clock.monotonic() - started) * 1000)

        try:
            output = self.context.invoke(spec.handler, dict(call.input), timeout=spec.timeout)
        except ToolTimeout as exc:
            return result("timeout", f"The tool timed out: {exc}", latency_ms=elapsed(), cost=spec.cost)
        except ToolDenied as exc:
            return result("denied", f"Access denied: {exc}", latency_ms=elapsed())
        except ToolInputError as exc:
            return result("error", f"Invalid input: {exc}", latency_ms=elapsed(), cost=spec.cost)
        except Exception as exc:
            _logger.warning("tool %s failed with %s", spec.name, type(exc).__name__, exc_info=True)
            return result(
                "error", f"The tool failed: {type(exc).__name__}: {exc}", latency_ms=elapsed(), cost=spec.cost
            )
        if isinstance(output, Deferred):
            return ToolDeferred(call.id, spec.name, arguments, output.reason, dict(output.ref))
        bad_output = spec.output_error(output)
        if bad_output:
            return result(
                "error",
                f"The tool returned invalid output: {bad_output}",
                latency_ms=elapsed(),
                cost=spec.cost,
            )
        text = serialize(output)
        redacted = redact(output, spec.redact_keys)
        max_chars = self.config.limits.max_result_chars
        return result(
            "ok",
            truncate(text, max_chars),
            stored=truncate(serialize(redacted), max_chars),
            output=redacted,
            result_size=len(text),
            latency_ms=elapsed(),
            cost=spec.cost,
            citations=_cited(spec, redacted),
        )

    # === HELPERS === #

    def _call_budget_error(self, spec: ToolSpec) -> str | None:
        if self.ledger is None or (spec.daily_budget is None and spec.monthly_budget is None):
            return None
        now = self.clock.now().astimezone(timezone.utc)
        day = datetime(now.year, now.month, now.day, tzinfo=timezone.utc)
        checks = (("daily", spec.daily_budget, day), ("monthly", spec.monthly_budget, day.replace(day=1)))
        for label, limit, since in checks:
            if limit is not None and self.ledger.count_calls(spec.name, since) >= limit:
                return f"The {label} budget of {limit} calls for this tool is used up."
        return None

    def _preview(self, spec: ToolSpec, arguments: dict[str, Any]) -> str:
        """What a person reads of a write call before it runs; redacted, as it is stored."""
        if spec.preview is None:
            shown = truncate(serialize(redact(arguments, spec.redact_keys)), 2000)
            return f"{spec.display_name or spec.name} with {shown}"
        try:
            return redact_text(spec.preview(self.context, dict(arguments)))
        except Exception as exc:  # noqa: BLE001 - a broken preview must not break the turn
            return redact_text(f"{spec.name} (no preview: {type(exc).__name__}: {exc})")

    def _retrieve(self, turn: Turn, user_message: Message) -> TextBlock | None:
        if self.knowledge is None or not user_message.text.strip():
            return None
        try:
            # A retrieval the knowledge port traces is a child of the turn.
            with tracing.using(turn._span) if turn._span is not None else contextlib.nullcontext():
                chunks = list(self.knowledge(user_message.text))
        except Exception as exc:  # a knowledge outage must not break the turn
            _logger.warning("knowledge retrieval failed: %s", type(exc).__name__, exc_info=True)
            # The store's and the embedder's errors are written for people; others are not shown.
            reason = (
                str(exc) if isinstance(exc, (VectorStoreError, EmbeddingModelError)) else type(exc).__name__
            )
            turn.knowledge_error = (
                f"The knowledge bases could not be searched, so this answer does not use them: {reason}"
            )
            return TextBlock(
                "<knowledge>The knowledge bases could not be searched for this message; if the answer "
                "depends on them, say so.</knowledge>"
            )
        turn.citations = citations(chunks)
        return TextBlock(wrap_passages(chunks)) if chunks else None

    def _fold(
        self,
        turn: Turn,
        budget: BudgetTracker,
        history: list[Message],
        upto: list[Message],
        summary: str | None,
    ) -> Generator[TurnEvent, None, tuple[str | None, list[Message]]]:
        """The running summary and the earlier messages this turn's requests carry (``upto``: the
        transcript up to the current turn's opening message).

        Once half a memory window of messages has gone past the window, they are folded into the
        summary: one request, metered and within the turn's budgets like any other (not a step of
        the loop); until then the requests carry them with the window, so nothing is out of both
        (without a summarizer, what leaves the window is left out). A failed request keeps the
        summary as it was (the messages are folded at a later turn) and the turn goes on with the
        window, saying so.
        """
        *prior, opening = upto
        dropped, kept = split_window(prior, self.config.memory_window)
        if self.summarizer is None:
            return summary, kept
        if len(dropped) < max(2, self.config.memory_window // 2):
            return summary, prior
        stop = budget.check_request()
        if stop:
            raise _Stopped(stop)
        request = self.summarizer.request(summary, dropped, timeout=max(budget.remaining_seconds(), 0.001))
        request = replace(request, max_tokens=max(min(request.max_tokens, budget.max_output_tokens()), 1))
        started = self.clock.monotonic()
        response = None
        attributes = _request_attributes(
            self.summarizer.adapter.provider, request.model, request.max_tokens, request.temperature
        )
        attributes[tracing.AIA_REQUEST_PURPOSE] = "summary"
        span = tracing.start_span(
            f"chat {request.model}", attributes, kind=SpanKind.CLIENT, parent=turn._span
        )
        stream = self.summarizer.adapter.stream(request)
        try:
            # Nothing is yielded while the summary streams: the span may be current throughout.
            with tracing.using(span):
                for item in stream:
                    if not isinstance(item, StreamText):
                        response = item
        except ProviderError as exc:
            tracing.record_error(span, exc.code)
            _logger.warning("summary request failed: %s (%s)", exc.code, exc.status)
        finally:
            _end_request(stream, span, response)
        text = response.message.text.strip() if response is not None else ""
        if response is not None:
            cost = self.pricing.cost(response.model or request.model, response.usage)
            budget.add_request(response.usage, cost, iteration=False)
            turn.usage, turn.cost = budget.usage, budget.cost
            yield self._usage_event(response, self.summarizer.adapter, request.model, cost, started)
        if not text:
            yield Error(
                "summary_unavailable",
                "The earlier messages could not be summarized; this answer sees only the recent ones.",
            )
            return summary, kept
        # Counted in the history as given: the window starts at its first kept message.
        first_kept = kept[0] if kept else opening
        turn.summary = text
        turn.summarized = next(
            (index for index, message in enumerate(history) if message is first_kept), len(history)
        )
        return text, kept

    def _usage_event(
        self, response: ModelResponse, adapter: ModelAdapter, model: str, cost: Decimal, started: float
    ) -> Usage:
        usage = response.usage
        return Usage(
            provider=response.provider or adapter.provider,
            model=response.model or model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            cost=cost,
            latency_ms=round((self.clock.monotonic() - started) * 1000),
        )

    def _stop(self, turn: Turn, transcript: list[Message], stopped: _Stopped) -> Iterator[TurnEvent]:
        stop = stopped.stop
        text = f"{stopped.partial}\n\n{stop.message}" if stopped.partial else stop.message
        message = Message("assistant", (TextBlock(text),))
        self._append(turn, transcript, message, stored=_redacted_text(message))
        yield Error(stop.code, stop.message)
        yield self._done(turn, "budget_exceeded")

    def _append(
        self, turn: Turn, transcript: list[Message], message: Message, *, stored: Message | None = None
    ) -> None:
        """Add ``message`` to the transcript the model reads; the turn and the sink get ``stored``
        (the same message with its content redacted) when given."""
        transcript.append(message)
        stored = stored or message
        turn.messages.append(stored)
        if self.sink is not None:
            self.sink.append(stored)

    def _done(self, turn: Turn, stop_reason: str) -> Done:
        turn.stop_reason = stop_reason
        # The sources of the answer: the passages it cites as [n], not every one it was given.
        return Done(stop_reason, turn.text, tuple(cited(turn.citations, turn.text)))


def _request_attributes(
    provider: str, model: str, max_tokens: int, temperature: float | None
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        tracing.GEN_AI_OPERATION_NAME: tracing.OP_CHAT,
        tracing.GEN_AI_PROVIDER_NAME: provider,
        tracing.GEN_AI_REQUEST_MODEL: model,
        tracing.GEN_AI_REQUEST_MAX_TOKENS: max_tokens,
    }
    if temperature is not None:
        attributes[tracing.GEN_AI_REQUEST_TEMPERATURE] = temperature
    return attributes


def _response_attributes(response: ModelResponse) -> dict[str, Any]:
    usage = response.usage
    attributes: dict[str, Any] = {
        tracing.GEN_AI_RESPONSE_MODEL: response.model,
        tracing.GEN_AI_RESPONSE_FINISH_REASONS: (response.stop_reason,),
        tracing.GEN_AI_USAGE_INPUT_TOKENS: usage.input_tokens,
        tracing.GEN_AI_USAGE_OUTPUT_TOKENS: usage.output_tokens,
        tracing.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: usage.cache_read_tokens,
        tracing.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: usage.cache_write_tokens,
        tracing.AIA_PROVIDER_RETRIES: response.retries,
    }
    if response.provider:
        attributes[tracing.GEN_AI_PROVIDER_NAME] = response.provider
    return attributes


def _end_tool_span(span: Span, outcome: _Outcome | ApprovalRequired | ToolDeferred) -> None:
    """Status, rows, size and latency of a tool call; never its arguments or its result."""
    if not span.is_recording():
        span.end()
        return
    if isinstance(outcome, (ApprovalRequired, ToolDeferred)):
        span.set_attribute(tracing.AIA_TOOL_STATUS, outcome.type)
        span.end()
        return
    result = outcome.result
    attributes: dict[str, Any] = {
        tracing.AIA_TOOL_STATUS: result.status,
        tracing.AIA_TOOL_RESULT_SIZE: result.result_size,
        tracing.AIA_TOOL_LATENCY_MS: result.latency_ms,
    }
    rows = _rows(result.output)
    if rows is not None:
        attributes[tracing.AIA_TOOL_ROWS] = rows
    span.set_attributes(attributes)
    if result.status in ("error", "timeout"):
        tracing.record_error(span, result.status)
    span.end()


def _rows(output: Any) -> int | None:
    """Rows a tool returned: the length of a list output, or of the longest list in a dict
    output (``{"rows": [...], "total": ...}``); None when it returned no list."""
    if isinstance(output, (list, tuple)):
        return len(output)
    if isinstance(output, dict):
        lengths = [len(value) for value in output.values() if isinstance(value, (list, tuple))]
        return max(lengths) if lengths else None
    return None


def _release(shown: StreamRedactor) -> Iterator[TextDelta]:
    """The streamed text held back so far, now that the answer ended (or stopped)."""
    rest = shown.finish()
    if rest:
        yield TextDelta(rest)


def _cited(spec: ToolSpec, output: Any) -> tuple[dict[str, Any], ...]:
    """The passages a tool declared with ``cites`` returned (its output's ``citations``)."""
    if not spec.cites or not isinstance(output, dict):
        return ()
    cited = output.get("citations")
    if not isinstance(cited, (list, tuple)):
        return ()
    return tuple(dict(item) for item in cited if isinstance(item, dict))


def _end_request(stream: Any, span: Span, response: ModelResponse | None) -> None:
    """Close a provider request's ``stream`` and end its ``span`` with what ``response`` said."""
    close = getattr(stream, "close", None)
    if close:
        close()
    if response is not None and span.is_recording():
        span.set_attributes(_response_attributes(response))
    span.end()


def _redacted_text(message: Message) -> Message:
    """``message`` with its text blocks redacted, as it is stored and shown (the model's own words
    may repeat a secret it read); tool calls and thinking blocks, which the provider must get
    back unchanged, are kept."""
    content = tuple(
        TextBlock(redact_text(block.text)) if isinstance(block, TextBlock) else block
        for block in message.content
    )
    return Message(message.role, content)


def _answers_after_their_calls(history: Sequence[Message]) -> list[Message]:
    """``history`` with each result of a call moved before the user messages saved ahead of it.

    A turn started by a new message while calls still waited (a session stopped during an
    approval) closes them with "not executed" results, saved after that message, which was
    saved first; providers refuse a call whose result does not follow it.
    """
    ordered = list(history)
    for index, message in enumerate(ordered):
        if message.role != "tool" or index == 0 or ordered[index - 1].role != "user":
            continue
        caller = index - 1
        while caller >= 0 and ordered[caller].role != "assistant":
            caller -= 1
        answered = {block.tool_use_id for block in message.tool_results}
        if caller < 0 or not answered & {call.id for call in ordered[caller].tool_uses}:
            continue
        position = caller + 1
        while ordered[position].role == "tool":
            position += 1
        ordered.insert(position, ordered.pop(index))
    return ordered


def _current_turn_start(transcript: Sequence[Message]) -> int:
    """Index of the user message that opened the current turn."""
    for index in range(len(transcript) - 1, -1, -1):
        if transcript[index].role == "user":
            return index
    return 0


def waiting_call_id(history: Sequence[Message]) -> str | None:
    """The id of the tool call a stopped turn waits on (for a decision or a deferred call's
    result), or None: what :meth:`TurnRunner.resume` accepts."""
    unresolved = _unresolved_calls(history)
    return unresolved[0].id if unresolved else None


def answered_in_turn(history: Sequence[Message], call_id: str) -> bool:
    """Whether the current turn of ``history`` (from its last user message) holds a result of
    the tool call ``call_id``: the work of a job that continued the turn with it began."""
    start = _current_turn_start(history)
    return any(block.tool_use_id == call_id for message in history[start:] for block in message.tool_results)


def _steps(turn_messages: Sequence[Message]) -> tuple[int, int]:
    """(model answers, tool results) in ``turn_messages``, what a turn's run has used of its
    request and tool call budgets."""
    answers = sum(1 for message in turn_messages if message.role == "assistant")
    return answers, sum(len(message.tool_results) for message in turn_messages)


def _unresolved_calls(transcript: Sequence[Message]) -> list[ToolUseBlock]:
    """Tool calls of the last assistant message that have no result yet."""
    for index in range(len(transcript) - 1, -1, -1):
        message = transcript[index]
        if message.role == "assistant":
            answered = {
                block.tool_use_id for later in transcript[index + 1 :] for block in later.tool_results
            }
            return [call for call in message.tool_uses if call.id not in answered]
        if message.role == "user":
            return []
    return []


def _for_model(message: Message) -> Message:
    """``message`` as sent to the model: tool results wrapped as untrusted data."""
    if message.role != "tool":
        return message
    blocks = tuple(
        ToolResultBlock(
            block.tool_use_id, wrap_tool_result(block.content, is_error=block.is_error), block.is_error
        )
        if isinstance(block, ToolResultBlock)
        else block
        for block in message.content
    )
    return Message(message.role, blocks)


def _not_executed(call: ToolUseBlock, why: str) -> Message:
    return Message.tool_result(call.id, f"Not executed: {why}", is_error=True)
