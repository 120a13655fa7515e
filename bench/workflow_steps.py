"""ai_workflow: what orchestrating a workflow adds to the turns its steps are made of.

Run with the interpreter that imports Odoo 19, on a scratch database with ai_workflow installed
(the benchmark commits its runs there):

    python bench/workflow_steps.py -c /path/to/odoo.conf -d aia_bench [--runs 30]

The models are the engine's scripted model, at the provider's choke point: what is measured is
the platform, not a provider. Each run:

- **workflow**: a run of plan → execute (two planned tasks, fanned out) → review → synthesize is
  started; every job it queues is performed as queue_job's runner does, until none is left: five
  agent tasks, each a turn with one answer, and the steps between them.
- **baseline**: the same five turns with the same answers, each a question accepted in a session
  of its own and its queued turn performed: five jobs.

The jobs are loaded and performed as queue_job's runner does (``Job.load``, ``set_started``,
``perform``, ``set_done``, ``store``, a commit after each). Reported: the median time and the
queries (every cursor, Odoo's global counter) of each, and the difference per agent task: what a
workflow step costs beyond its turn.
"""

from __future__ import annotations

import json

from odoo_bench import command_line, interleaved, print_overhead, superuser_env
from team_delegation import perform_pending_jobs, script

TASKS = 5


def setup(env):
    provider = env["aia.provider"].create({"name": "Bench", "api_key": "bench"})
    model = env["aia.model"].create({"name": "claude-bench", "provider_id": provider.id})
    agents = {
        name: env["aia.agent"].create({"code": f"{name}{provider.id}", "name": name, "model_id": model.id})
        for name in ("planner", "stock", "sales", "reviewer", "writer")
    }
    workflow = env["aia.workflow"].create(
        {
            "name": "Bench",
            "code": f"bench{provider.id}",
            "step_ids": [
                (0, 0, {"sequence": 1, "name": "Plan", "kind": "plan", "agent_id": agents["planner"].id}),
                (
                    0,
                    0,
                    {
                        "sequence": 2,
                        "name": "Execute",
                        "kind": "execute",
                        "agent_ids": [(6, 0, (agents["stock"] | agents["sales"]).ids)],
                    },
                ),
                (
                    0,
                    0,
                    {"sequence": 3, "name": "Review", "kind": "review", "agent_id": agents["reviewer"].id},
                ),
                (
                    0,
                    0,
                    {"sequence": 4, "name": "Memo", "kind": "synthesize", "agent_id": agents["writer"].id},
                ),
            ],
        }
    )
    env.cr.commit()
    return workflow, agents


def answers(agents):
    from odoo.addons.ai_core.ai_engine.testing import reply

    plan = {
        "steps": [
            {"id": "stock", "agent": agents["stock"].code, "task": "Count the late receipts."},
            {"id": "sales", "agent": agents["sales"].code, "task": "Sum the orders."},
        ]
    }
    return [
        reply(json.dumps(plan)),
        reply("3 late."),
        reply("12,400 EUR."),
        reply(json.dumps({"approved": True})),
        reply("Memo."),
    ]


def workflow_run(env, workflow, agents, index):
    script(env, answers(agents))
    run_id = env["aia.workflow.run"].start(workflow.code, f"How did the month close? ({index})")
    env.cr.commit()
    jobs = perform_pending_jobs(env)
    env.invalidate_all()
    run = env["aia.workflow.run"].browse(run_id)
    assert (run.state, run.answer, len(run.task_ids)) == ("done", "Memo.", TASKS), (
        run.state,
        run.error_message,
    )
    return jobs


def baseline(env, workflow, agents, index):
    from odoo.addons.ai_core import turn

    script(env, answers(agents))
    jobs = 0
    for name in ("planner", "stock", "sales", "reviewer", "writer"):
        session = env["aia.session"].create({"agent_id": agents[name].id})
        turn.accept(session, f"Your part ({index})")
        env.cr.commit()
        jobs += perform_pending_jobs(env)
    assert jobs == TASKS
    return jobs


def main():
    parser = command_line(__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with superuser_env(args) as env:
        workflow, agents = setup(env)
        cases = {
            "baseline": lambda index: baseline(env, workflow, agents, index),
            "workflow": lambda index: workflow_run(env, workflow, agents, index),
        }
        interleaved(cases, 3)  # warm-up: caches, first queries
        measured = interleaved(cases, args.runs)
    jobs = {name: figures["result"] for name, figures in measured.items()}
    print(f"median of {args.runs} runs; jobs: baseline {jobs['baseline']}, workflow {jobs['workflow']}")
    print_overhead(
        (f"baseline: {TASKS} turns, each in a session of its own", measured["baseline"]),
        (f"workflow: the same {TASKS} turns as plan, 2 fanned-out tasks, review, memo", measured["workflow"]),
        "what orchestration adds per agent task",
        per=TASKS,
    )


if __name__ == "__main__":
    main()
