"""OpenTelemetry spans of the suite: their names, their attribute keys, and the few helpers that
make them.

Only the OpenTelemetry *API* is imported here. Until a tracer provider is installed (ai_core
installs the SDK's when an OTLP endpoint is configured; tests and benchmarks install their own
with :func:`set_tracer_provider`) every span is the API's no-op, which still carries an incoming
trace context along, so trace ids reach logs and queued jobs either way.

Attribute names follow OpenTelemetry's GenAI semantic conventions where one exists
(``gen_ai.*``, ``error.type``, ``http.*``); the suite's own are under ``aia.``. Spans carry what
an operator needs to follow a turn (models, token counts, statuses, sizes, latencies) and never
what people or tools wrote: no prompt, answer, tool argument or result, nor the conventions'
opt-in content attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = [
    "AIA_AGENT_CODE",
    "AIA_ENDPOINT",
    "AIA_FALLBACK_USED",
    "AIA_JOB_METHOD",
    "AIA_JOB_UUID",
    "AIA_PROVIDER_ATTEMPTS",
    "AIA_PROVIDER_RETRIES",
    "AIA_RECORD_ID",
    "AIA_REQUEST_ID",
    "AIA_REQUEST_PURPOSE",
    "AIA_RETRIEVAL_RESULTS",
    "AIA_RETRIEVAL_STORE",
    "AIA_RETRIEVAL_TOP_K",
    "AIA_SESSION_ID",
    "AIA_TIME_TO_FIRST_TOKEN_MS",
    "AIA_TOOL_LATENCY_MS",
    "AIA_TOOL_RESULT_SIZE",
    "AIA_TOOL_ROWS",
    "AIA_TOOL_STATUS",
    "AIA_TURN_STOP_REASON",
    "ERROR_TYPE",
    "GEN_AI_AGENT_NAME",
    "GEN_AI_CONVERSATION_ID",
    "GEN_AI_OPERATION_NAME",
    "GEN_AI_PROVIDER_NAME",
    "GEN_AI_REQUEST_MAX_TOKENS",
    "GEN_AI_REQUEST_MODEL",
    "GEN_AI_REQUEST_TEMPERATURE",
    "GEN_AI_RESPONSE_FINISH_REASONS",
    "GEN_AI_RESPONSE_MODEL",
    "GEN_AI_TOOL_CALL_ID",
    "GEN_AI_TOOL_NAME",
    "GEN_AI_TOOL_TYPE",
    "GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS",
    "GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS",
    "GEN_AI_USAGE_INPUT_TOKENS",
    "GEN_AI_USAGE_OUTPUT_TOKENS",
    "MAX_TRACE_HEADER",
    "OP_CHAT",
    "OP_EXECUTE_TOOL",
    "OP_INVOKE_AGENT",
    "SPAN_PROVIDER_FAILED",
    "carrier",
    "context_from",
    "end_span",
    "record_error",
    "set_tracer_provider",
    "start_span",
    "trace_id_of",
    "tracer",
    "traceparent_of",
    "using",
]

TRACER_NAME = "aia"

# --- GenAI semantic conventions ---
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
OP_CHAT = "chat"
OP_EXECUTE_TOOL = "execute_tool"
OP_INVOKE_AGENT = "invoke_agent"
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
GEN_AI_AGENT_NAME = "gen_ai.agent.name"
GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_TOOL_NAME = "gen_ai.tool.name"
GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id"
GEN_AI_TOOL_TYPE = "gen_ai.tool.type"
ERROR_TYPE = "error.type"

# --- The suite's own ---
AIA_REQUEST_ID = "aia.request_id"
# Why the engine asked a model, when not for the turn's answer (``summary``: folding old messages).
AIA_REQUEST_PURPOSE = "aia.request.purpose"
AIA_ENDPOINT = "aia.endpoint"
AIA_SESSION_ID = "aia.session.id"
AIA_AGENT_CODE = "aia.agent.code"
AIA_TURN_STOP_REASON = "aia.turn.stop_reason"
AIA_TIME_TO_FIRST_TOKEN_MS = "aia.response.time_to_first_token_ms"
AIA_PROVIDER_RETRIES = "aia.provider.retries"
AIA_PROVIDER_ATTEMPTS = "aia.provider.attempts"
AIA_FALLBACK_USED = "aia.provider.fallback_used"
AIA_TOOL_STATUS = "aia.tool.status"
AIA_TOOL_ROWS = "aia.tool.rows"
AIA_TOOL_RESULT_SIZE = "aia.tool.result_size"
AIA_TOOL_LATENCY_MS = "aia.tool.latency_ms"
AIA_RETRIEVAL_STORE = "aia.retrieval.store"
AIA_RETRIEVAL_TOP_K = "aia.retrieval.top_k"
AIA_RETRIEVAL_RESULTS = "aia.retrieval.results"
AIA_JOB_UUID = "aia.job.uuid"
AIA_JOB_METHOD = "aia.job.method"
AIA_RECORD_ID = "aia.record.id"
# Event on a provider request span: one provider of the fallback chain failed before answering.
SPAN_PROVIDER_FAILED = "aia.provider.failed"

# W3C allows 55 characters for traceparent version 00 and 512 for tracestate; longer values from
# outside are dropped unread rather than parsed.
MAX_TRACE_HEADER = 512

_PROPAGATOR = TraceContextTextMapPropagator()
_provider: TracerProvider | None = None
_tracer: trace.Tracer | None = None


def set_tracer_provider(provider: TracerProvider | None) -> None:
    """Use ``provider`` for the suite's spans (None: the global one, a no-op until an SDK is set).

    Unlike the API's global provider, this one may be replaced: tests install an SDK provider
    with an in-memory exporter, benchmarks switch between providers in one process.
    """
    global _provider, _tracer
    _provider, _tracer = provider, None


def tracer() -> trace.Tracer:
    global _tracer
    if _tracer is None:
        # Without a provider of our own, the API's proxy tracer follows a global SDK set later.
        _tracer = (
            _provider.get_tracer(TRACER_NAME) if _provider is not None else trace.get_tracer(TRACER_NAME)
        )
    return _tracer


def start_span(
    name: str,
    attributes: Mapping[str, Any] | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    parent: otel_context.Context | Span | None = None,
) -> Span:
    """A started span, child of ``parent`` (a context or a span; default: the current span).
    The caller ends it (:func:`end_span`); it is made current only where :func:`using` says."""
    if isinstance(parent, Span):
        parent = trace.set_span_in_context(parent)
    return tracer().start_span(name, context=parent, kind=kind, attributes=attributes)


class using:  # lower case: used as a function, ``with using(span):``
    """``span`` is the current span inside the block (synchronous code only, never across a
    ``yield``: a generator's next step may run in another context).

    A class rather than a generator-based context manager: it runs on every provider request
    and tool call of every turn, traced or not.
    """

    __slots__ = ("_context", "_token")

    def __init__(self, span: Span) -> None:
        self._context = trace.set_span_in_context(span)

    def __enter__(self) -> None:
        self._token = otel_context.attach(self._context)

    def __exit__(self, *exc_info: object) -> None:
        otel_context.detach(self._token)


def record_error(span: Span, error_type: str) -> None:
    """Mark ``span`` failed with a stable ``error.type`` (a code or a class name, never a message:
    messages may quote what a user or a tool wrote)."""
    span.set_attribute(ERROR_TYPE, error_type)
    span.set_status(Status(StatusCode.ERROR))


def end_span(span: Span, attributes: Mapping[str, Any] | None = None) -> None:
    if attributes:
        span.set_attributes(attributes)
    span.end()


def trace_id_of(span: Span | None = None) -> str:
    """The 32-hex-digit trace id of ``span`` (default: the current span), or "" when none."""
    span_context = (span or trace.get_current_span()).get_span_context()
    return trace.format_trace_id(span_context.trace_id) if span_context.is_valid else ""


def traceparent_of(span: Span | None = None) -> str:
    """The W3C ``traceparent`` of ``span`` (default: the current span), or "" when none."""
    span_context = (span or trace.get_current_span()).get_span_context()
    if not span_context.is_valid:
        return ""
    trace_id = trace.format_trace_id(span_context.trace_id)
    span_id = trace.format_span_id(span_context.span_id)
    return f"00-{trace_id}-{span_id}-{span_context.trace_flags:02x}"


def carrier(span: Span | None = None) -> dict[str, str]:
    """The W3C trace context headers of ``span`` (default: the current one), to store with work
    that runs later (a queued job); empty when there is no trace."""
    context = trace.set_span_in_context(span) if span is not None else None
    headers: dict[str, str] = {}
    _PROPAGATOR.inject(headers, context=context)
    return headers


def context_from(headers: Mapping[str, Any] | None) -> otel_context.Context | None:
    """The trace context of W3C headers (``traceparent``, ``tracestate``), or None when they hold
    none. Anything malformed, of the wrong type or too long is ignored: it came from outside."""
    if not headers:
        return None
    clean = {}
    for key in ("traceparent", "tracestate"):
        value = headers.get(key)
        if isinstance(value, str) and 0 < len(value) <= MAX_TRACE_HEADER:
            clean[key] = value
    if "traceparent" not in clean:
        return None
    context = _PROPAGATOR.extract(clean)
    return context if trace.get_current_span(context).get_span_context().is_valid else None
