"""ai_core: what traces cost a queued turn in Odoo, without an SDK and with one.

Run with the interpreter that imports Odoo 19, on a scratch database with ai_core installed (the
benchmark commits its sessions there):

    python bench/tracing_turns.py -c /path/to/odoo.conf -d aia_bench [--runs 100]

Each run accepts a question in a new session (its turn queued as a job) and performs the job as
queue_job's runner does; the turn calls ``orm.count`` twice, then answers: a job span, a turn
span, two provider requests, two tool calls. The model is the engine's scripted model at the
provider's choke point. Cases, interleaved:

- **no SDK**: no tracer provider (a server without an OTLP endpoint): the API's no-op spans;
- **no SDK, in a trace**: the same, the question accepted inside an incoming trace context (an
  API request with a ``traceparent``): the job carries it, the session stores its trace id;
- **SDK**: the SDK's tracer provider with its in-memory exporter (``SimpleSpanProcessor``),
  every span recorded and exported.

Odoo's side cannot run without its spans in the same process: the engine's share against an
engine without spans is in ``tracing_overhead.py``.
"""

from __future__ import annotations

from odoo_bench import command_line, interleaved, median_ms, superuser_env
from team_delegation import perform_pending_jobs, script

TRACEPARENT = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}


def setup(env):
    provider = env["aia.provider"].create({"name": "Bench traces", "api_key": "bench"})
    model = env["aia.model"].create({"name": "claude-bench", "provider_id": provider.id})
    tools = env["aia.tool"].search([("name", "=", "orm.count")])
    agent = env["aia.agent"].create(
        {
            "code": f"tracebench{provider.id}",
            "name": "Trace bench",
            "model_id": model.id,
            "tool_ids": [(6, 0, tools.ids)],
            "allowed_model_ids": [(6, 0, env.ref("base.model_res_partner").ids)],
        }
    )
    env.cr.commit()
    return agent


def queued_turn(env, agent, index, parent=None):
    from odoo.addons.ai_core import turn
    from odoo.addons.ai_core.ai_engine import tracing
    from odoo.addons.ai_core.ai_engine.testing import reply, tool_calls

    count = ("orm_count", {"model": "res.partner"})
    script(env, [tool_calls(count, count), reply(f"There are many contacts ({index}).")])
    session = env["aia.session"].create({"agent_id": agent.id})
    if parent is None:
        turn.accept(session, f"How many contacts? ({index})")
    else:
        span = tracing.start_span("caller", parent=parent)
        with tracing.using(span):
            turn.accept(session, f"How many contacts? ({index})")
        span.end()
    env.cr.commit()
    assert perform_pending_jobs(env) == 1
    env.invalidate_all()
    assert session.state == "done", session.error_message
    return session.trace_id


def main():
    parser = command_line(__doc__)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    import os

    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    with superuser_env(args) as env:
        from odoo.addons.ai_core.ai_engine import tracing

        agent = setup(env)
        exporter = InMemorySpanExporter()
        sdk = TracerProvider()
        sdk.add_span_processor(SimpleSpanProcessor(exporter))
        parent = tracing.context_from(TRACEPARENT)

        def traced(provider, parent=None):
            def case(index):
                tracing.set_tracer_provider(provider)
                try:
                    return queued_turn(env, agent, index, parent)
                finally:
                    tracing.set_tracer_provider(None)
                    exporter.clear()

            return case

        cases = {
            "no SDK (API no-op spans)": traced(None),
            "no SDK, accepted inside an incoming trace": traced(None, parent),
            "SDK, SimpleSpanProcessor + InMemorySpanExporter": traced(sdk),
        }
        interleaved(cases, 5)  # warm-up: caches, first queries
        measured = interleaved(cases, args.runs)
    assert measured["no SDK (API no-op spans)"]["result"] is False
    assert measured["no SDK, accepted inside an incoming trace"]["result"] == TRACEPARENT["traceparent"][3:35]
    assert measured["SDK, SimpleSpanProcessor + InMemorySpanExporter"]["result"]
    base = measured["no SDK (API no-op spans)"]
    base_ms = median_ms(base["seconds"])
    print(f"median of {args.runs} runs, load average {os.getloadavg()[0]:.1f}")
    print()
    print("| case | queued turn, accepted and performed (ms) | queries | vs no SDK | added (ms) |")
    print("|---|---|---|---|---|")
    for name, figures in measured.items():
        ms = median_ms(figures["seconds"])
        queries = sorted(figures["queries"])[len(figures["queries"]) // 2]
        print(f"| {name} | {ms:.2f} | {queries} | {ms / base_ms:.2f}x | {ms - base_ms:+.2f} |")


if __name__ == "__main__":
    main()
