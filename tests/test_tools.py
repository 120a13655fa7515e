from __future__ import annotations

import pytest
from jsonschema.exceptions import SchemaError

from ai_engine import ThreadedToolContext, ToolRegistry, ToolSpec, ToolTimeout
from ai_engine.tools import wire_name


def handler(ctx, args):
    return args


def test_catalogue_names_map_to_provider_safe_wire_names():
    assert wire_name("finance.get_gl_balance") == "finance_get_gl_balance"
    with pytest.raises(ValueError, match="valid provider name"):
        wire_name("finance.get gl balance")
    with pytest.raises(ValueError):
        wire_name("x" * 65)


def test_an_invalid_schema_is_refused_when_the_tool_is_declared():
    with pytest.raises(SchemaError):
        ToolSpec("demo.bad", "Bad.", {"type": "object", "properties": {"a": {"type": "nope"}}}, handler)


def test_mode_must_be_read_or_write():
    with pytest.raises(ValueError, match="mode"):
        ToolSpec("demo.bad", "Bad.", {"type": "object"}, handler, mode="delete")


def test_input_validation_uses_json_schema_2020_12():
    spec = ToolSpec(
        "demo.dates",
        "Dates.",
        {
            "type": "object",
            "properties": {"ids": {"type": "array", "prefixItems": [{"type": "integer"}], "items": False}},
        },
        handler,
    )
    assert spec.input_error({"ids": [1]}) is None
    # prefixItems + items: false is 2020-12 only: a second item is refused.
    assert spec.input_error({"ids": [1, 2]}) is not None


def test_registry_refuses_duplicates_and_filters_by_allowlist():
    registry = ToolRegistry()
    registry.tool("a.read", description="R", input_schema={"type": "object"})(handler)
    registry.tool("a.write", description="W", input_schema={"type": "object"}, mode="write")(handler)
    with pytest.raises(ValueError, match="already registered"):
        registry.tool("a.read", description="R", input_schema={"type": "object"})(handler)
    assert [spec.name for spec in registry.filtered(["a.read", "gone.tool"])] == ["a.read"]
    assert [spec.name for spec in registry.filtered(["a.read", "a.write"], include_write=False)] == ["a.read"]
    assert registry.by_wire_name("a_write").name == "a.write"


def test_filtered_registries_share_the_rate_limiter():
    from ai_engine import RateLimiter
    from ai_engine.testing import FakeClock

    registry = ToolRegistry(rate_limiter=RateLimiter(FakeClock()))
    assert registry.filtered([]).rate_limiter is registry.rate_limiter


def test_threaded_context_returns_results_and_times_out():
    import threading

    context = ThreadedToolContext()
    assert context.invoke(handler, {"a": 1}, timeout=1) == {"a": 1}
    release = threading.Event()
    with pytest.raises(ToolTimeout, match="0.05"):
        context.invoke(lambda ctx, args: release.wait(5), {}, timeout=0.05)
    release.set()
