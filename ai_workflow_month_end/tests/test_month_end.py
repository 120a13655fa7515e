from odoo.tests import tagged

from odoo.addons.ai_agents_warehouse.tests.common import WarehouseCase
from odoo.addons.ai_core.ai_engine.testing import reply, tool_calls
from odoo.addons.ai_core.tests.common import perform_jobs
from odoo.addons.ai_workflow.tests.common import plan, verdict
from odoo.addons.queue_job.tests.common import trap_jobs


@tagged("post_install", "-at_install")
class TestMonthEndReview(WarehouseCase):
    """The shipped workflow end to end, on the warehouse pack's stock (company A: a receipt from
    Acme Supplies 3 days late), the agents' tools real, their model scripted."""

    def test_month_end_review_end_to_end(self):
        workflow = self.env.ref("ai_workflow_month_end.workflow_month_end")
        self.assertEqual(workflow.step_ids.mapped("kind"), ["plan", "execute", "review", "synthesize"])
        model = self.script(
            # Finance plans: warehouse and sales work at the same time.
            plan(
                ("stock", "warehouse", "List the receipts still pending, the late ones first."),
                ("pipeline", "sales", "Give the open pipeline's value."),
            ),
            tool_calls(("warehouse_get_pending_receipts", {})),
            reply("1 receipt is late: Acme Supplies, 3 days."),
            tool_calls(("sales_get_pipeline_value", {})),
            reply("Pipeline: figures as returned."),
            # Finance reviews against the tools' results, then writes the memo.
            verdict(True, "The late receipt is in the warehouse tool's result."),
            reply("Month-end memo: one receipt from Acme Supplies is 3 days late."),
        )
        with trap_jobs() as trap:
            run_id = (
                self.env["aia.workflow.run"]
                .with_user(self.keeper)
                .start("month_end_review", "How did the month close?")
            )
            while trap.enqueued_jobs:
                perform_jobs(self, trap)
        run = self.env["aia.workflow.run"].browse(run_id)
        self.assertEqual(run.state, "done", f"{run.error_message} {run.task_ids.mapped('error_message')}")
        self.assertEqual(run.answer, "Month-end memo: one receipt from Acme Supplies is 3 days late.")
        model.assert_complete()
        tasks = run.task_ids.sorted("id")
        self.assertEqual(
            [task.agent_id.code for task in tasks], ["finance", "warehouse", "sales", "finance", "finance"]
        )
        # The warehouse tool really ran, as the run's user in company A, and found the late receipt.
        receipts = tasks[1].session_id.execution_ids
        self.assertEqual((receipts.tool_name, receipts.status), ("warehouse.get_pending_receipts", "ok"))
        self.assertIn("Acme Supplies", receipts.content)
        self.assertEqual(
            (tasks[1].session_id.user_id, tasks[1].session_id.company_id), (self.keeper, self.company_a)
        )
        # The reviewer read each result with what its tools returned.
        review = model.requests[5].messages[-1].text
        self.assertIn("Results of the tools behind it", review)
        self.assertIn("warehouse.get_pending_receipts (ok)", review)
        self.assertIn("Acme Supplies", review)
        self.assertEqual(run.total_tokens, sum(tasks.session_id.mapped("total_tokens")))
