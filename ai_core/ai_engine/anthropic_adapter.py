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

import email.utils
import json
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import (
    AuthenticationError,
    BadRequestError,
    ConnectionFailed,
    ProviderError,
    RateLimited,
    ServerError,
    StreamInterrupted,
)
from .messages import (
    ContentBlock,
    Message,
    ModelRequest,
    ModelResponse,
    StopReason,
    StreamText,
    TextBlock,
    TokenUsage,
    ToolResultBlock,
    ToolUseBlock,
)

__all__ = ["DEFAULT_MODEL", "AnthropicAdapter"]

_logger = logging.getLogger(__name__)

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
_MAX_ERROR_DETAIL = 300


class AnthropicAdapter:
    """Streams Anthropic Messages API responses as engine items.

    Attributes:
        provider: Label reported on responses and errors.
    """

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
        self._transport_errors: tuple[type[BaseException], ...] = (httpx2.TransportError,)
        self._client = anthropic.Anthropic(
            api_key=api_key,
            base_url=base_url,
            default_headers=dict(default_headers) if default_headers else None,
            max_retries=max_retries,
        )

    # === STREAMING === #

    def stream(self, request: ModelRequest) -> Iterator[StreamText | ModelResponse]:
        """Yield text fragments as they arrive, then the complete :class:`ModelResponse`.

        Raises:
            ProviderError: A subclass from :mod:`ai_engine.errors`; :class:`StreamInterrupted`
                once text has been yielded.
        """
        deadline = time.monotonic() + request.timeout
        try:
            events = self._client.messages.create(
                **self._build_params(request), stream=True, timeout=request.timeout
            )
        except Exception as exc:
            if not self._is_provider_failure(exc):
                raise
            raise self._translate(exc, streamed=False) from exc

        state = _StreamState()
        try:
            with events:
                for event in events:
                    text = state.feed(event)
                    if text:
                        state.streamed = True
                        yield StreamText(text)
                    # Steady events keep the read timeout from firing: bound the whole call too.
                    if time.monotonic() > deadline and not state.complete:
                        raise _DeadlineExceeded()
        except _DeadlineExceeded:
            raise self._deadline_error(request, streamed=state.streamed) from None
        except Exception as exc:
            if not self._is_provider_failure(exc):
                raise
            raise self._translate(exc, streamed=state.streamed) from exc
        if not state.complete:
            message = "the response stream ended before message_stop"
            _logger.warning("%s: %s", self.provider, message)
            if state.streamed:
                raise StreamInterrupted(message, provider=self.provider)
            raise ConnectionFailed(message, provider=self.provider)
        yield state.response(self.provider, request.model, self._log_bad_input)

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

    def _is_provider_failure(self, exc: BaseException) -> bool:
        # ValueError covers undecodable event data (json / pydantic); anything else is our bug.
        return isinstance(exc, (self._sdk.AnthropicError, ValueError, *self._transport_errors))

    def _translate(self, exc: BaseException, *, streamed: bool) -> ProviderError:
        """Map an SDK or transport exception to our error classes, by type."""
        sdk = self._sdk
        status: int | None = None
        retry_after: float | None = None
        cls: type[ProviderError]
        if isinstance(exc, sdk.APIStatusError):
            status = exc.status_code
            retry_after = _retry_after(exc.response.headers)
            if status < 400:
                # An `error` event inside a 200 stream: the HTTP status says nothing.
                status = None
                cls = _STREAM_ERROR_CLASSES.get(str(exc.type or ""), ServerError)
            elif isinstance(exc, (sdk.AuthenticationError, sdk.PermissionDeniedError)):
                cls = AuthenticationError
            elif isinstance(exc, sdk.RateLimitError):
                cls = RateLimited
            elif isinstance(exc, sdk.InternalServerError):  # every 5xx, 529 "overloaded" included
                cls = ServerError
            elif isinstance(exc, (sdk.RequestTimeoutError, sdk.ConflictError)):
                cls = ServerError  # transient, the SDK retries them too
            elif status >= 500:
                cls = ServerError
            else:
                cls = BadRequestError
            message = _status_message(
                self.provider, exc, status, include_detail=cls is not AuthenticationError
            )
        elif isinstance(exc, sdk.APIConnectionError):
            cls = ConnectionFailed
            kind = "timed out" if isinstance(exc, sdk.APITimeoutError) else "connection failed"
            message = f"{self.provider}: {kind}"
        elif isinstance(exc, self._transport_errors):
            cls = ConnectionFailed
            message = f"{self.provider}: connection failed ({type(exc).__name__})"
        elif isinstance(exc, sdk.CredentialsError):
            cls = AuthenticationError
            message = f"{self.provider}: {type(exc).__name__}"
        else:
            cls = ServerError
            message = f"{self.provider}: malformed response ({type(exc).__name__})"
        if streamed:
            cls = StreamInterrupted
            message = f"{message} (after the response started streaming)"
        _logger.warning("%s call failed: %s (status %s)", self.provider, cls.code, status)
        return cls(message, provider=self.provider, status=status, retry_after=retry_after)

    def _deadline_error(self, request: ModelRequest, *, streamed: bool) -> ProviderError:
        message = f"{self.provider}: no complete response within {request.timeout:g} s"
        _logger.warning("%s call exceeded its %s s deadline", self.provider, request.timeout)
        if streamed:
            return StreamInterrupted(message, provider=self.provider)
        return ConnectionFailed(message, provider=self.provider)

    def _log_bad_input(self, tool_name: str, problem: str) -> None:
        # The tool name only: the arguments may hold personal data.
        _logger.warning("%s: unusable arguments for tool %s: %s", self.provider, tool_name, problem)


class _DeadlineExceeded(Exception):
    """The whole call outlived ``ModelRequest.timeout``."""


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

    def response(self, provider: str, requested_model: str, log_bad_input: Any) -> ModelResponse:
        content: list[ContentBlock] = []
        for index in sorted(self.blocks):
            state = self.blocks[index]
            if isinstance(state, _TextState):
                text = "".join(state.parts)
                if text:
                    content.append(TextBlock(text))
            else:
                arguments, problem = _parse_tool_input("".join(state.fragments), state.initial_input)
                if problem:
                    log_bad_input(state.name, problem)
                content.append(ToolUseBlock(state.id, state.name, arguments, problem))
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


def _parse_tool_input(raw: str, initial: Any) -> tuple[dict[str, Any], str | None]:
    """Parse joined ``input_json_delta`` fragments; a problem is returned, never raised."""
    if not raw.strip():
        # A tool without arguments streams no fragment (or only the empty first one).
        return (dict(initial) if isinstance(initial, dict) else {}), None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        return {}, f"arguments are not valid JSON ({exc.msg} at character {exc.pos} of {len(raw)})"
    if not isinstance(value, dict):
        return {}, f"arguments must be a JSON object, got {type(value).__name__}"
    return value, None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds asked by ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(float(value) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(moment.timestamp() - time.time(), 0.0)


def _status_message(provider: str, exc: Any, status: int | None, *, include_detail: bool) -> str:
    kind = getattr(exc, "type", None) or "error"
    head = f"{provider}: HTTP {status} {kind}" if status else f"{provider}: {kind} in the response stream"
    detail = getattr(exc, "api_message", None)
    # Provider messages explain 400s usefully; auth messages may echo part of the key.
    if include_detail and isinstance(detail, str) and detail:
        return f"{head}: {detail[:_MAX_ERROR_DETAIL]}"
    return head
