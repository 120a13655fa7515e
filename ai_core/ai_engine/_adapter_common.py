"""What the SDK-based model adapters share: the streaming loop, the error mapping and parsing helpers.

Private to the engine. Each adapter keeps its own wire translation (request body, stream events,
the provider's error shapes) and fills in the hooks of :class:`StreamingAdapter`; what is here is
the part that is the same for every provider:

* one call is bounded by ``ModelRequest.timeout`` as a whole, not only per read;
* a stream that breaks or ends early is :class:`StreamInterrupted` once text went out (the caller
  may have shown it), :class:`ConnectionFailed` before (safe to retry elsewhere);
* SDK exceptions map to :mod:`ai_engine.errors` by type; both official SDKs share the same
  exception hierarchy names (``APIStatusError``, ``RateLimitError``, ...);
* tool arguments are parsed once, at the end, and a bad payload is reported, never raised.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any, ClassVar, Protocol

from .errors import (
    AuthenticationError,
    BadRequestError,
    ConnectionFailed,
    ProviderError,
    RateLimited,
    ServerError,
    StreamInterrupted,
)
from .messages import ModelRequest, ModelResponse, StreamText, ToolUseBlock

__all__ = [
    "MAX_ERROR_DETAIL",
    "BadInputLogger",
    "StreamState",
    "StreamingAdapter",
    "parse_retry_after",
    "parse_tool_input",
    "tool_use_block",
    "with_detail",
]

#: Longest provider explanation kept in an error message.
MAX_ERROR_DETAIL = 300

#: Called with a tool name and what is wrong with its arguments.
BadInputLogger = Callable[[str, str], None]


class StreamState(Protocol):
    """Folds one provider's stream items into the final response."""

    #: Set by the adapter once a text fragment has been yielded.
    streamed: bool

    @property
    def complete(self) -> bool:
        """Whether the provider's end-of-response marker has arrived."""
        ...

    def feed(self, item: Any) -> str:
        """Apply one stream item; return the text it adds, if any."""
        ...

    def response(self, provider: str, requested_model: str, log_bad_input: BadInputLogger) -> ModelResponse:
        """The complete response, once :attr:`complete`."""
        ...


class StreamingAdapter:
    """Base of the SDK adapters: drives one streamed call and maps its failures to our errors.

    A subclass sets ``provider``, ``_sdk`` (the SDK module) and ``_failure_types`` in its
    constructor, the class attributes ``_logger`` and ``_incomplete_message``, and implements
    :meth:`_open_stream`, :meth:`_new_state` and :meth:`_describe_status`; it may refine
    :meth:`_classify_status` and :meth:`_classify_other`.

    Attributes:
        provider: Label reported on responses and errors.
    """

    provider: str
    #: Each adapter logs under its own module name, so one provider's logging can be tuned alone.
    _logger: ClassVar[logging.Logger]
    #: Why a stream that ended without the provider's end marker failed.
    _incomplete_message: ClassVar[str]
    _sdk: Any
    #: SDK (and transport) exceptions that mean the call failed, besides ``ValueError``.
    _failure_types: tuple[type[BaseException], ...]

    # === STREAMING === #

    def stream(self, request: ModelRequest) -> Iterator[StreamText | ModelResponse]:
        """Yield text fragments as they arrive, then the complete :class:`ModelResponse`.

        Raises:
            ProviderError: A subclass from :mod:`ai_engine.errors`; :class:`StreamInterrupted`
                once text has been yielded.
        """
        deadline = time.monotonic() + request.timeout
        try:
            items = self._open_stream(request)
        except Exception as exc:
            if not self._is_provider_failure(exc):
                raise
            raise self._translate(exc, streamed=False) from exc

        retries = _retries_of(items)
        state = self._new_state()
        try:
            with items:
                for item in items:
                    text = state.feed(item)
                    if text:
                        state.streamed = True
                        yield StreamText(text)
                    # Steady items keep the read timeout from firing: bound the whole call too.
                    if time.monotonic() > deadline and not state.complete:
                        raise _DeadlineExceeded()
        except _DeadlineExceeded:
            raise self._deadline_error(request, streamed=state.streamed) from None
        except Exception as exc:
            if not self._is_provider_failure(exc):
                raise
            raise self._translate(exc, streamed=state.streamed) from exc
        if not state.complete:
            message = self._incomplete_message
            self._logger.warning("%s: %s", self.provider, message)
            raise self._cut_short(message, streamed=state.streamed)
        response = state.response(self.provider, request.model, self._log_bad_input)
        yield replace(response, retries=retries) if retries else response

    # === HOOKS === #

    def _open_stream(self, request: ModelRequest) -> Any:
        """Send the request; return the SDK's stream (a context manager iterating raw items)."""
        raise NotImplementedError

    def _new_state(self) -> StreamState:
        """A fresh accumulator for one call's stream items."""
        raise NotImplementedError

    def _describe_status(self, exc: Any, status: int | None) -> tuple[str, object]:
        """The head of the message for an ``APIStatusError``, and the provider's explanation."""
        raise NotImplementedError

    def _classify_status(self, exc: Any) -> tuple[type[ProviderError], int | None]:
        """Our class for an ``APIStatusError``, and the HTTP status to report."""
        sdk = self._sdk
        status: int = exc.status_code
        cls: type[ProviderError]
        if isinstance(exc, (sdk.AuthenticationError, sdk.PermissionDeniedError)):
            cls = AuthenticationError
        elif isinstance(exc, sdk.RateLimitError):
            cls = RateLimited
        elif isinstance(exc, sdk.InternalServerError) or status >= 500:
            cls = ServerError  # every 5xx, Anthropic's 529 "overloaded" included
        elif isinstance(exc, sdk.ConflictError) or status == 408:
            cls = ServerError  # transient, the SDKs retry them too
        else:
            cls = BadRequestError
        return cls, status

    def _classify_other(self, exc: BaseException) -> tuple[type[ProviderError], str]:
        """Class and message for a failure that is neither a status nor a connection error."""
        return ServerError, f"{self.provider}: malformed response ({type(exc).__name__})"

    # === ERRORS === #

    def _is_provider_failure(self, exc: BaseException) -> bool:
        # ValueError covers undecodable stream data (json / pydantic); anything else is our bug.
        return isinstance(exc, (*self._failure_types, ValueError))

    def _translate(self, exc: BaseException, *, streamed: bool) -> ProviderError:
        """Map an SDK or transport exception to our error classes, by type."""
        sdk = self._sdk
        status: int | None = None
        retry_after: float | None = None
        cls: type[ProviderError]
        if isinstance(exc, sdk.APIStatusError):
            retry_after = parse_retry_after(exc.response.headers)
            cls, status = self._classify_status(exc)
            head, detail = self._describe_status(exc, status)
            # Provider messages explain 400s usefully; auth messages may echo part of the key.
            message = head if cls is AuthenticationError else with_detail(head, detail)
        elif isinstance(exc, sdk.APIConnectionError):
            cls = ConnectionFailed
            kind = "timed out" if isinstance(exc, sdk.APITimeoutError) else "connection failed"
            message = f"{self.provider}: {kind}"
        else:
            cls, message = self._classify_other(exc)
        if streamed:
            cls = StreamInterrupted
            message = f"{message} (after the response started streaming)"
        self._logger.warning("%s call failed: %s (status %s)", self.provider, cls.code, status)
        return cls(message, provider=self.provider, status=status, retry_after=retry_after)

    def _deadline_error(self, request: ModelRequest, *, streamed: bool) -> ProviderError:
        message = f"{self.provider}: no complete response within {request.timeout:g} s"
        self._logger.warning("%s call exceeded its %s s deadline", self.provider, request.timeout)
        return self._cut_short(message, streamed=streamed)

    def _cut_short(self, message: str, *, streamed: bool) -> ProviderError:
        # Once text went out the caller may have shown it, so the call must not be replayed silently.
        cls = StreamInterrupted if streamed else ConnectionFailed
        return cls(message, provider=self.provider)

    def _log_bad_input(self, tool_name: str, problem: str) -> None:
        # The tool name only: the arguments may hold personal data.
        self._logger.warning("%s: unusable arguments for tool %s: %s", self.provider, tool_name, problem)


