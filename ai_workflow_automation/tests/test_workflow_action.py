from odoo.tests import tagged

from odoo.addons.ai_automation.tests.common import AutomationCase
from odoo.addons.ai_core.ai_engine.testing import reply
from odoo.addons.ai_core.tests.common import perform_jobs
from odoo.addons.ai_workflow.tests.common import WorkflowCase, plan, verdict
from odoo.addons.queue_job.tests.common import trap_jobs


@tagged("post_install", "-at_install")
class TestRunAiWorkflowAction(WorkflowCase, AutomationCase):
    def new_workflow_action(self, **values):
        defaults = {
            "state": "ai_workflow",
            "aia_agent_id": False,
            "aia_workflow_id": self.workflow.id,
            "aia_prompt": "Review the account of {{ record.name }}",
        }
        return self.new_action(**{**defaults, **values})

    def test_one_run_per_record_linked_to_it(self):
        action = self.new_workflow_action()
        self.assertFalse(action.warning)
        partners = self.partners[:2]
        with trap_jobs() as trap:
            result = action.with_context(active_model="res.partner", active_ids=partners.ids).run()
        self.assertIn("2 workflow runs started", result["params"]["message"])
        runs = self.env["aia.workflow.run"].search([("res_model", "=", "res.partner")], order="id")
        self.assertEqual(runs.mapped("res_id"), partners.ids)
        self.assertEqual(set(runs.mapped("state")), {"running"})
        # Each run's plan task waits in the queue: nothing ran in the firing transaction.
        self.assertEqual(len(trap.enqueued_jobs), 2)
        # As the action's creator; the record's text reaches the agents as untrusted data.
        self.assertEqual(runs.user_id, self.manager)
        self.assertIn("<record_data>", runs[0].question)
        self.assertIn("Zq Auto 0", runs[0].question)

    def test_a_run_started_by_the_action_works_to_the_end(self):
        action = self.new_workflow_action()
        model = self.script(plan(("stock", "stock", "Count.")), reply("3."), verdict(True), reply("Memo."))
        with trap_jobs() as trap:
            action.with_context(active_model="res.partner", active_ids=self.partners[:1].ids).run()
            while trap.enqueued_jobs:
                perform_jobs(self, trap)
        model.assert_complete()
        run = self.env["aia.workflow.run"].search([("res_model", "=", "res.partner")])
        self.assertEqual((run.state, run.answer, run.res_id), ("done", "Memo.", self.partners[0].id))

    def test_a_broken_question_is_asked_as_written_and_said(self):
        action = self.new_workflow_action(aia_prompt="Review {{ record.nope() }}")
        self.script(plan(("stock", "stock", "Count.")), reply("3."), verdict(True), reply("Memo."))
        with trap_jobs() as trap:
            action.with_context(active_model="res.partner", active_ids=self.partners[:1].ids).run()
            while trap.enqueued_jobs:
                perform_jobs(self, trap)
        run = self.env["aia.workflow.run"].search([("res_model", "=", "res.partner")])
        self.assertEqual((run.question, run.state), ("Review {{ record.nope() }}", "done"))
        self.assertTrue(any("did not render" in message.body for message in run.message_ids))

    def test_a_workflow_the_creator_may_not_run_starts_nothing(self):
        self.workflow.group_ids = self.env["res.groups"].create({"name": "Month-end team"})
        action = self.new_workflow_action()
        with trap_jobs() as trap:
            result = action.with_context(active_model="res.partner", active_ids=self.partners[:1].ids).run()
        self.assertIn("No workflow run started", result["params"]["message"])
        self.assertFalse(trap.enqueued_jobs)
        self.assertFalse(self.env["aia.workflow.run"].search([]))

    def test_without_a_workflow_the_action_warns(self):
        action = self.new_workflow_action(aia_workflow_id=False)
        self.assertIn("Choose an active workflow", action.warning)
