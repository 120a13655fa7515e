"""Probes of the REST API: liveness, readiness and Prometheus metrics."""

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from .. import metrics
from .helpers import api_route, find_agent, json_response

OPERATOR_GROUP = "ai_core.group_aia_operator"


def _agent_readiness(agent):
    try:
        models = agent._aia_models()
    except UserError as exc:
        return {
            "code": agent.code,
            "ok": False,
            "error": "configuration",
            "message": str(exc),
            "providers": [],
        }
    providers = []
    for model in models:
        provider = model.provider_id
        if provider.active:
            check = provider._aia_check_reachable(model.name)
            providers.append({"provider": provider.name, "model": model.name, **check})
    return {"code": agent.code, "ok": any(p["ok"] for p in providers), "providers": providers}


class AiaHealthApi(http.Controller):
    @api_route("/aia/v1/healthz", "healthz", authenticated=False, rate_limited=False, kill_switch=False)
    def healthz(self, call, **kwargs):
        """Liveness: the server answers and reaches its database."""
        request.env.cr.execute("SELECT 1")
        return json_response(call, {"status": "ok"})

    @api_route("/aia/v1/readyz", "readyz")
    def readyz(self, call, agent=None, **kwargs):
        """Readiness: the agent (or every active agent of the company) has a provider answering."""
        agents = (
            find_agent(call, agent)
            if agent
            else request.env["aia.agent"].search([("company_id", "in", [request.env.company.id, False])])
        )
        results = [_agent_readiness(record) for record in agents]
        ready = bool(results) and all(result["ok"] for result in results)
        data = {"request_id": call.request_id, "status": "ok" if ready else "unavailable", "agents": results}
        return json_response(call, data, 200 if ready else 503)

    @api_route("/aia/v1/metrics", "metrics", rate_limited=False, kill_switch=False, group=OPERATOR_GROUP)
    def metrics_text(self, call, **kwargs):
        """Prometheus text exposition; needs the API key of an AI Operator (or Manager)."""
        headers = [("Content-Type", metrics.CONTENT_TYPE_LATEST), ("Cache-Control", "no-store")]
        return request.make_response(metrics.render(request.env), headers=headers)
