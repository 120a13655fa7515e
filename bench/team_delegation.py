"""ai_team: what a delegation adds to the turns it is made of.

Run with the interpreter that imports Odoo 19, on a scratch database with ai_team installed (the
benchmark commits its sessions there):

    python bench/team_delegation.py -c /path/to/odoo.conf -d aia_bench [--runs 50]

The models are the engine's scripted model, at the provider's choke point: what is measured is
the platform, not a provider. Each run, from an empty ORM cache:

- **delegation**: a question is accepted for the lead agent and its turn queued; its turn asks
  the tool ``agent.stock``; the call defers (child session created, its task saved, its turn
  queued), the lead's turn ends waiting; the child's job runs the stock agent's turn (one
  answer), then resumes the lead's turn with the child's answer, and the lead answers: two
  jobs.
- **baseline**: the same provider calls and transcripts without delegation: a question accepted
  for the lead, whose turn asks ``orm.count`` (one COUNT query) and answers, then a question
  accepted for the stock agent in a session of its own, which answers: two jobs.

The jobs are loaded and performed as queue_job's runner does (``Job.load``, ``set_started``,
``perform``, ``set_done``, ``store``, a commit after each).

Reported: the median time and the queries (every cursor, Odoo's global counter) of each, and the
difference, what one delegation step costs beyond the turns themselves.
"""

from __future__ import annotations

from odoo_bench import command_line, interleaved, print_overhead, superuser_env


def setup(env):
    provider = env["aia.provider"].create({"name": "Bench", "api_key": "bench"})
    model = env["aia.model"].create({"name": "claude-bench", "provider_id": provider.id})
    count = env["aia.tool"].search([("name", "=", "orm.count")])
    stock = env["aia.agent"].create({"code": f"stock{provider.id}", "name": "Stock", "model_id": model.id})
    lead = env["aia.agent"].create(
        {
            "code": f"lead{provider.id}",
            "name": "Lead",
            "model_id": model.id,
            "delegate_agent_ids": [(6, 0, stock.ids)],
            "tool_ids": [(6, 0, count.ids)],
            "allowed_model_ids": [(6, 0, env.ref("base.model_res_partner").ids)],
        }
    )
    env.cr.commit()
    return lead, stock


def script(env, steps):
    """Every provider answers ``steps`` (the engine's scripted model)."""
    from odoo.addons.ai_core.ai_engine.testing import ScriptedModel

    model = ScriptedModel(list(steps))
    type(env["aia.provider"])._aia_build_model_adapter = lambda provider: model
    return model


def perform_pending_jobs(env):
    """Perform the jobs queued so far, oldest first, as queue_job's runner does; returns how many."""
    from odoo.addons.queue_job.job import Job

    done = 0
    while True:
        env.cr.execute("SELECT uuid FROM queue_job WHERE state = 'pending' ORDER BY id LIMIT 1")
        row = env.cr.fetchone()
        if not row:
            return done
        job = Job.load(env, row[0])
        job.set_started()
        job.store()
        env.cr.commit()
        job.perform()
        job.set_done()
        job.store()
        env.cr.commit()
        done += 1


def delegation(env, lead, stock, index):
    from odoo.addons.ai_core import turn
    from odoo.addons.ai_core.ai_engine.testing import reply, tool_calls

    asked = tool_calls((f"agent_{stock.code}", {"task": f"Count {index}"}))
    script(env, [asked, reply("3"), reply("Three.")])
    session = env["aia.session"].create({"agent_id": lead.id})
    turn.accept(session, f"How many? ({index})")
    env.cr.commit()
    jobs = perform_pending_jobs(env)
    env.invalidate_all()
    assert (session.state, session.last_text, jobs) == ("done", "Three.", 2), (session.state, jobs)


def baseline(env, lead, stock, index):
    from odoo.addons.ai_core import turn
    from odoo.addons.ai_core.ai_engine.testing import reply, tool_calls

    script(env, [tool_calls(("orm_count", {"model": "res.partner"})), reply("Three."), reply("3")])
    session = env["aia.session"].create({"agent_id": lead.id})
    turn.accept(session, f"How many? ({index})")
    env.cr.commit()
    first = perform_pending_jobs(env)
    alone = env["aia.session"].create({"agent_id": stock.id})
    turn.accept(alone, f"Count {index}")
    env.cr.commit()
    jobs = first + perform_pending_jobs(env)
    env.invalidate_all()
    assert (session.state, alone.state, jobs) == ("done", "done", 2)


def main():
    parser = command_line(__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with superuser_env(args) as env:
        lead, stock = setup(env)
        cases = {
            "baseline": lambda index: baseline(env, lead, stock, index),
            "delegation": lambda index: delegation(env, lead, stock, index),
        }
        interleaved(cases, 3)  # warm-up: caches, first queries
        measured = interleaved(cases, args.runs)
    print(f"median of {args.runs} runs")
    print_overhead(
        ("baseline: the lead's turn with one tool call, the stock agent's turn", measured["baseline"]),
        ("delegation: the same turns, the lead delegating to Stock", measured["delegation"]),
        "what one delegation step adds",
    )


if __name__ == "__main__":
    main()
