"""Tool specs, the registry, and the checks every tool call goes through.

A handler is a plain function ``handler(context, arguments) -> JSON-serialisable``. It raises
:class:`ToolInputError` for bad input it detects itself (an unknown account code) and
:class:`ToolDenied` when the caller lacks a right; any other exception becomes an error result.
"""

from __future__ import annotations

import contextvars
import json
import re
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match

from .messages import ToolDefinition
from .ports import Clock

__all__ = [
    "Deferred",
    "MemoryCallLedger",
    "RateLimiter",
    "ThreadedToolContext",
    "ToolDenied",
    "ToolInputError",
    "ToolMode",
    "ToolRegistry",
    "ToolSpec",
    "ToolTimeout",
    "serialize",
    "truncate",
    "validation_error",
    "wire_name",
]

ToolMode = Literal["read", "write"]
ToolHandler = Callable[[Any, dict[str, Any]], Any]
PreviewFunction = Callable[[Any, dict[str, Any]], str]

_WIRE_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Deferred:
    """What a handler returns when its result comes later, from work it started outside the turn
    (a delegated agent's session): the turn stops with a ``ToolDeferred`` event and is resumed
    with a ``ToolAnswer`` once that work ends."""

    reason: str
    ref: dict[str, Any] = field(default_factory=dict)


class ToolInputError(Exception):
    """Raised by a handler for input it rejects; the message goes back to the model."""


class ToolDenied(Exception):
    """Raised when the session's user may not do what the tool asks (an access error)."""


class ToolTimeout(Exception):
    """Raised by a tool context when a handler exceeds its timeout."""


def wire_name(name: str) -> str:
    """The provider-safe name of a catalogue name: ``finance.get_gl_balance`` → ``finance_get_gl_balance``."""
    wire = name.replace(".", "_")
    if not _WIRE_NAME.match(wire):
        raise ValueError(f"tool name {name!r} does not give a valid provider name (^[a-zA-Z0-9_-]{{1,64}}$)")
    return wire


@dataclass(frozen=True)
class ToolSpec:
    """A tool the catalogue offers.

    Attributes:
        name: Catalogue name, ``namespace.name``.
        description: What the model reads to decide when to call it.
        input_schema: JSON Schema 2020-12 of the arguments object.
        handler: ``handler(context, arguments)``.
        mode: ``read`` or ``write``; write tools obey shadow, approval and read-only settings.
        output_schema: When set, results are checked against it.
        timeout: Seconds a call may take.
        rate_limit: Calls per second across the process.
        redact_keys: Keys masked in the audit log besides the defaults.
        daily_budget: Calls per UTC day, counted by the call ledger (None: unlimited).
        monthly_budget: Calls per UTC month.
        cost: Charged per executed call, in the price table's currency.
        display_name: Human name (``GetGLBalance``).
        preview: ``preview(context, arguments) -> str`` describing what a write would do.
        cites: The tool returns knowledge passages: its output is an object whose ``citations``
            list names them as the model is told to cite them (``[n]``). They become the
            result's citations, and the turn's (``Done.citations``).
        needs_approval: A write tool that runs only once a person approved the call: outside
            shadow mode, an agent without approval mode is refused it (a trusted agent never
            runs it on its own).
    """

    name: str
    description: str
    input_schema: dict[str, Any]
    handler: ToolHandler
    mode: ToolMode = "read"
    output_schema: dict[str, Any] | None = None
    timeout: float = 30.0
    rate_limit: float = 30.0
    redact_keys: tuple[str, ...] = ()
    daily_budget: int | None = None
    monthly_budget: int | None = None
    cost: Decimal = Decimal(0)
    display_name: str = ""
    preview: PreviewFunction | None = None
    cites: bool = False
    needs_approval: bool = False
    _input_validator: Draft202012Validator = field(init=False, repr=False, compare=False)
    _output_validator: Draft202012Validator | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in ("read", "write"):
            raise ValueError(f"tool {self.name!r}: mode must be 'read' or 'write', not {self.mode!r}")
        if self.needs_approval and self.mode != "write":
            raise ValueError(f"tool {self.name!r}: only a write tool can need approval")
        wire_name(self.name)
        # One validator per tool, built once: jsonschema.validate() would rebuild it on every call.
        Draft202012Validator.check_schema(self.input_schema)
        object.__setattr__(
            self, "_input_validator", Draft202012Validator(self.input_schema, format_checker=FormatChecker())
        )
        output = None
        if self.output_schema is not None:
            Draft202012Validator.check_schema(self.output_schema)
            output = Draft202012Validator(self.output_schema)
        object.__setattr__(self, "_output_validator", output)

    @property
    def wire_name(self) -> str:
        return wire_name(self.name)

    def definition(self) -> ToolDefinition:
        return ToolDefinition(self.wire_name, self.description, self.input_schema)

    def input_error(self, arguments: dict[str, Any]) -> str | None:
        """Why ``arguments`` do not match the input schema, or None."""
        return validation_error(self._input_validator, arguments)

    def output_error(self, output: Any) -> str | None:
        if self._output_validator is None:
            return None
        return validation_error(self._output_validator, output)


