from odoo import Command
from odoo.tests import HttpCase, tagged

from odoo.addons.ai_core.ai_engine.testing import reply
from odoo.addons.ai_core.tests.hoot import run_hoot_suite

from .common import WorkflowCase

# The Hoot suite of ai_workflow/static/tests/run_timeline.test.js, and how many tests it holds: the
# run must report exactly these, so a filter that matches nothing cannot pass.
HOOT_SUITE = "@ai_workflow/run_timeline"
HOOT_TESTS = 8


@tagged("post_install", "-at_install")
class TestRunTimelineUi(HttpCase):
    def test_hoot_run_timeline(self):
        """Runs the run timeline widget's Hoot suite in Chromium (mocked server, simulated bus)."""
        run_hoot_suite(self, HOOT_SUITE, HOOT_TESTS)


@tagged("post_install", "-at_install")
class TestRunTimelineTour(WorkflowCase, HttpCase):
    def test_timeline_tour_approves_through_the_real_server(self):
        """The run's form in a browser against the real server: timeline, approval, session."""
        admin = self.env.ref("base.user_admin")
        workflow = self.env["aia.workflow"].create(
            {
                "name": "Chair count",
                "code": "chair_count",
                "step_ids": [
                    Command.create(
                        {
                            "sequence": 1,
                            "name": "Count the chairs",
                            "kind": "execute",
                            "agent_id": self.stock.id,
                        }
                    ),
                    Command.create(
                        {
                            "sequence": 2,
                            "name": "Controller signs off",
                            "kind": "approval",
                            "approver_id": admin.id,
                        }
                    ),
                ],
            }
        )
        self.script(reply('12 chairs. <img src=x onerror="document.title = 1"> <b>bold</b>'))
        run = self.start("How many chairs?", user=admin, workflow=workflow)
        self.assertEqual(run.state, "waiting_approval")
        self.start_tour(
            f"/odoo/action-ai_workflow.aia_workflow_run_action/{run.id}",
            "ai_workflow_run_timeline_tour",
            login="admin",
        )
        run.invalidate_recordset()
        self.assertEqual(run.state, "done")
        approval = run.task_ids.filtered(lambda t: t.kind == "approval")
        self.assertEqual((approval.state, approval.output), ("done", f"Approved by {admin.name}"))
