"""What the OpenTelemetry spans add to a turn, without an SDK (the API's no-op) and with one.

A turn of the engine with a scripted model: the model asks for two tools (one request), then
answers in 40 streamed fragments (a second request): one ``invoke_agent`` span, two ``chat``
spans, two ``execute_tool`` spans per turn. Cases, interleaved in the same run (each turn of each
case in turn, so that all see the same load):

* baseline: the same turn through the engine of a revision without spans (``--baseline``, by
  default the merge base with ``main``), exported with ``git archive`` and imported beside;
* no SDK: this engine, no tracer provider installed: the API's no-op spans (what a server
  without an OTLP endpoint runs);
* no SDK, in a trace: the same, inside an incoming trace context (a request with a
  ``traceparent``): the no-op spans carry it along;
* SDK, in-memory exporter: the SDK's tracer provider, every span exported as it ends
  (``SimpleSpanProcessor``) to its ``InMemorySpanExporter``;
* SDK, batch processor: the same exporter behind the ``BatchSpanProcessor`` a server uses.

Each round runs every case once, in a shuffled order, with a garbage collection (untimed)
before each turn. Reported: the median turn of each case and what it adds to the baseline's;
then the span calls of one such turn alone, without an SDK, timed many times (the part of the
no-op cases' difference that is not noise).

Run: ``.venv/bin/python bench/tracing_overhead.py [--turns 2000] [--baseline REV]``
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import timeit
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "ai_core"))

from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

import ai_engine  # noqa: E402
from ai_engine import tracing  # noqa: E402

SCHEMA = {"type": "object", "properties": {"account": {"type": "string"}}, "required": ["account"]}
HISTORY_LENGTH = 20
FRAGMENTS = 40
PARENT = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}


def load_engine(revision, into):
    """The package ``ai_engine`` of ``revision``, imported as ``ai_engine_base``."""
    archive = subprocess.run(
        ["git", "archive", revision, "ai_core/ai_engine"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    path = Path(into) / "ai_core" / "ai_engine"
    spec = importlib.util.spec_from_file_location(
        "ai_engine_base", path / "__init__.py", submodule_search_locations=[str(path)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["ai_engine_base"] = module
    spec.loader.exec_module(module)
    importlib.import_module("ai_engine_base.testing")
    return module


class InlineToolContext:
    """Calls handlers on the calling thread, as the Odoo tool context does."""

    def invoke(self, handler, arguments, *, timeout):
        return handler(self, arguments)


def lookup(ctx, args):
    return {"rows": [{"account": args["account"], "balance": "1234.56"}]}


def make_turn(engine):
    """A function running one turn of ``engine`` (a module like ``ai_engine``)."""
    testing = importlib.import_module(f"{engine.__name__}.testing")
    tools = engine.ToolRegistry()
    tools.tool("finance.lookup", description="Balance of an account.", input_schema=SCHEMA)(lookup)
    history = [
        engine.Message.user(f"question {i}") if i % 2 == 0 else engine.Message.assistant(f"answer {i}")
        for i in range(HISTORY_LENGTH)
    ]
    answer = " ".join(f"word{i}" for i in range(FRAGMENTS))
    config = engine.AgentConfig(model="bench", memory_window=HISTORY_LENGTH)

    def turn(parent=None):
        model = testing.ScriptedModel(
            [
                testing.tool_calls(
                    ("finance_lookup", {"account": "400000"}), ("finance_lookup", {"account": "400100"})
                ),
                testing.chunked(testing.reply(answer), FRAGMENTS),
            ]
        )
        runner = engine.TurnRunner(config, model, tools, InlineToolContext())
        if parent is not None:
            runner.trace_parent = parent
        started = time.perf_counter()
        for _event in runner.run(history, engine.Message.user("Balances of two accounts?")):
            pass
        return time.perf_counter() - started

    return turn


def span_calls_of_a_turn():
    """The span calls the engine makes in one such turn, alone: one ``invoke_agent`` span, two
    ``chat`` and two ``execute_tool`` spans, each made current once."""
    from opentelemetry.trace import SpanKind

    from ai_engine.runner import _request_attributes

    turn = tracing.start_span(
        "invoke_agent bench", {tracing.GEN_AI_OPERATION_NAME: tracing.OP_INVOKE_AGENT}, parent=None
    )
    tracing.trace_id_of(turn)
    for _ in range(2):
        span = tracing.start_span(
            "chat bench", _request_attributes("p", "bench", 4096, None), kind=SpanKind.CLIENT, parent=turn
        )
        with tracing.using(span):
            pass
        span.is_recording()
        span.end()
    for index in range(2):
        span = tracing.start_span(
            "execute_tool finance.lookup",
            {
                tracing.GEN_AI_OPERATION_NAME: tracing.OP_EXECUTE_TOOL,
                tracing.GEN_AI_TOOL_NAME: "finance.lookup",
                tracing.GEN_AI_TOOL_CALL_ID: f"call_{index}",
                tracing.GEN_AI_TOOL_TYPE: "function",
            },
            parent=turn,
        )
        with tracing.using(span):
            pass
        span.is_recording()
        span.end()
    turn.is_recording()
    turn.end()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument(
        "--baseline", default=None, help="revision without spans (default: merge base with main)"
    )
    args = parser.parse_args()
    revision = (
        args.baseline
        or subprocess.run(
            ["git", "merge-base", "HEAD", "main"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.strip()
    )

    with tempfile.TemporaryDirectory() as folder:
        base = make_turn(load_engine(revision, folder))
        current = make_turn(ai_engine)
        in_memory = InMemorySpanExporter()
        simple = TracerProvider()
        simple.add_span_processor(SimpleSpanProcessor(in_memory))
        batched_memory = InMemorySpanExporter()
        batched = TracerProvider()
        batched.add_span_processor(BatchSpanProcessor(batched_memory, max_queue_size=1 << 16))
        parent = tracing.context_from(PARENT)

        def with_provider(provider, parent=None):
            def case():
                tracing.set_tracer_provider(provider)
                try:
                    return current(parent)
                finally:
                    tracing.set_tracer_provider(None)
                    in_memory.clear()

            return case

        cases = {
            "baseline: the engine without spans": base,
            "no SDK (API no-op spans)": with_provider(None),
            "no SDK, inside an incoming trace": with_provider(None, parent),
            "SDK, SimpleSpanProcessor + InMemorySpanExporter": with_provider(simple),
            "SDK, BatchSpanProcessor + InMemorySpanExporter": with_provider(batched),
        }
        for case in cases.values():  # warm-up: imports, caches
            for _ in range(50):
                case()
        samples = {name: [] for name in cases}
        names = list(cases)
        shuffle = random.Random(19).shuffle
        for _index in range(args.turns):
            # Each case once per round, in a new order each round; a garbage collection before
            # each turn, untimed: the collection of one case's garbage (the SDK's spans) would
            # otherwise be timed in whichever case runs next.
            shuffle(names)
            for name in names:
                gc.collect()
                samples[name].append(cases[name]())
            batched_memory.clear()
        batched.shutdown()

    calls = 20_000
    alone_us = timeit.timeit(span_calls_of_a_turn, number=calls) / calls * 1e6

    base_ms = statistics.median(samples["baseline: the engine without spans"]) * 1000
    load = os.getloadavg()[0]
    print(f"baseline revision {revision[:7]}, {args.turns} turns per case, load average {load:.1f}")
    print()
    print("| case | turn, median (ms) | ratio | added per turn (ms) |")
    print("|---|---|---|---|")
    for name, figures in samples.items():
        ms = statistics.median(figures) * 1000
        print(f"| {name} | {ms:.3f} | {ms / base_ms:.2f}x | {ms - base_ms:+.3f} |")
    print()
    print(f"The span calls of one turn alone, no SDK, {calls} times: {alone_us:.1f} µs per turn")


if __name__ == "__main__":
    main()
