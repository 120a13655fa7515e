"""ai_automation: what firing a "Run AI Agent" action in per-record mode costs.

Run with the interpreter that imports Odoo 19, on a scratch database with ai_automation installed
(the setup is committed there and removed at the end; every measured run is rolled back):

    python bench/automation_fire.py -c /path/to/odoo.conf -d aia_bench [--records 1000] [--runs 3]

Measured: ``ir.actions.server.run()`` of an action in per-record mode on ``--records`` contacts
given as a contextual action gives them (``active_ids``), up to what a commit does before COMMIT
(flush, precommit hooks: bus notifications): one session per record, its rendered prompt, its
first message, its queue job on ``root.aia.automation``, the chatter note on the record. Twice:
with chaining off, and with chaining per record where every record already has a chain (the
previous session's lookup and the caps' checks at fire time).

Baselines in the same run, with the same flush:
1. a plain ``with_delay`` loop queueing as many jobs (what queue_job itself costs);
2. as many sessions through ai_core's own calls (create, then the turn service's
   ``turn.accept``: checks, message saved, job queued) in a loop, without prompt, chain, caps or
   chatter note.

The provider's choke point ``aia.provider._aia_build_model_adapter`` is wrapped with a counter and
must never be called while firing.
"""

from __future__ import annotations

import statistics
import time

from odoo_bench import command_line, superuser_env


def setup(env, count):
    provider = env["aia.provider"].create({"name": "Bench", "api_key": "bench"})
    model = env["aia.model"].create({"name": "claude-bench", "provider_id": provider.id})
    agent = env["aia.agent"].create({"code": f"bench{provider.id}", "name": "Bench", "model_id": model.id})
    partners = (
        env["res.partner"]
        .with_context(tracking_disable=True, mail_create_nolog=True)
        .create(
            [{"name": f"Bench contact {index}", "email": f"c{index}@example.com"} for index in range(count)]
        )
    )
    # Created by the administrator: sessions run as the action's creator.
    action = (
        env["ir.actions.server"]
        .with_user(env.ref("base.user_admin"))
        .create(
            {
                "name": "Bench check",
                "model_id": env.ref("base.model_res_partner").id,
                "state": "ai_agent",
                "aia_agent_id": agent.id,
                "aia_dispatch": "per_record",
                "aia_max_records": 0,
                "aia_prompt": "Check that {{ record.name }} has a valid email ({{ record.email }}).",
            }
        )
    )
    env.cr.commit()
    return provider, agent, partners, action


def commit_work(env):
    """What a commit does before COMMIT: flush, then the precommit hooks."""
    env.flush_all()
    env.cr.precommit.run()
    env.flush_all()


def measure(env, work):
    """Seconds ``work`` takes up to its flush, and the jobs it queued; then roll it all back."""
    jobs_before = env["queue.job"].search_count([])
    started = time.perf_counter()
    work()
    commit_work(env)
    elapsed = time.perf_counter() - started
    jobs = env["queue.job"].search_count([]) - jobs_before
    env.cr.rollback()
    env.invalidate_all()
    return elapsed, jobs


def main():
    parser = command_line(__doc__)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with superuser_env(args) as env:
        # Importable once the configuration has set the addons path.
        from odoo.addons.ai_core import turn

        provider, agent, partners, action = setup(env, args.records)
        context = {"active_model": "res.partner", "active_ids": partners.ids, "active_id": partners[0].id}

        Provider = type(env["aia.provider"])
        original = Provider._aia_build_model_adapter
        provider_calls = []

        def counting(self):
            provider_calls.append(self.id)
            return original(self)

        Provider._aia_build_model_adapter = counting
        try:

            def fire():
                action.with_context(**context).run()

            def fire_chained():
                """Seconds of a fire where every record continues a chain; the first fire is setup."""
                action.aia_chain = "per_record"
                action.with_context(**context).run()
                commit_work(env)
                elapsed, jobs = measure(env, fire)
                return elapsed, jobs

            def plain_jobs():
                session = env["aia.session"].create({"agent_id": agent.id})
                for _index in range(args.records):
                    session.with_delay(channel="root.aia.automation", description="bench")._aia_job_run_turn(
                        0
                    )

            def core_sessions():
                Session = env["aia.session"]
                for partner in partners:
                    session = Session.create(
                        {
                            "agent_id": agent.id,
                            "channel": "automation",
                            "res_model": "res.partner",
                            "res_id": partner.id,
                        }
                    )
                    turn.accept(session, f"Check that {partner.name} has a valid email.")

            rows = {"fire": [], "chained": [], "jobs": [], "core": []}
            queued = {}
            for _run in range(args.runs):
                for name, work in (("fire", fire), ("jobs", plain_jobs), ("core", core_sessions)):
                    elapsed, jobs = measure(env, work)
                    rows[name].append(elapsed)
                    queued[name] = jobs
                elapsed, jobs = fire_chained()
                rows["chained"].append(elapsed)
                queued["chained"] = jobs
        finally:
            Provider._aia_build_model_adapter = original
            env.cr.rollback()
            action.unlink()
            partners.unlink()
            env["aia.session"].search([("agent_id", "=", agent.id)]).unlink()
            agent.unlink()
            provider.unlink()
            env.cr.commit()

    fire_s = statistics.median(rows["fire"])
    chained_s = statistics.median(rows["chained"])
    jobs_s = statistics.median(rows["jobs"])
    core_s = statistics.median(rows["core"])
    assert queued["fire"] == queued["chained"] == args.records, queued
    calls = len(provider_calls)
    print(f"{args.records} records, median of {args.runs} runs; provider calls while firing: {calls}")
    print("| measure | seconds | jobs queued | ms per record | vs plain with_delay | vs ai_core loop |")
    print("|---|---|---|---|---|---|")
    for label, seconds, jobs in (
        ("fire, per record, no chaining", fire_s, queued["fire"]),
        ("fire, per record, every record continuing a chain", chained_s, queued["chained"]),
        ("baseline: plain `with_delay` loop", jobs_s, queued["jobs"]),
        ("baseline: ai_core create + save message + enqueue loop", core_s, queued["core"]),
    ):
        print(
            f"| {label} | {seconds:.2f} | {jobs} | {seconds * 1000 / args.records:.2f} | "
            f"{seconds / jobs_s:.2f}x | {seconds / core_s:.2f}x |"
        )
    assert not provider_calls, "a provider was called while firing"


if __name__ == "__main__":
    main()