def validation_error(validator: Draft202012Validator, instance: Any) -> str | None:
    error = best_match(validator.iter_errors(instance))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    return f"{where}: {error.message}"


class RateLimiter:
    """Sliding one-second window of calls per tool, shared by every turn of the process."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._calls: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, tool_name: str, per_second: float) -> bool:
        """Record a call and say whether it fits; a refused call is not recorded."""
        now = self._clock.monotonic()
        with self._lock:
            window = self._calls[tool_name]
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= per_second:
                return False
            window.append(now)
            return True


class ToolRegistry:
    """Tools by catalogue name; :meth:`filtered` gives an agent's view of it."""

    def __init__(self, specs: Iterable[ToolSpec] = (), *, rate_limiter: RateLimiter | None = None) -> None:
        self._specs: dict[str, ToolSpec] = {}
        self._by_wire: dict[str, ToolSpec] = {}
        self.rate_limiter = rate_limiter
        for spec in specs:
            self.register(spec)

    def register(self, spec: ToolSpec) -> ToolSpec:
        if spec.name in self._specs or spec.wire_name in self._by_wire:
            raise ValueError(f"tool {spec.name!r} is already registered")
        self._specs[spec.name] = spec
        self._by_wire[spec.wire_name] = spec
        return spec

    def tool(
        self, name: str, *, description: str, input_schema: dict[str, Any], **options: Any
    ) -> Callable[[ToolHandler], ToolHandler]:
        """Decorator declaring a handler as tool ``name``; options are :class:`ToolSpec` fields."""

        def decorate(handler: ToolHandler) -> ToolHandler:
            self.register(ToolSpec(name, description, input_schema, handler, **options))
            return handler

        return decorate

    def filtered(self, allowlist: Iterable[str], *, include_write: bool = True) -> ToolRegistry:
        """The tools of ``allowlist`` (catalogue names) that exist here, sharing the rate limiter.

        Names not in the catalogue are ignored: an agent configured with a tool whose module was
        uninstalled still runs with the others.
        """
        allowed = set(allowlist)
        specs = (
            spec
            for name, spec in self._specs.items()
            if name in allowed and (include_write or spec.mode == "read")
        )
        return ToolRegistry(specs, rate_limiter=self.rate_limiter)

    def get(self, name: str) -> ToolSpec | None:
        return self._specs.get(name)

    def by_wire_name(self, wire: str) -> ToolSpec | None:
        return self._by_wire.get(wire)

    def definitions(self) -> tuple[ToolDefinition, ...]:
        return tuple(spec.definition() for spec in self._specs.values())

    def __iter__(self) -> Iterator[ToolSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs


class ThreadedToolContext:
    """A tool context for plain-Python handlers: each call runs in a worker thread so a timeout
    returns control to the turn. A handler that overruns keeps its thread until it ends."""

    _pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="aia-tool")

    def invoke(self, handler: ToolHandler, arguments: dict[str, Any], *, timeout: float) -> Any:
        # In the caller's context: what the handler traces is a child of its tool call's span.
        future = self._pool.submit(contextvars.copy_context().run, handler, self, arguments)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            future.cancel()
            raise ToolTimeout(f"no answer within {timeout:g} s") from None


class MemoryCallLedger:
    """In-process call counts, for tests and single-process use; Odoo counts its audit rows."""

    def __init__(self) -> None:
        self._calls: dict[str, list[datetime]] = defaultdict(list)

    def count_calls(self, tool_name: str, since: datetime) -> int:
        return sum(1 for at in self._calls[tool_name] if at >= since)

    def record_call(self, tool_name: str, at: datetime) -> None:
        self._calls[tool_name].append(at)


def serialize(output: Any) -> str:
    """The text a model reads for a tool output."""
    return output if isinstance(output, str) else json.dumps(output, default=str, ensure_ascii=False)


def truncate(text: str, max_chars: int) -> str:
    """Cut ``text`` to ``max_chars`` with a visible marker, so the model knows it is partial."""
    if len(text) > max_chars:
        return text[:max_chars] + f"\n[truncated: {len(text) - max_chars} more characters]"
    return text
