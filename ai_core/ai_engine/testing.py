"""Helpers for testing agents without a provider: a scripted model, a fake clock and a network
kill switch. Shipped with the engine so the Odoo tier and other projects use the same ones."""

from __future__ import annotations

import html
import ipaddress
import itertools
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from .errors import ProviderError
from .messages import (
    Message,
    ModelRequest,
    ModelResponse,
    StopReason,
    StreamText,
    TextBlock,
    TokenUsage,
    ToolUseBlock,
)
from .ports import ModelStreamItem
from .untrusted import TOOL_OUTPUT_TAG

__all__ = [
    "FakeClock",
    "NetworkBlocked",
    "ScriptedModel",
    "UnexpectedModelCall",
    "block_network",
    "chunked",
    "failure",
    "interrupted",
    "reply",
    "slow",
    "tool_calls",
    "unwrap_tool_result",
]

_call_ids = itertools.count(1)


class UnexpectedModelCall(AssertionError):
    """The scripted model was asked for more responses than it was given."""


@dataclass(frozen=True)
class _Step:
    response: ModelResponse | None = None
    error: ProviderError | None = None
    chunks: int = 1
    #: Raised after the text was streamed, instead of completing the response.
    interruption: ProviderError | None = None
    advance: float = 0.0


def reply(
    text: str, *, usage: TokenUsage | None = None, stop_reason: StopReason = "end_turn", model: str = ""
) -> _Step:
    """A final text answer."""
    message = Message("assistant", (TextBlock(text),))
    return _Step(ModelResponse(message, stop_reason, usage or TokenUsage(10, len(text.split()) or 1), model))


def tool_calls(
    *calls: tuple[str, dict[str, Any] | str], text: str = "", usage: TokenUsage | None = None
) -> _Step:
    """A response asking for tools: ``("finance_get_gl_balance", {...})`` per call.

    A string instead of a dict stands for malformed arguments the provider could not parse.
    """
    blocks: list[TextBlock | ToolUseBlock] = [TextBlock(text)] if text else []
    for name, arguments in calls:
        call_id = f"call_{next(_call_ids)}"
        if isinstance(arguments, str):
            blocks.append(ToolUseBlock(call_id, name, {}, input_error=f"not valid JSON: {arguments!r}"))
        else:
            blocks.append(ToolUseBlock(call_id, name, dict(arguments)))
    message = Message("assistant", tuple(blocks))
    return _Step(ModelResponse(message, "tool_use", usage or TokenUsage(10, 5), ""))


def failure(error: ProviderError) -> _Step:
    """The provider call fails before streaming anything."""
    return _Step(error=error)


@dataclass
class ScriptedModel:
    """A model adapter that plays back queued steps and records every request.

    Steps come from :func:`reply`, :func:`tool_calls` and :func:`failure`. Text is streamed in
    ``chunks`` fragments; ``clock`` and a step's ``advance`` let tests spend model time.

    Example:
        model = ScriptedModel([tool_calls(("demo_echo", {"text": "hi"})), reply("done")])
    """

    steps: Sequence[_Step]
    provider: str = "scripted"
    clock: FakeClock | None = None
    requests: list[ModelRequest] = field(default_factory=list)
    _queue: list[_Step] = field(init=False)

    def __post_init__(self) -> None:
        self._queue = list(self.steps)

    def then(self, *steps: _Step) -> ScriptedModel:
        """Queue more steps."""
        self._queue.extend(steps)
        return self

    def stream(self, request: ModelRequest) -> Iterator[ModelStreamItem]:
        self.requests.append(request)
        if not self._queue:
            raise UnexpectedModelCall(
                f"unexpected model call #{len(self.requests)}: no scripted response left"
            )
        step = self._queue.pop(0)
        if self.clock is not None and step.advance:
            self.clock.advance(step.advance)
        if step.error is not None:
            raise step.error
        assert step.response is not None
        response = step.response
        text = response.message.text
        size = max(1, -(-len(text) // max(step.chunks, 1)))
        for start in range(0, len(text), size):
            yield StreamText(text[start : start + size])
        if step.interruption is not None:
            raise step.interruption
        model = response.model or request.model
        yield ModelResponse(response.message, response.stop_reason, response.usage, model, self.provider)

    @property
    def remaining(self) -> int:
        return len(self._queue)

    def assert_complete(self) -> None:
        """Fail when scripted steps were never requested."""
        if self._queue:
            raise AssertionError(f"{len(self._queue)} scripted model response(s) were never requested")


def chunked(step: _Step, chunks: int) -> _Step:
    """The same step, its text streamed in ``chunks`` fragments."""
    return replace(step, chunks=chunks)


def slow(step: _Step, seconds: float) -> _Step:
    """The same step, advancing the scripted model's fake clock by ``seconds`` first."""
    return replace(step, advance=seconds)


def interrupted(step: _Step, error: ProviderError) -> _Step:
    """The same step, failing with ``error`` once its text was streamed."""
    return replace(step, interruption=error)


def unwrap_tool_result(content: str) -> str:
    """The tool's own text inside a result as the model received it (the inverse of
    :func:`~ai_engine.untrusted.wrap_tool_result`), for assertions on what the model was told.

    Raises:
        ValueError: ``content`` is not one wrapped tool result.
    """
    head, _, rest = content.partition("\n")
    body, _, tail = rest.partition("\n")[2].rpartition("\n")
    if not head.startswith(f"<{TOOL_OUTPUT_TAG} ") or tail != f"</{TOOL_OUTPUT_TAG}>":
        raise ValueError("not a wrapped tool result")
    return html.unescape(body)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._monotonic = 1000.0
        self._now = start or datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)

    def monotonic(self) -> float:
        return self._monotonic

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._monotonic += seconds
        self._now += timedelta(seconds=seconds)


class NetworkBlocked(RuntimeError):
    """A test tried to reach a host other than this machine."""


_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@contextmanager
def block_network() -> Iterator[None]:
    """Refuse every connection and name lookup that is not for this machine.

    Guards at the socket layer, so no SDK, HTTP library or forgotten client can reach a real
    provider from a test, whatever it was configured with.
    """
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(address, tuple) and not _is_loopback(host):
            raise NetworkBlocked(f"network access to {host!r} is blocked in tests")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_loopback(host):
            raise NetworkBlocked(f"name lookup of {host!r} is blocked in tests")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo  # type: ignore[assignment]
