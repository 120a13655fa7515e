"""A workflow's step survives its worker being killed: a real Odoo server runs the step's job
(queue_job's runner), is killed with SIGKILL in the middle of the step's turn, after its write,
and started again; queue_job queues the dead job anew, only that step goes on from what it saved,
its write is not done again, and the run ends."""

import signal

from odoo.tests import tagged

from odoo.addons.ai_core.tests.test_durability import DurabilityCase


@tagged("post_install", "-at_install")
class TestWorkflowDurability(DurabilityCase):
    def start_run(self, env):
        """A run of a one-step workflow (the writing agent's task) started by the administrator:
        its task's job is queued. Returns the run's id."""
        agent = self.new_writing_agent(env)
        workflow = env["aia.workflow"].create(
            {
                "name": f"Durable {self.tag}",
                "code": f"durable_{self.tag}",
                "step_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Record",
                            "kind": "execute",
                            "agent_id": agent.id,
                            "instructions": "Record it.",
                        },
                    )
                ],
            }
        )
        admin = env.ref("base.user_admin")
        run_id = env["aia.workflow.run"].with_user(admin).start(workflow.code, f"Create {self.partner_name}")
        self.addCleanup(self.drop_run, run_id, workflow.id)
        return run_id

    def drop_run(self, run_id, workflow_id):
        def drop(env):
            run = env["aia.workflow.run"].browse(run_id)
            sessions = run.task_ids.session_id
            jobs = env["queue.job"].search([("model_name", "in", ("aia.workflow.task", "aia.workflow.run"))])
            self.drop_jobs(
                env, jobs.filtered(lambda job: set(job.records.ids) & set(run.task_ids.ids + [run_id]))
            )
            if sessions:
                env.cr.execute("DELETE FROM aia_usage_event WHERE session_id IN %s", [tuple(sessions.ids)])
            run.unlink()
            sessions.unlink()
            env["aia.workflow"].browse(workflow_id).unlink()
            env["res.partner"].search([("name", "=", self.partner_name)]).unlink()

        self.committed(drop)

    def run_row(self, run_id):
        [row] = self.query("SELECT state, answer FROM aia_workflow_run WHERE id = %s", run_id)
        return row

    def test_a_step_survives_its_server_being_killed_and_writes_once(self):
        self.script_write_then_answer("Recorded.")
        run_id = self.committed(self.start_run)
        first = self.start_server()
        self.wait_for("the model to be asked again after the write", lambda: self.provider.held.is_set())
        self.assertEqual(len(self.partners()), 1, self.server_log())
        self.kill_server(first, signal.SIGKILL)
        self.assertEqual(self.run_row(run_id)[0], "running")

        [(job_id,)] = self.query(
            "SELECT id FROM queue_job WHERE model_name = 'aia.workflow.task' AND state = 'started'"
        )
        self.restart_after_death(job_id)
        self.wait_for("the run to end", lambda: self.run_row(run_id)[0] != "running")
        log = self.server_log()
        self.assertEqual(self.run_row(run_id), ("done", "Recorded."), log)
        self.assertEqual(len(self.partners()), 1, log)
        executions = self.query(
            "SELECT e.status FROM aia_tool_execution e "
            "JOIN aia_workflow_task t ON t.session_id = e.session_id WHERE t.run_id = %s",
            run_id,
        )
        self.assertEqual(executions, [("ok",)], log)
        self.assertIn("Re-queued dead job", log)
