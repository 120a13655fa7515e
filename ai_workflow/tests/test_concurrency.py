"""Two fanned-out tasks whose turns end at the same moment, each in a transaction of its own on
PostgreSQL's repeatable read: neither sees the other's end, yet the run goes on, once. Data is
committed on cursors of their own, as two workers would see it."""

import uuid

from odoo import SUPERUSER_ID, Command, api
from odoo.tests import TransactionCase, tagged

from odoo.addons.queue_job.job import Job


@tagged("post_install", "-at_install")
class TestTasksEndingTogether(TransactionCase):
    def committed(self, function):
        with self.registry.cursor() as cr:
            return function(api.Environment(cr, SUPERUSER_ID, {}))

    def setUp(self):
        super().setUp()
        self.tag = uuid.uuid4().hex[:8]
        self.ids = self.committed(self.make_run)
        self.addCleanup(self.committed, self.drop)

    def make_run(self, env):
        """A run in its execute step, its two planned tasks running, each in its session."""
        provider = env["aia.provider"].create({"name": f"Concurrency {self.tag}", "api_key": "k"})
        model = env["aia.model"].create({"name": "claude-test", "provider_id": provider.id})
        agents = env["aia.agent"].create(
            [
                {"code": f"{code}_{self.tag}", "name": code, "model_id": model.id}
                for code in ("planner", "stock", "sales", "writer")
            ]
        )
        planner, stock, sales, writer = agents
        workflow = env["aia.workflow"].create(
            {
                "name": f"Concurrency {self.tag}",
                "code": f"concurrency_{self.tag}",
                "step_ids": [
                    Command.create({"sequence": 1, "name": "Plan", "kind": "plan", "agent_id": planner.id}),
                    Command.create(
                        {
                            "sequence": 2,
                            "name": "Execute",
                            "kind": "execute",
                            "agent_ids": [Command.set((stock | sales).ids)],
                        }
                    ),
                    Command.create(
                        {"sequence": 3, "name": "Memo", "kind": "synthesize", "agent_id": writer.id}
                    ),
                ],
            }
        )
        plan_step, execute, _memo = workflow.step_ids.sorted("sequence")
        admin = env.ref("base.user_admin")
        plan = {
            "steps": [
                {"id": "stock", "agent": stock.code, "task": "Count.", "inputs": []},
                {"id": "sales", "agent": sales.code, "task": "Sum.", "inputs": []},
            ]
        }
        run = env["aia.workflow.run"].create(
            {
                "workflow_id": workflow.id,
                "question": "How did the month close?",
                "user_id": admin.id,
                "state": "running",
                "step_id": execute.id,
                "pass_number": 2,
                "plan": plan,
            }
        )
        common = {"run_id": run.id, "company_id": run.company_id.id, "user_id": admin.id}
        env["aia.workflow.task"].create(
            {**common, "step_id": plan_step.id, "pass_number": 1, "agent_id": planner.id, "state": "done"}
        )
        tasks = env["aia.workflow.task"].create(
            [
                {
                    **common,
                    "step_id": execute.id,
                    "pass_number": 2,
                    "agent_id": agent.id,
                    "key": key,
                    "name": key,
                    "state": "running",
                }
                for agent, key in ((stock, "stock"), (sales, "sales"))
            ]
        )
        for task in tasks:
            task.session_id = env["aia.session"].create(
                {
                    "agent_id": task.agent_id.id,
                    "user_id": admin.id,
                    "channel": "workflow",
                    "workflow_task_id": task.id,
                    "state": "running",
                }
            )
        return {"run": run.id, "tasks": tasks.ids, "workflow": workflow.id, "provider": provider.id}

    def drop(self, env):
        run = env["aia.workflow.run"].browse(self.ids["run"])
        sessions = run.task_ids.session_id
        jobs = env["queue.job"].search([("model_name", "in", ("aia.workflow.task", "aia.workflow.run"))])
        jobs.filtered(lambda job: set(job.records.ids) & set(run.task_ids.ids + run.ids)).unlink()
        run.unlink()
        sessions.unlink()
        workflow = env["aia.workflow"].browse(self.ids["workflow"])
        agents = workflow.step_ids.agent_id | workflow.step_ids.agent_ids
        workflow.unlink()
        agents.unlink()
        env["aia.model"].search([("provider_id", "=", self.ids["provider"])]).unlink()
        env["aia.provider"].browse(self.ids["provider"]).unlink()

    def end_turn(self, env, task_id, answer):
        """What a task's turn does last: its session done, then the hook, in one transaction."""
        task = env["aia.workflow.task"].browse(task_id)
        task.session_id.write({"state": "done", "last_text": answer})
        task._aia_session_ended(task.session_id)

    def advance_jobs(self, env):
        return (
            env["queue.job"]
            .search([("model_name", "=", "aia.workflow.run"), ("method_name", "=", "_aia_job_advance")])
            .filtered(lambda job: job.records.ids == [self.ids["run"]])
        )

    def test_the_later_of_two_tasks_ending_together_moves_the_run_on(self):
        stock_id, sales_id = self.ids["tasks"]
        first = self.registry.cursor()
        second = self.registry.cursor()
        try:
            second_env = api.Environment(second, SUPERUSER_ID, {})
            # The second worker's transaction has begun (its snapshot is taken) before the
            # first one's turn ends.
            second_env["aia.workflow.run"].browse(self.ids["run"]).state  # noqa: B018
            self.end_turn(api.Environment(first, SUPERUSER_ID, {}), stock_id, "3 late.")
            first.commit()
            # Its snapshot sees the stock task still running: the run's row, which the first
            # transaction wrote, refuses it, and the advance is left to a job.
            self.end_turn(second_env, sales_id, "12,400 EUR.")
            second.commit()
        finally:
            first.close()
            second.close()

        def after_both(env):
            run = env["aia.workflow.run"].browse(self.ids["run"])
            return (
                run.step_id.kind,
                run.task_ids.filtered("key").mapped("state"),
                self.advance_jobs(env).mapped("uuid"),
            )

        kind, states, jobs = self.committed(after_both)
        self.assertEqual((kind, states), ("execute", ["done", "done"]))
        self.assertEqual(len(jobs), 1, "the later task's advance must be left to a job")

        def perform(env):
            Job.load(env, jobs[0]).perform()
            run = env["aia.workflow.run"].browse(self.ids["run"])
            memo = run.task_ids.filtered(lambda t: t.step_id.kind == "synthesize")
            return run.step_id.kind, memo.mapped("state"), memo.input

        kind, memo_states, memo_input = self.committed(perform)
        self.assertEqual((kind, memo_states), ("synthesize", ["queued"]))
        self.assertIn("3 late.", memo_input)
        self.assertIn("12,400 EUR.", memo_input)

    def test_tasks_ending_one_after_the_other_move_the_run_on_in_the_turn(self):
        """The usual case: the last task's turn moves the run on in its own transaction."""
        stock_id, sales_id = self.ids["tasks"]
        self.committed(lambda env: self.end_turn(env, stock_id, "3 late."))
        self.committed(lambda env: self.end_turn(env, sales_id, "12,400 EUR."))

        def state(env):
            run = env["aia.workflow.run"].browse(self.ids["run"])
            return run.step_id.kind, len(self.advance_jobs(env))

        self.assertEqual(self.committed(state), ("synthesize", 0))
