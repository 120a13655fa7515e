"""The workflow routes of the REST API: start a run, read how it goes."""

from odoo import http
from odoo.http import request

from odoo.addons.ai_core.controllers.helpers import ApiError, api_route, json_body, json_response


class AiaWorkflowsApi(http.Controller):
    @api_route("/aia/v1/workflows/<string:code>/runs", "workflow_start", method="POST")
    def start(self, call, code, **kwargs):
        """Start a run of the workflow ``code`` on the body's ``question``; its steps run in jobs.
        Answers 202 with the run as its timeline shows it (poll the run's route)."""
        question = json_body().get("question")
        if not isinstance(question, str) or not question.strip():
            raise ApiError(400, "bad_request", request.env._("'question' must be a non-empty string."))
        run = request.env["aia.workflow.run"].browse(request.env["aia.workflow.run"].start(code, question))
        return json_response(call, {"request_id": call.request_id, "run": run.timeline_data()}, 202)

    @api_route("/aia/v1/workflows/runs/<int:run_id>", "workflow_run", kill_switch=False)
    def run(self, call, run_id, **kwargs):
        """A run of this key's user: its state, answer and tasks."""
        run = request.env["aia.workflow.run"].search([("id", "=", run_id)])
        if not run:
            raise ApiError(404, "not_found", request.env._("No workflow run %(id)s.", id=run_id))
        return json_response(call, {"request_id": call.request_id, "run": run.timeline_data()})
