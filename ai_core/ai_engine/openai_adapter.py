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

import email.utils
import json
import logging
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

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

__all__ = ["ERROR_RESULT_PREFIX", "NO_API_KEY", "OpenAIAdapter"]

_logger = logging.getLogger(__name__)

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
_MAX_ERROR_DETAIL = 300

MaxTokensField = Literal["max_tokens", "max_completion_tokens"]


class OpenAIAdapter:
    """Streams Chat Completions responses as engine items.

    Attributes:
        provider: Label reported on responses and errors.
    """

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

    def stream(self, request: ModelRequest) -> Iterator[StreamText | ModelResponse]:
        """Yield text fragments as they arrive, then the complete :class:`ModelResponse`.

        Raises:
            ProviderError: A subclass from :mod:`ai_engine.errors`; :class:`StreamInterrupted`
                once text has been yielded.
        """
        deadline = time.monotonic() + request.timeout
        try:
            chunks = self._client.chat.completions.create(
                **self._build_params(request), timeout=request.timeout
            )
        except Exception as exc:
            if not self._is_provider_failure(exc):
                raise
            raise self._translate(exc, streamed=False) from exc

        state = _StreamState()
        try:
            with chunks:
                for chunk in chunks:
                    text = state.feed(chunk)
                    if text:
                        state.streamed = True
                        yield StreamText(text)
                    # Steady chunks keep the read timeout from firing: bound the whole call too.
                    if time.monotonic() > deadline and state.finish_reason is None:
                        raise _DeadlineExceeded()
        except _DeadlineExceeded:
            raise self._deadline_error(request, streamed=state.streamed) from None
        except Exception as exc:
            if not self._is_provider_failure(exc):
                raise
            raise self._translate(exc, streamed=state.streamed) from exc
        if state.finish_reason is None:
            message = "the response stream ended without a finish_reason"
            _logger.warning("%s: %s", self.provider, message)
            if state.streamed:
                raise StreamInterrupted(message, provider=self.provider)
            raise ConnectionFailed(message, provider=self.provider)
        yield state.response(self.provider, request.model, self._log_bad_input)

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

    def _is_provider_failure(self, exc: BaseException) -> bool:
        # ValueError covers undecodable chunk data (json / pydantic); anything else is our bug.
        return isinstance(exc, (self._sdk.OpenAIError, ValueError))

    def _translate(self, exc: BaseException, *, streamed: bool) -> ProviderError:
        """Map an SDK exception to our error classes, by type."""
        sdk = self._sdk
        status: int | None = None
        retry_after: float | None = None
        cls: type[ProviderError]
        if isinstance(exc, sdk.APIStatusError):
            status = exc.status_code
            retry_after = _retry_after(exc.response.headers)
            if isinstance(exc, (sdk.AuthenticationError, sdk.PermissionDeniedError)):
                cls = AuthenticationError
            elif isinstance(exc, sdk.RateLimitError):
                cls = RateLimited
            elif isinstance(exc, sdk.InternalServerError):  # every 5xx
                cls = ServerError
            elif isinstance(exc, sdk.ConflictError) or status == 408:
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
        elif isinstance(exc, sdk.APIError):
            # A `data: {"error": ...}` chunk inside a 200 stream (OpenRouter, vLLM).
            cls = _stream_error_class(exc.body)
            message = f"{self.provider}: error in the response stream"
            if isinstance(exc.message, str) and exc.message:
                message = f"{message}: {exc.message[:_MAX_ERROR_DETAIL]}"
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

    def response(self, provider: str, requested_model: str, log_bad_input: Any) -> ModelResponse:
        content: list[ContentBlock] = []
        text = "".join(self.text)
        if text:
            content.append(TextBlock(text))
        for index in sorted(self.tools):
            state = self.tools[index]
            arguments, problem = _parse_tool_input("".join(state.fragments))
            if problem:
                log_bad_input(state.name, problem)
            # Some local servers send no id; the engine still needs one to pair the result.
            call_id = state.id or f"call_{uuid.uuid4().hex[:24]}"
            content.append(ToolUseBlock(call_id, state.name, arguments, problem))
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


def _parse_tool_input(raw: str) -> tuple[dict[str, Any], str | None]:
    """Parse the joined argument fragments; a problem is returned, never raised."""
    if not raw.strip():
        return {}, None  # a call without arguments
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


def _status_message(provider: str, exc: Any, status: int, *, include_detail: bool) -> str:
    body = getattr(exc, "body", None)
    error = body.get("error", body) if isinstance(body, dict) else None
    kind = (error.get("type") or error.get("code")) if isinstance(error, dict) else None
    head = f"{provider}: HTTP {status} {kind or 'error'}"
    detail = error.get("message") if isinstance(error, dict) else None
    # Provider messages explain 400s usefully; auth messages may echo part of the key.
    if include_detail and isinstance(detail, str) and detail:
        return f"{head}: {detail[:_MAX_ERROR_DETAIL]}"
    return head
