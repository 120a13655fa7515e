"""The REST API's probes and metrics, and the session methods over JSON-2."""

from prometheus_client.parser import text_string_to_metric_families

from odoo.tests import tagged

from ..ai_engine.testing import reply, tool_calls
from .api_case import CHAT, ApiCase
from .fake_servers import FakeAnthropicServer


def samples(text, name):
    """{labels as a sorted tuple: value} of the samples called ``name`` in a Prometheus text."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


@tagged("post_install", "-at_install")
class TestApiProbes(ApiCase):
    # === PROBES === #

    def test_healthz_needs_no_key(self):
        response = self.call("/aia/v1/healthz")
        self.assertEqual((response.status_code, response.json()["status"]), (200, "ok"))

    def test_readyz_asks_the_provider_for_one_token(self):
        with FakeAnthropicServer(api_key="sk-fake") as server:
            self.provider.write({"base_url": server.base_url, "api_key": "sk-fake", "max_retries": 0})
            server.add_text("pong")
            response = self.call("/aia/v1/readyz?agent=assistant", key=self.key)
            self.assertEqual(response.status_code, 200, response.text)
            data = response.json()
            self.assertEqual(data["status"], "ok")
            [provider] = data["agents"][0]["providers"]
            self.assertEqual(
                (provider["ok"], provider["circuit"], provider["model"]), (True, "closed", "claude-test")
            )
            [probe] = server.requests
            self.assertEqual((probe.body["max_tokens"], probe.body["model"]), (1, "claude-test"))
            # Frequent probes reuse the result instead of paying for a request each.
            self.assertEqual(self.call("/aia/v1/readyz?agent=assistant", key=self.key).status_code, 200)
            self.assertEqual(len(server.requests), 1)

    def test_readyz_fails_when_the_provider_fails_or_its_circuit_is_open(self):
        self.env["aia.agent"].search([("id", "!=", self.agent.id)]).active = False
        with FakeAnthropicServer(api_key="sk-fake") as server:
            self.provider.write({"base_url": server.base_url, "api_key": "sk-fake", "max_retries": 0})
            server.add_error(500, message="Internal trouble")
            response = self.call("/aia/v1/readyz", key=self.key)
            self.assertEqual(response.status_code, 503, response.text)
            data = response.json()
            self.assertEqual(data["status"], "unavailable")
            self.assertEqual([agent["code"] for agent in data["agents"]], ["assistant"])
            self.assertEqual(data["agents"][0]["providers"][0]["error"], "provider_server_error")

            self.env["aia.provider"]._aia_reset_breakers()
            breaker = self.provider._aia_breaker()
            for _attempt in range(self.provider.failure_threshold):
                breaker.record_failure()
            response = self.call("/aia/v1/readyz?agent=assistant", key=self.key)
            self.assertEqual(response.status_code, 503)
            self.assertEqual(response.json()["agents"][0]["providers"][0]["error"], "circuit_open")
            self.assertEqual(len(server.requests), 1)

    # === METRICS === #

    def test_metrics_are_prometheus_text_for_operators(self):
        self.assertEqual(self.call("/aia/v1/metrics").status_code, 401)
        self.assertEqual(self.call("/aia/v1/metrics", key=self.key).status_code, 403)
        before = self.call("/aia/v1/metrics", key=self.operator_key)
        self.assertEqual(before.status_code, 200)
        self.assertTrue(before.headers["Content-Type"].startswith("text/plain"))
        self.script(
            tool_calls(("orm_count", {"model": "res.users"})),
            reply("Done."),
        )
        self.assertEqual(self.call(CHAT, {"message": "count users"}, key=self.key).status_code, 200)
        # A queued web turn shows in the job gauges.
        self.new_session().post_message("queued for later")
        after = self.call("/aia/v1/metrics", key=self.operator_key).text

        names = {family.name for family in text_string_to_metric_families(after)}
        for name in (
            "aia_api_requests",
            "aia_api_request_duration_seconds",
            "aia_provider_request_duration_seconds",
            "aia_provider_tokens",
            "aia_tool_calls",
            "aia_tool_failures",
            "aia_jobs",
        ):
            self.assertIn(name, names)
        chat_ok = (("code", "200"), ("endpoint", "chat"))
        self.assertEqual(
            samples(after, "aia_api_requests_total")[chat_ok],
            samples(before.text, "aia_api_requests_total").get(chat_ok, 0) + 1,
        )
        tokens = samples(after, "aia_provider_tokens_total")
        self.assertTrue(any(dict(labels)["model"] == "claude-test" for labels in tokens))
        # orm.count on res.users is refused for this agent: a failed call.
        self.assertGreaterEqual(samples(after, "aia_tool_failures_total")[(("tool", "orm.count"),)], 1)
        jobs = samples(after, "aia_jobs")
        self.assertGreaterEqual(jobs[(("channel", "root.aia"), ("state", "queued"))], 1)
        self.assertIn((("channel", "root.aia"), ("state", "running")), jobs)

    # === JSON-2 === #

    def test_json2_start_opens_an_api_session_and_queues_its_turn(self):
        response = self.call(
            "/json/2/aia.session/start",
            {"agent_code": "assistant", "message": "Hello over JSON-2"},
            key=self.key,
        )
        self.assertEqual(response.status_code, 200, response.text)
        session = self.env["aia.session"].browse(response.json())
        self.assertEqual((session.user_id, session.channel, session.state), (self.user, "api", "running"))
        self.assertEqual(session.message_ids_aia.mapped("body"), ["Hello over JSON-2"])
        job = self.env["queue.job"].search(
            [("method_name", "=", "_aia_job_run_turn")], order="id desc", limit=1
        )
        self.assertEqual(
            (job.model_name, job.records.ids, job.state), ("aia.session", session.ids, "pending")
        )
