from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import tracing
from odoo.addons.ai_core.ai_engine.testing import reply
from odoo.addons.ai_core.tests.api_case import ApiCase
from odoo.addons.ai_core.tests.tracing_case import TRACE_ID, TRACEPARENT, TracingMixin, trace_hex
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import WorkflowCase, plan, verdict

START = "/aia/v1/workflows/month_end/runs"


@tagged("post_install", "-at_install")
class TestWorkflowTraces(TracingMixin, WorkflowCase, ApiCase):
    def test_a_traceparent_given_to_the_api_follows_the_run_through_its_jobs(self):
        """One trace: the client's request → the API request → each step's job → its turn → its
        provider requests; the run's sessions name that trace."""
        model = self.script(
            plan(("stock", "stock", "Count the late receipts."), ("sales", "sales", "Sum the orders.")),
            reply("3 receipts are late."),
            reply("Orders: 12,400 EUR."),
            verdict(True, "Figures match."),
            reply("Memo: 3 late receipts; 12,400 EUR."),
        )
        with trap_jobs() as trap:
            response = self.call_api(
                START,
                {"question": "How did the month close?"},
                key=self.key,
                headers={"traceparent": TRACEPARENT},
            )
            self.assertEqual(response.status_code, 202, response.text)
            self.run_jobs(trap)
        model.assert_complete()
        run = self.env["aia.workflow.run"].browse(response.json()["run"]["id"])
        self.assertEqual(run.state, "done")

        spans = self.spans.get_finished_spans()
        self.assertEqual({trace_hex(span) for span in spans}, {TRACE_ID})
        [request_span] = self.finished("POST ")
        self.assertEqual(request_span.name, "POST /aia/v1/workflows/{code}/runs")
        task_jobs = self.finished("job aia.workflow.task._aia_job_run")
        self.assertEqual(len(task_jobs), 5)  # plan, two tasks, review, memo
        # The plan's job was queued by the request; every later job by an earlier job.
        self.assertChildOf(task_jobs[0], request_span)
        jobs = {span.context.span_id for span in self.finished("job ")}
        for span in task_jobs[1:]:
            self.assertIn(span.parent.span_id, jobs)
        self.assertEqual(
            sorted(span.attributes["aia.workflow.step"] for span in task_jobs),
            ["execute", "execute", "plan", "review", "synthesize"],
        )
        turns = self.finished("invoke_agent")
        self.assertEqual(len(turns), 5)
        task_job_ids = {span.context.span_id for span in task_jobs}
        for turn in turns:
            self.assertIn(turn.parent.span_id, task_job_ids)
        self.assertEqual(len(self.finished("chat ")), 5)
        for chat in self.finished("chat "):
            self.assertEqual(chat.attributes[tracing.GEN_AI_OPERATION_NAME], "chat")
        self.assertEqual(set(run.task_ids.session_id.mapped("trace_id")), {TRACE_ID})
