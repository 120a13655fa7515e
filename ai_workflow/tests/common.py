import json

from odoo import Command

from odoo.addons.ai_core.ai_engine.testing import reply
from odoo.addons.ai_core.tests.common import AiaCase, perform_jobs
from odoo.addons.queue_job.tests.common import trap_jobs


def plan(*steps):
    """A planner's answer: ``steps`` are (id, agent code, task[, inputs])."""
    return reply(
        "Here is the plan:\n```json\n"
        + json.dumps(
            {
                "steps": [
                    {"id": key, "agent": agent, "task": task, "inputs": list(inputs[0]) if inputs else []}
                    for key, agent, task, *inputs in steps
                ]
            }
        )
        + "\n```"
    )


def verdict(approved, notes="", **redo):
    """A reviewer's answer; ``redo``: planned step id → feedback."""
    items = [{"step": key, "feedback": text} for key, text in redo.items()]
    return reply(json.dumps({"approved": approved, "notes": notes, "redo": items}))


class WorkflowCase(AiaCase):
    """A "Month-end review"-shaped workflow: the planner assigns tasks to Stock and Sales, which
    run at the same time, a reviewer checks them, a writer writes the answer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stock = cls.make_agent("stock", "Stock")
        cls.sales = cls.make_agent("sales", "Sales")
        cls.planner = cls.make_agent("planner", "Planner")
        cls.reviewer = cls.make_agent("reviewer", "Reviewer")
        cls.writer = cls.make_agent("writer", "Writer")
        cls.workflow = cls.env["aia.workflow"].create(
            {
                "name": "Month-end review",
                "code": "month_end",
                "step_ids": [
                    Command.create(
                        {"sequence": 1, "name": "Plan", "kind": "plan", "agent_id": cls.planner.id}
                    ),
                    Command.create(
                        {
                            "sequence": 2,
                            "name": "Execute",
                            "kind": "execute",
                            "agent_ids": [Command.set((cls.stock | cls.sales).ids)],
                        }
                    ),
                    Command.create(
                        {"sequence": 3, "name": "Review", "kind": "review", "agent_id": cls.reviewer.id}
                    ),
                    Command.create(
                        {"sequence": 4, "name": "Memo", "kind": "synthesize", "agent_id": cls.writer.id}
                    ),
                ],
            }
        )

    @classmethod
    def make_agent(cls, code, name, **values):
        return cls.env["aia.agent"].create(
            {
                "code": code,
                "name": name,
                "system_prompt": f"You are {name}.",
                "model_id": cls.llm.id,
                **values,
            }
        )

    def step(self, kind):
        return self.workflow.step_ids.filtered(lambda s: s.kind == kind)

    def start(self, question="How did the month close?", user=None, workflow=None):
        """Start a run as ``user`` (default: the test user) and run every job it leads to, as
        queue_job's runner would, until none is left; returns the run."""
        with trap_jobs() as trap:
            run_id = (
                self.env["aia.workflow.run"]
                .with_user(user or self.user)
                .start((workflow or self.workflow).code, question)
            )
            self.run_jobs(trap)
        return self.env["aia.workflow.run"].browse(run_id)

    def run_jobs(self, trap):
        while trap.enqueued_jobs:
            perform_jobs(self, trap)

    def decide(self, run, approved, user=None):
        """The approver (or ``user``) decides on ``run``'s waiting approval; jobs run after."""
        task = run.task_ids.filtered(lambda t: t.kind == "approval" and t.state == "waiting")
        with trap_jobs() as trap:
            task.with_user(user or task.approver_id).action_approve() if approved else task.with_user(
                user or task.approver_id
            ).action_reject()
            self.run_jobs(trap)
        run.invalidate_recordset()
