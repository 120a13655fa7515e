"""Engine overhead per loop iteration, excluding model and tool time.

A turn over a 200-message history in which a scripted model asks for 10 tool calls (one per
iteration) and then answers: 11 iterations. The baseline, measured in the same run, is the model
and the tools alone: the same scripted responses streamed and the same handler called directly,
with no engine around them. Overhead per iteration = (turn time - baseline time) / 11.

Run: ``.venv/bin/python bench/engine_overhead.py [--turns 300]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ai_core"))

from ai_engine import (
    AgentConfig,
    Limits,
    Message,
    ModelRequest,
    ThreadedToolContext,
    ToolRegistry,
    TurnRunner,
)
from ai_engine.testing import ScriptedModel, reply, tool_calls

HISTORY = [
    Message.user(f"question {i}") if i % 2 == 0 else Message.assistant(f"answer {i} " * 20)
    for i in range(200)
]
TOOL_CALLS = 10
ITERATIONS = TOOL_CALLS + 1
SCHEMA = {
    "type": "object",
    "properties": {"account": {"type": "string"}, "date_to": {"type": "string"}},
    "required": ["account"],
}


def lookup(ctx, args):
    return {"account": args["account"], "balance": "1234.56", "currency": "EUR"}


class InlineToolContext:
    """Calls handlers on the calling thread, as the Odoo tool context does (it bounds time with
    PostgreSQL's statement_timeout instead of a worker thread)."""

    def invoke(self, handler, arguments, *, timeout):
        return handler(self, arguments)


def script():
    steps = [tool_calls(("finance_lookup", {"account": f"{400000 + i}"})) for i in range(TOOL_CALLS)]
    return [*steps, reply("The balances are ready.")]


def registry():
    tools = ToolRegistry()
    tools.tool("finance.lookup", description="Balance of an account.", input_schema=SCHEMA)(lookup)
    return tools


def engine_turn(tools, context) -> float:
    model = ScriptedModel(script())
    runner = TurnRunner(
        AgentConfig(model="bench", memory_window=200, limits=Limits(max_iterations=ITERATIONS)),
        model,
        tools,
        context,
    )
    started = time.perf_counter()
    for _ in runner.run(HISTORY, Message.user("Balances of ten accounts?")):
        pass
    elapsed = time.perf_counter() - started
    model.assert_complete()
    return elapsed


def baseline_turn(context) -> float:
    """The model's and tools' own time: the same steps and handler calls, no engine."""
    model = ScriptedModel(script())
    started = time.perf_counter()
    for step in range(ITERATIONS):
        items = list(model.stream(ModelRequest("bench", "", (Message.user("x"),))))
        if step < TOOL_CALLS:
            call = items[-1].message.tool_uses[0]
            context.invoke(lookup, dict(call.input), timeout=30)
    return time.perf_counter() - started


def measure(name: str, context, turns: int) -> dict[str, float]:
    tools = registry()
    for _ in range(20):  # warm-up
        engine_turn(tools, context)
        baseline_turn(context)
    engine = [engine_turn(tools, context) for _ in range(turns)]
    base = [baseline_turn(context) for _ in range(turns)]
    engine_ms, base_ms = statistics.median(engine) * 1000, statistics.median(base) * 1000
    overhead = (engine_ms - base_ms) / ITERATIONS
    return {
        "context": name,
        "turn_ms": engine_ms,
        "baseline_ms": base_ms,
        "overhead_ms": overhead,
        "ratio": engine_ms / base_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=300)
    args = parser.parse_args()
    print(
        f"history 200 messages, {TOOL_CALLS} tool calls, {ITERATIONS} iterations per turn, "
        f"median of {args.turns} turns"
    )
    print("| tool context | turn (ms) | baseline: model + tools (ms) | ratio | overhead per iteration (ms) |")
    print("|---|---|---|---|---|")
    for name, context in (("inline (as in Odoo)", InlineToolContext()), ("threaded", ThreadedToolContext())):
        row = measure(name, context, args.turns)
        print(
            f"| {row['context']} | {row['turn_ms']:.3f} | {row['baseline_ms']:.3f} | {row['ratio']:.2f}x "
            f"| {row['overhead_ms']:.3f} |"
        )


if __name__ == "__main__":
    main()