class _DeadlineExceeded(Exception):
    """The whole call outlived ``ModelRequest.timeout``."""


# === HELPERS === #


def tool_use_block(
    call_id: str, name: str, raw_arguments: str, log_bad_input: BadInputLogger, *, default: Any = None
) -> ToolUseBlock:
    """Build a tool call from its joined argument fragments; a bad payload becomes ``input_error``.

    Args:
        call_id: The provider's call id.
        name: The tool called.
        raw_arguments: The argument fragments, joined.
        log_bad_input: Told the tool name and the problem when the arguments are unusable.
        default: Arguments of a call that streamed none (a dict; anything else means ``{}``).
    """
    arguments, problem = parse_tool_input(raw_arguments, default)
    if problem:
        log_bad_input(name, problem)
    return ToolUseBlock(call_id, name, arguments, problem)


def parse_tool_input(raw: str, default: Any = None) -> tuple[dict[str, Any], str | None]:
    """Parse joined argument fragments; a problem is returned, never raised.

    Args:
        raw: The argument fragments, joined.
        default: Arguments of a call that streamed none (a dict; anything else means ``{}``).

    Returns:
        The arguments and None, or ``{}`` and what is wrong with them.
    """
    if not raw.strip():
        # A call without arguments streams no fragment (or only an empty one).
        return (dict(default) if isinstance(default, dict) else {}), None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        return {}, f"arguments are not valid JSON ({exc.msg} at character {exc.pos} of {len(raw)})"
    if not isinstance(value, dict):
        return {}, f"arguments must be a JSON object, got {type(value).__name__}"
    return value, None


def _retries_of(stream: Any) -> int:
    """How many times the SDK retried the request of ``stream`` before it answered.

    Both SDKs number each attempt in the ``x-stainless-retry-count`` request header; the
    request of the stream's HTTP response is the attempt that answered.
    """
    request = getattr(getattr(stream, "response", None), "request", None)
    try:
        return int(request.headers.get("x-stainless-retry-count", 0)) if request is not None else 0
    except (AttributeError, TypeError, ValueError):
        return 0


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds asked by ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    value = headers.get("retry-after-ms")
    if value:
        # A malformed value falls through to the next form.
        with contextlib.suppress(ValueError):
            return max(float(value) / 1000.0, 0.0)
    value = headers.get("retry-after")
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return max(float(value), 0.0)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(moment.timestamp() - time.time(), 0.0)


def with_detail(head: str, detail: object) -> str:
    """``head``, followed by the provider's explanation (cut short) when there is one."""
    if isinstance(detail, str) and detail:
        return f"{head}: {detail[:MAX_ERROR_DETAIL]}"
    return head
