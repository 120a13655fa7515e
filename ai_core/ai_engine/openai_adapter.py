"""Model adapter for OpenAI Chat Completions and compatible servers, on the official ``openai`` SDK.

With ``base_url`` and headers the same adapter serves OpenAI, OpenRouter, Ollama, vLLM, LM Studio
and llama.cpp's ``llama-server``. Chat Completions (not the Responses API) is used because the
local servers only implement Chat Completions. The SDK is imported when an adapter is built, so
``import ai_engine`` does not need it.

Design notes:

* Tool-call fragments are assembled by ``tool_calls[].index`` (id and name come in the first
  fragment only; some servers interleave calls). Arguments are parsed once, at the end; a bad
  payload becomes ``ToolUseBlock.input_error`` for the engine to report back to the model.
* Retries are the SDK's (``max_retries``, exponential backoff with jitter, ``retry-after`` /
  ``retry-after-ms`` honoured up to 120 s). The SDK retries only before the body starts
  streaming, so a broken stream is never replayed.
* Errors are mapped by SDK exception type; the SDK wraps transport errors raised while the body
  streams as ``APIConnectionError``, and a ``data: {"error": ...}`` chunk as a bare ``APIError``.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ._adapter_common import BadInputLogger, StreamingAdapter, tool_use_block, with_detail
from .errors import BadRequestError, ProviderError, RateLimited, ServerError
from .messages import (
    ContentBlock,
    Message,
    ModelRequest,
    ModelResponse,
    StopReason,
    TextBlock,
    TokenUsage,
    ToolResultBlock,
)

__all__ = ["ERROR_RESULT_PREFIX", "NO_API_KEY", "OpenAIAdapter"]

#: Sent when no key is configured: the SDK insists on one, local servers ignore it. Passing it
#: explicitly also keeps the SDK from reading OPENAI_API_KEY and sending it to a third-party URL.
NO_API_KEY = "not-needed"
#: Prefix of a failed tool result, so the model knows the call did not succeed.
ERROR_RESULT_PREFIX = "ERROR: "

_FINISH_REASONS: dict[str, StopReason] = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "length": "max_tokens",
    "content_filter": "refusal",
}

MaxTokensField = Literal["max_tokens", "max_completion_tokens"]


class OpenAIAdapter(StreamingAdapter):
    """Streams Chat Completions responses as engine items.

    Attributes:
        provider: Label reported on responses and errors, e.g. ``openrouter`` or ``ollama``.
    """

    _logger = logging.getLogger(__name__)
    _incomplete_message = "the response stream ended without a finish_reason"

    def __init__(
        self,
        api_key: str | None,
        *,
        base_url: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        max_retries: int = 2,
        provider: str = "openai",
        max_tokens_field: MaxTokensField | None = None,
    ) -> None:
        """Build the SDK client.

        Args:
            api_key: API key; None for local servers that need none.
            base_url: API base including the version path (``http://localhost:11434/v1``,
                ``https://openrouter.ai/api/v1``); OpenAI's when None.
            default_headers: Extra headers sent with every request (e.g. OpenRouter's
                ``HTTP-Referer`` / ``X-Title``).
            max_retries: SDK retries of a failed request before its body streams (0 disables).
            provider: Label reported on responses and errors.
            max_tokens_field: Request field carrying ``ModelRequest.max_tokens``; see below.
        """
        import openai

        self.provider = provider
        self._sdk = openai
        # The SDK wraps transport errors raised while the body streams as APIConnectionError.
        self._failure_types: tuple[type[BaseException], ...] = (openai.OpenAIError,)
        # Which output cap field: OpenAI deprecated `max_tokens` and its reasoning models reject
        # it, so OpenAI itself gets `max_completion_tokens`. Compatible servers read `max_tokens`
        # (Ollama and llama.cpp's server read only that one and silently ignore the other; vLLM,
        # LM Studio and OpenRouter accept it), so any custom base_url gets `max_tokens` unless told.
        self._max_tokens_field: MaxTokensField = max_tokens_field or (
            "max_completion_tokens" if base_url is None else "max_tokens"
        )
        options: dict[str, Any] = {"api_key": api_key or NO_API_KEY, "max_retries": max_retries}
        if base_url is not None:
            options["base_url"] = base_url
        if default_headers:
            options["default_headers"] = dict(default_headers)
        self._client = openai.OpenAI(**options)

    # === STREAMING === #

    def _new_state(self) -> _StreamState:
        return _StreamState()

    def _open_stream(self, request: ModelRequest) -> Any:
        return self._client.chat.completions.create(**self._build_params(request), timeout=request.timeout)

    # === REQUEST TRANSLATION === #

    def _build_params(self, request: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": request.model,
            "messages": _wire_messages(request.system, request.messages),
            "stream": True,
            "stream_options": {"include_usage": True},
            self._max_tokens_field: request.max_tokens,
        }
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.input_schema,
                    },
                }
                for tool in request.tools
            ]
        if request.temperature is not None:
            params["temperature"] = request.temperature
        return params

    # === ERRORS === #

    def _describe_status(self, exc: Any, status: int | None) -> tuple[str, object]:
        body = getattr(exc, "body", None)
        error = body.get("error", body) if isinstance(body, dict) else None
        kind = (error.get("type") or error.get("code")) if isinstance(error, dict) else None
        detail = error.get("message") if isinstance(error, dict) else None
        return f"{self.provider}: HTTP {status} {kind or 'error'}", detail

    def _classify_other(self, exc: BaseException) -> tuple[type[ProviderError], str]:
        if isinstance(exc, self._sdk.APIError):
            # A `data: {"error": ...}` chunk inside a 200 stream (OpenRouter, vLLM).
            head = f"{self.provider}: error in the response stream"
            return _stream_error_class(exc.body), with_detail(head, exc.message)
        return super()._classify_other(exc)


# === RESPONSE ACCUMULATION === #


@dataclass
class _ToolState:
    id: str = ""
    name: str = ""
    fragments: list[str] = field(default_factory=list)


@dataclass
class _StreamState:
    """Folds chunks into the final message."""

    text: list[str] = field(default_factory=list)
    tools: dict[int, _ToolState] = field(default_factory=dict)
    model: str = ""
    finish_reason: str | None = None
    usage: Any = None
    streamed: bool = False

    @property
    def complete(self) -> bool:
        return self.finish_reason is not None

    def feed(self, chunk: Any) -> str:
        """Apply one chunk; return the text it adds, if any."""
        if chunk.model:
            self.model = chunk.model
        if chunk.usage is not None:
            self.usage = chunk.usage
        added: list[str] = []
        for choice in chunk.choices or ():
            if choice.index != 0:
                continue  # we never ask for n > 1
            delta = choice.delta
            if delta is not None:
                if delta.content:
                    added.append(delta.content)
                for call in delta.tool_calls or ():
                    state = self.tools.setdefault(call.index, _ToolState())
                    if call.id and not state.id:
                        state.id = call.id
                    function = call.function
                    if function is not None:
                        # The name comes once; some servers repeat it, never append it.
                        if function.name and not state.name:
                            state.name = function.name
                        if function.arguments:
                            state.fragments.append(function.arguments)
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason
        text = "".join(added)
        if text:
            self.text.append(text)
        return text

    def response(self, provider: str, requested_model: str, log_bad_input: BadInputLogger) -> ModelResponse:
        content: list[ContentBlock] = []
        text = "".join(self.text)
        if text:
            content.append(TextBlock(text))
        for index in sorted(self.tools):
            state = self.tools[index]
            # Some local servers send no id; the engine still needs one to pair the result.
            call_id = state.id or f"call_{uuid.uuid4().hex[:24]}"
            content.append(tool_use_block(call_id, state.name, "".join(state.fragments), log_bad_input))
        stop_reason = _FINISH_REASONS.get(self.finish_reason or "", "other")
        return ModelResponse(
            message=Message("assistant", tuple(content)),
            stop_reason=stop_reason,
            usage=_usage(self.usage),
            model=self.model or requested_model,
            provider=provider,
        )


# === HELPERS === #


def _wire_messages(system: str, messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    """Translate the transcript: one ``tool`` message per result, tool calls on the assistant."""
    wire: list[dict[str, Any]] = []
    if system:
        wire.append({"role": "system", "content": system})
    for message in messages:
        if message.role == "assistant":
            entry: dict[str, Any] = {"role": "assistant", "content": message.text or None}
            calls = [
                {
                    "id": block.id,
                    "type": "function",
                    "function": {"name": block.name, "arguments": json.dumps(dict(block.input))},
                }
                for block in message.tool_uses
            ]
            if calls:
                entry["tool_calls"] = calls
            elif entry["content"] is None:
                entry["content"] = ""  # content may be null only beside tool calls
            wire.append(entry)
            continue
        for result in message.tool_results:
            wire.append({"role": "tool", "tool_call_id": result.tool_use_id, "content": _result_text(result)})
        if message.role == "user" and message.text:
            wire.append({"role": "user", "content": message.text})
    return wire


def _result_text(result: ToolResultBlock) -> str:
    return f"{ERROR_RESULT_PREFIX}{result.content}" if result.is_error else result.content


def _usage(usage: Any) -> TokenUsage:
    """Normalise: OpenAI's ``prompt_tokens`` include cached (and cache-written) tokens."""
    if usage is None:
        return TokenUsage()
    details = usage.prompt_tokens_details
    cached = (details.cached_tokens or 0) if details is not None else 0
    written = (getattr(details, "cache_write_tokens", None) or 0) if details is not None else 0
    prompt = usage.prompt_tokens or 0
    return TokenUsage(
        input_tokens=max(prompt - cached - written, 0),
        output_tokens=usage.completion_tokens or 0,
        cache_read_tokens=cached,
        cache_write_tokens=written,
    )


def _stream_error_class(body: Any) -> type[ProviderError]:
    kind = body.get("type") if isinstance(body, dict) else None
    code = body.get("code") if isinstance(body, dict) else None
    if kind in ("rate_limit_error", "requests", "tokens") or code == "rate_limit_exceeded":
        return RateLimited
    if kind == "invalid_request_error":
        return BadRequestError
    return ServerError
