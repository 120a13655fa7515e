"""Model adapter for the Anthropic Messages API, on the official ``anthropic`` SDK.

The SDK is imported when an adapter is built, so ``import ai_engine`` does not need it.

Design notes:

* The raw event stream (``messages.create(stream=True)``) is used rather than the
  ``messages.stream()`` helper: the helper parses tool input with a *partial* JSON parser, so
  arguments cut short (``{"a": 1,``) silently become ``{"a": 1}``, and invalid JSON raises in the
  middle of the stream. Here the ``input_json_delta`` fragments are joined and parsed once, at
  the end; a bad payload becomes ``ToolUseBlock.input_error`` for the engine to report back.
* Retries are the SDK's (``max_retries``, exponential backoff with jitter, ``retry-after`` /
  ``retry-after-ms`` honoured). The SDK retries only before the body starts streaming, so a
  broken stream is never replayed.
* Errors are mapped by SDK exception type. The SDK does not wrap transport errors raised while
  the body streams, so ``httpx2`` transport errors are mapped too.
* ``ModelRequest.temperature`` is ignored: the API version SDK 2.x speaks (2026-10-21) refuses
  sampling parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._adapter_common import BadInputLogger, StreamingAdapter, tool_use_block
from .errors import (
    AuthenticationError,
    BadRequestError,
    ConnectionFailed,
    ProviderError,
    RateLimited,
    ServerError,
)
from .messages import (
    ContentBlock,
    Message,
    ModelRequest,
    ModelResponse,
    StopReason,
    TextBlock,
    TokenUsage,
    ToolResultBlock,
    ToolUseBlock,
)

__all__ = ["DEFAULT_MODEL", "AnthropicAdapter"]

DEFAULT_MODEL = "claude-sonnet-4-6"

_STOP_REASONS: dict[str, StopReason] = {
    "end_turn": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "refusal": "refusal",
    "stop_sequence": "stop_sequence",
}
_CACHE_CONTROL = {"type": "ephemeral"}
#: ``error.type`` of an in-stream ``error`` event -> our class, for events before any output.
_STREAM_ERROR_CLASSES: dict[str, type[ProviderError]] = {
    "overloaded_error": ServerError,
    "api_error": ServerError,
    "rate_limit_error": RateLimited,
    "authentication_error": AuthenticationError,
    "permission_error": AuthenticationError,
    "invalid_request_error": BadRequestError,
    "not_found_error": BadRequestError,
    "request_too_large": BadRequestError,
}


class AnthropicAdapter(StreamingAdapter):
    """Streams Anthropic Messages API responses as engine items.

    Attributes:
        provider: Label reported on responses and errors (``anthropic`` unless told otherwise).
    """

    _logger = logging.getLogger(__name__)
    _incomplete_message = "the response stream ended before message_stop"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        max_retries: int = 2,
        cache_prompt: bool = True,
        provider: str = "anthropic",
    ) -> None:
        """Build the SDK client.

        Args:
            api_key: Anthropic API key.
            base_url: API root (a proxy, a gateway or a fake server); the SDK default when None.
            default_headers: Extra headers sent with every request.
            max_retries: SDK retries of a failed request before its body streams (0 disables).
            cache_prompt: Mark the system prompt and the tool definitions as cacheable.
            provider: Label reported on responses and errors.
        """
        import anthropic
        import httpx2

        self.provider = provider
        self._cache_prompt = cache_prompt
        self._sdk = anthropic
        # The SDK does not wrap transport errors raised while the body streams.
        self._transport_errors: tuple[type[BaseException], ...] = (httpx2.TransportError,)
        self._failure_types = (anthropic.AnthropicError, *self._transport_errors)
        self._client = anthropic.Anthropic(
            api_key=api_key,
            base_url=base_url,
            default_headers=dict(default_headers) if default_headers else None,
            max_retries=max_retries,
        )

    # === STREAMING === #

    def _new_state(self) -> _StreamState:
        return _StreamState()

    def _open_stream(self, request: ModelRequest) -> Any:
        return self._client.messages.create(
            **self._build_params(request), stream=True, timeout=request.timeout
        )

    # === REQUEST TRANSLATION === #

    def _build_params(self, request: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": request.model or DEFAULT_MODEL,
            "max_tokens": request.max_tokens,
            "messages": _wire_messages(request.messages),
        }
        if request.system:
            if self._cache_prompt:
                params["system"] = [
                    {"type": "text", "text": request.system, "cache_control": dict(_CACHE_CONTROL)}
                ]
            else:
                params["system"] = request.system
        if request.tools:
            tools: list[dict[str, Any]] = [
                {"name": tool.name, "description": tool.description, "input_schema": tool.input_schema}
                for tool in request.tools
            ]
            if self._cache_prompt:
                # One breakpoint on the last tool caches every tool definition before it.
                tools[-1]["cache_control"] = dict(_CACHE_CONTROL)
            params["tools"] = tools
        # No `temperature`: API version 2026-10-21, which SDK 2.x sends, rejects every sampling
        # parameter (any value, 1.0 included) with a 400, and the SDK no longer accepts them.
        return params

    # === ERRORS === #

    def _classify_status(self, exc: Any) -> tuple[type[ProviderError], int | None]:
        if exc.status_code < 400:
            # An `error` event inside a 200 stream: the HTTP status says nothing.
            return _STREAM_ERROR_CLASSES.get(str(exc.type or ""), ServerError), None
        return super()._classify_status(exc)

    def _describe_status(self, exc: Any, status: int | None) -> tuple[str, object]:
        kind = getattr(exc, "type", None) or "error"
        detail = getattr(exc, "api_message", None)
        if status:
            return f"{self.provider}: HTTP {status} {kind}", detail
        return f"{self.provider}: {kind} in the response stream", detail

    def _classify_other(self, exc: BaseException) -> tuple[type[ProviderError], str]:
        if isinstance(exc, self._transport_errors):
            return ConnectionFailed, f"{self.provider}: connection failed ({type(exc).__name__})"
        if isinstance(exc, self._sdk.CredentialsError):
            return AuthenticationError, f"{self.provider}: {type(exc).__name__}"
        return super()._classify_other(exc)


# === RESPONSE ACCUMULATION === #


@dataclass
class _ToolState:
    id: str
    name: str
    initial_input: Any
    fragments: list[str] = field(default_factory=list)


@dataclass
class _TextState:
    parts: list[str] = field(default_factory=list)


@dataclass
class _StreamState:
    """Folds raw stream events into the final message."""

    blocks: dict[int, _TextState | _ToolState] = field(default_factory=dict)
    model: str = ""
    stop_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    complete: bool = False
    streamed: bool = False

    def feed(self, event: Any) -> str:
        """Apply one event; return the text it adds, if any."""
        kind = getattr(event, "type", None)
        if kind == "message_start":
            message = event.message
            self.model = message.model or ""
            self._usage(message.usage)
        elif kind == "content_block_start":
            block = event.content_block
            if block.type == "text":
                self.blocks[event.index] = _TextState([block.text] if block.text else [])
            elif block.type == "tool_use":
                self.blocks[event.index] = _ToolState(block.id, block.name, block.input)
            # Other block types (thinking, server tools) are not part of our transcript.
        elif kind == "content_block_delta":
            state = self.blocks.get(event.index)
            delta = event.delta
            if delta.type == "text_delta" and isinstance(state, _TextState):
                state.parts.append(delta.text)
                return str(delta.text)
            if delta.type == "input_json_delta" and isinstance(state, _ToolState):
                state.fragments.append(delta.partial_json)
        elif kind == "message_delta":
            self.stop_reason = event.delta.stop_reason
            # message_delta carries cumulative totals; optional ones are omitted when unchanged.
            self._usage(event.usage)
        elif kind == "message_stop":
            self.complete = True
        return ""

    def _usage(self, usage: Any) -> None:
        if usage is None:
            return
        if usage.output_tokens is not None:
            self.output_tokens = usage.output_tokens
        if getattr(usage, "input_tokens", None) is not None:
            self.input_tokens = usage.input_tokens
        if getattr(usage, "cache_creation_input_tokens", None) is not None:
            self.cache_write_tokens = usage.cache_creation_input_tokens
        if getattr(usage, "cache_read_input_tokens", None) is not None:
            self.cache_read_tokens = usage.cache_read_input_tokens

    def response(self, provider: str, requested_model: str, log_bad_input: BadInputLogger) -> ModelResponse:
        content: list[ContentBlock] = []
        for index in sorted(self.blocks):
            state = self.blocks[index]
            if isinstance(state, _TextState):
                text = "".join(state.parts)
                if text:
                    content.append(TextBlock(text))
            else:
                raw = "".join(state.fragments)
                # The block start carries the whole input of a tool that streams no fragment.
                content.append(
                    tool_use_block(state.id, state.name, raw, log_bad_input, default=state.initial_input)
                )
        stop_reason = _STOP_REASONS.get(self.stop_reason or "", "other")
        usage = TokenUsage(
            self.input_tokens, self.output_tokens, self.cache_read_tokens, self.cache_write_tokens
        )
        return ModelResponse(
            message=Message("assistant", tuple(content)),
            stop_reason=stop_reason,
            usage=usage,
            model=self.model or requested_model,
            provider=provider,
        )


# === HELPERS === #


def _wire_messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    """Translate the transcript, merging each run of ``tool`` / ``user`` messages into one user turn.

    Anthropic wants every tool result of an assistant turn in the single user message that follows
    it, ``tool_result`` blocks first.
    """
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = "assistant" if message.role == "assistant" else "user"
        blocks = [wire for block in message.content if (wire := _wire_block(block)) is not None]
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        if turn["role"] == "user":
            # Stable sort: results keep their order, then the user's own text.
            turn["content"].sort(key=lambda block: block["type"] != "tool_result")
    return turns


def _wire_block(block: ContentBlock) -> dict[str, Any] | None:
    if isinstance(block, TextBlock):
        # The API rejects empty text blocks.
        return {"type": "text", "text": block.text} if block.text else None
    if isinstance(block, ToolUseBlock):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": dict(block.input)}
    if isinstance(block, ToolResultBlock):
        wire: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": block.tool_use_id,
            "content": block.content,
        }
        if block.is_error:
            wire["is_error"] = True
        return wire
    return None
