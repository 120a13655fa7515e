"""ai_core latency: loading a session history, and the time the platform adds before the first
streamed text delta over the provider's first byte.

Run with the interpreter that imports Odoo 19, on a scratch database with ai_core installed (the
benchmark commits its sessions there):

    python bench/ai_core_latency.py -c /path/to/odoo.conf -d aia_bench [--runs 200]

1. History: ``aia.session._aia_transcript(window=False)``, all of a 100-message session, ORM caches
   cleared before each run. Baseline: the same rows fetched and decoded with one raw SQL query.
2. First delta: a local fake Anthropic server speaking the real SSE wire format, in a child process
   (in this one its threads would compete with the turn for the interpreter lock). Baseline: the
   time from sending the request with ``http.client`` to the first byte of the response body.
   Measured: from the start of ``aia.session._aia_run_turn`` (what the queue job runs) to the first
   ``text_delta`` it yields, through the real AnthropicAdapter and SDK built at the choke point,
   and the queries the turn's cursor ran until then; each turn starts with an empty ORM cache, as
   a queue job does. The delta is yielded once committed with its bus row and NOTIFYed by
   Odoo's bus; the time Odoo's NOTIFY takes after the commit (it connects to the ``postgres``
   database for each one) is measured in the same turn and reported apart: the goal is on the
   time until the delta is committed for the browser.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import multiprocessing
import socketserver
import statistics
import sys
import time
from pathlib import Path

from odoo_bench import command_line, median_ms, superuser_env

FAKE_SERVERS = Path(__file__).resolve().parent.parent / "ai_core" / "tests"
FRAGMENTS = ["The ", "balance ", "is ", "42."]


def serve(connection, replies):
    """Child process: a fake Anthropic server with ``replies`` answers queued; sends its address,
    then serves until told to stop."""
    # Each SSE event leaves at once, as from a provider: without TCP_NODELAY an event written
    # while the previous one waits for its ACK is held back up to 40 ms.
    socketserver.StreamRequestHandler.disable_nagle_algorithm = True
    sys.path.insert(0, str(FAKE_SERVERS))
    from fake_servers import FakeAnthropicServer

    with FakeAnthropicServer() as server:
        for _index in range(replies):
            server.add_text(FRAGMENTS)
        connection.send((server.url, server.port))
        connection.recv()


class ProviderProcess:
    """The fake provider of :func:`serve`, in a process of its own (a provider runs elsewhere)."""

    def __init__(self, replies):
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=serve, args=(child, replies), daemon=True)

    def __enter__(self):
        self._process.start()
        self.url, self.port = self._connection.recv()
        return self

    def __exit__(self, *exc_info):
        self._connection.send("stop")
        self._process.join(timeout=10)


def bench_agent(env, server):
    provider = env["aia.provider"].create(
        {"name": "Bench", "kind": "anthropic", "base_url": server.url, "api_key": "bench"}
    )
    model = env["aia.model"].create({"name": "claude-sonnet-4-6", "provider_id": provider.id})
    return env["aia.agent"].create({"code": f"bench{provider.id}", "name": "Bench", "model_id": model.id})


def bench_history(env, agent, runs):
    from odoo.addons.ai_core.ai_engine import Message

    session = env["aia.session"].create({"agent_id": agent.id})
    values = []
    for index in range(50):
        values.append(
            {"session_id": session.id, "role": "user", "content": Message.user(f"question {index}").to_dict()}
        )
        answer = Message.assistant(f"answer {index} " * 30)
        values.append({"session_id": session.id, "role": "assistant", "content": answer.to_dict()})
    env["aia.message"].create(values)
    env.cr.commit()
    orm, raw = [], []
    for _ in range(runs):
        env.invalidate_all()
        started = time.perf_counter()
        history = session._aia_transcript(window=False)
        orm.append(time.perf_counter() - started)
        assert len(history) == 100
        started = time.perf_counter()
        env.cr.execute("SELECT content FROM aia_message WHERE session_id = %s ORDER BY id", [session.id])
        decoded = [Message.from_dict(row[0]) for row in env.cr.fetchall()]
        raw.append(time.perf_counter() - started)
        assert len(decoded) == 100
    return median_ms(orm), median_ms(raw)


def first_byte(server, body):
    connection = http.client.HTTPConnection("127.0.0.1", server.port)
    started = time.perf_counter()
    connection.request(
        "POST", "/v1/messages", json.dumps(body), {"content-type": "application/json", "x-api-key": "bench"}
    )
    response = connection.getresponse()
    response.read1(1)
    elapsed = time.perf_counter() - started
    response.read()
    connection.close()
    return elapsed


@contextlib.contextmanager
def timed_notify(cr, samples):
    """Time what Odoo's bus does after each commit of ``cr``: its NOTIFY, through a connection to
    the ``postgres`` database that Odoo opens for each one (and closes: it pools none there)."""
    callbacks_class = type(cr.postcommit)
    run = callbacks_class.run

    def timed_run(callbacks):
        if callbacks is not cr.postcommit:
            return run(callbacks)
        started = time.perf_counter()
        try:
            return run(callbacks)
        finally:
            samples.append(time.perf_counter() - started)

    callbacks_class.run = timed_run
    try:
        yield
    finally:
        callbacks_class.run = run


def bench_first_delta(env, server, agent, runs):
    from odoo.addons.ai_core import turn
    from odoo.addons.ai_core.ai_engine.events import TextDelta

    session = env["aia.session"].create({"agent_id": agent.id})
    env.cr.commit()
    body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 64,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    platform, notify, baseline, queries = [], [], [], []
    for index in range(runs):
        baseline.append(first_byte(server, body))
        # Accepted as the REST API accepts it: saved and committed, the turn run here, from an
        # empty ORM cache as in a queue job.
        message = turn.accept(session, f"What is the balance? ({index})", run_in_request=True)
        env.invalidate_all()
        count = env.cr.sql_log_count
        notifications = []
        started = time.perf_counter()
        first = None
        with timed_notify(env.cr, notifications):
            for event in session._aia_run_turn(user_message=message):
                if first is None and isinstance(event, TextDelta):
                    first = time.perf_counter() - started
                    queries.append(env.cr.sql_log_count - count)
                    # The first delta is the turn's first commit: its NOTIFY is the first one.
                    notify.append(notifications[0])
        assert first is not None, session.error_message
        platform.append(first)
    committed = [total - sent for total, sent in zip(platform, notify, strict=True)]
    return {
        "sent": median_ms(platform),
        "committed": median_ms(committed),
        "notify": median_ms(notify),
        "first_byte": median_ms(baseline),
        "queries": statistics.median(queries),
    }


def main():
    parser = command_line(__doc__)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    # Started before Odoo opens connections: two answers a run (the baseline's and the turn's).
    with ProviderProcess(2 * args.runs) as server, superuser_env(args) as env:
        agent = bench_agent(env, server)
        history_ms, raw_ms = bench_history(env, agent, args.runs)
        delta = bench_first_delta(env, server, agent, args.runs)
    first_byte_ms = delta["first_byte"]
    print(f"median of {args.runs} runs")
    print("| measure | ai_core (ms) | baseline (ms) | ratio | platform adds (ms) | goal |")
    print("|---|---|---|---|---|---|")
    print(
        f"| 100-message history load | {history_ms:.2f} | raw SQL + decode {raw_ms:.2f} | "
        f"{history_ms / raw_ms:.1f}x | {history_ms - raw_ms:.2f} | < 5 ms |"
    )
    for label, key, goal in (
        ("turn start → first text delta committed for the browser", "committed", "< 8 ms added"),
        ("turn start → first text delta, Odoo's NOTIFY sent", "sent", ""),
    ):
        print(
            f"| {label} | {delta[key]:.2f} | provider first byte {first_byte_ms:.2f} | "
            f"{delta[key] / first_byte_ms:.1f}x | {delta[key] - first_byte_ms:.2f} | {goal} |"
        )
    print(f"| of which Odoo's NOTIFY after the commit | {delta['notify']:.2f} | | | | |")
    print(
        f"queries on the turn's cursor before the first text delta (median): {delta['queries']:g} (goal: ≤ 5)"
    )


if __name__ == "__main__":
    main()
