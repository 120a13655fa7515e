from odoo.tests import tagged

from odoo.addons.ai_core.tests.api_case import ApiCase

from .common import WorkflowCase

START = "/aia/v1/workflows/month_end/runs"


@tagged("post_install", "-at_install")
class TestWorkflowApi(WorkflowCase, ApiCase):
    """The doors an outside client has: the REST API and JSON-2, with an API key."""

    def test_rest_start_then_read_the_run(self):
        response = self.call_api(START, {"question": "How did the month close?"}, key=self.key)
        self.assertEqual(response.status_code, 202, response.text)
        data = response.json()["run"]
        run = self.env["aia.workflow.run"].browse(data["id"])
        self.assertEqual((run.user_id, run.state, data["state"]), (self.user, "running", "running"))
        self.assertEqual([task["kind"] for task in data["tasks"]], ["plan"])
        self.assertEqual(data["tasks"][0]["state"], "queued")
        # The plan task waits in queue_job's queue, as the run's user.
        job = self.env["queue.job"].search(
            [("model_name", "=", "aia.workflow.task"), ("method_name", "=", "_aia_job_run")]
        )
        self.assertEqual((len(job), job.user_id), (1, self.user))

        read = self.call_api(f"/aia/v1/workflows/runs/{run.id}", key=self.key)
        self.assertEqual((read.status_code, read.json()["run"]["id"]), (200, run.id))
        # Another user's key finds no such run (not a 403 that would tell it exists).
        self.assertEqual(self.call_api(f"/aia/v1/workflows/runs/{run.id}", key=self.key2).status_code, 404)

    def test_rest_refusals(self):
        self.assertEqual(self.call_api(START, {"question": "q"}, key="wrong").status_code, 401)
        self.assertEqual(self.call_api(START, {"question": ""}, key=self.key).status_code, 400)
        unknown = self.call_api("/aia/v1/workflows/nope/runs", {"question": "q"}, key=self.key)
        self.assertEqual((unknown.status_code, unknown.json()["error"]["code"]), (400, "bad_request"))
        self.workflow.group_ids = self.env.ref("ai_core.group_aia_manager")
        self.assertEqual(self.call_api(START, {"question": "q"}, key=self.key).status_code, 403)
        self.env["ir.config_parameter"].set_param("aia.agents_enabled", "False")
        self.assertEqual(self.call_api(START, {"question": "q"}, key=self.key).status_code, 503)
        self.assertFalse(self.env["aia.workflow.run"].search([]))

    def test_json2_start_and_forged_create(self):
        response = self.call_api(
            "/json/2/aia.workflow.run/start",
            {"workflow_code": "month_end", "question": "Close?"},
            key=self.key,
        )
        self.assertEqual(response.status_code, 200, response.text)
        run = self.env["aia.workflow.run"].browse(response.json())
        self.assertEqual((run.user_id, run.state), (self.user, "running"))
        forged = self.call_api(
            "/json/2/aia.workflow.run/create",
            {
                "vals_list": [
                    {"workflow_id": self.workflow.id, "question": "q", "state": "done", "answer": "x"}
                ]
            },
            key=self.key,
        )
        self.assertEqual(forged.status_code, 403, forged.text)
        written = self.call_api(
            "/json/2/aia.workflow.run/write", {"ids": [run.id], "vals": {"max_tokens": 10**9}}, key=self.key
        )
        self.assertEqual(written.status_code, 403, written.text)
        decided = self.call_api(
            "/json/2/aia.workflow.task/action_approve", {"ids": run.task_ids.ids}, key=self.key
        )
        self.assertNotEqual(decided.status_code, 200)
