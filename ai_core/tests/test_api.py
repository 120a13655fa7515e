"""The REST API: authentication and its throttle, CORS, chat, executions."""

import logging
from unittest.mock import patch

from odoo import http
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import config

from odoo.addons.queue_job.tests.common import trap_jobs

from .. import turn
from ..ai_engine import ServerError
from ..ai_engine.testing import reply
from ..controllers.helpers import AUTH_FAILURES
from .api_case import CHAT, EXECUTIONS, LOGGER, STREAM, ApiCase


class _LostTransaction:
    """A provider call during which the request's transaction is lost (a worker killed, a
    connection dropped) before the provider fails: only what was committed before survives."""

    provider = "flaky"

    def stream(self, model_request):
        yield from ()  # a generator, as adapters are
        http.request.env.cr.rollback()
        raise ServerError("Overloaded", status=529)


@tagged("post_install", "-at_install")
class TestApi(ApiCase):
    # === AUTHENTICATION === #

    def test_api_keys_are_required_and_accepted_in_both_headers(self):
        self.assertEqual(
            self.env["res.users.apikeys"]._check_credentials(scope="rpc", key=self.key), self.user.id
        )
        response = self.call(EXECUTIONS)
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["error"]["code"], "unauthorized")
        self.assertIn("Bearer", response.headers["WWW-Authenticate"])
        self.assertEqual(self.call(EXECUTIONS, key="0" * 40).status_code, 401)
        self.assertEqual(self.call(EXECUTIONS, key=self.key).status_code, 200)
        self.assertEqual(self.call(EXECUTIONS, key=self.key, header="X-API-Key").status_code, 200)
        # A refused chat leaves nothing behind.
        self.assertEqual(self.call(CHAT, {"message": "hi"}, key="0" * 40).status_code, 401)
        self.assertFalse(self.sessions_of(self.user))

    def test_failed_authentications_are_throttled_per_client_address(self):
        self.env["ir.config_parameter"].set_param("aia.api_auth_failures_per_minute", "3")
        # Successful calls do not count.
        for _attempt in range(4):
            self.assertEqual(self.call(EXECUTIONS, key=self.key).status_code, 200)
        for attempt in range(3):
            self.assertEqual(self.call(EXECUTIONS, key=f"guess-{attempt}").status_code, 401)
        response = self.call(EXECUTIONS, key="guess-3")
        self.assertEqual(response.status_code, 429, response.text)
        self.assertEqual(response.json()["error"]["code"], "auth_throttled")
        self.assertTrue(1 <= int(response.headers["Retry-After"]) <= 60)
        # The right key waits too: a throttled client cannot tell a good guess.
        response = self.call(CHAT, {"message": "hi"}, key=self.key)
        self.assertEqual(response.status_code, 429)
        self.assertEqual(response.json()["error"]["code"], "auth_throttled")
        self.assertFalse(self.sessions_of(self.user))
        # Without proxy_mode a client's own X-Forwarded-For is no other address.
        forwarded = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Host": "erp.example.com"}
        self.assertEqual(self.call(EXECUTIONS, key=self.key, headers=forwarded).status_code, 429)
        # Every failure counts, whichever header carried the key.
        AUTH_FAILURES.reset()
        self.env["ir.config_parameter"].set_param("aia.api_auth_failures_per_minute", "1")
        self.assertEqual(self.call(EXECUTIONS, key="guess-4", header="X-API-Key").status_code, 401)
        self.assertEqual(self.call(EXECUTIONS, key=self.key, header="X-API-Key").status_code, 429)
        # 0 switches the throttle off.
        self.env["ir.config_parameter"].set_param("aia.api_auth_failures_per_minute", "0")
        self.assertEqual(self.call(EXECUTIONS, key=self.key).status_code, 200)

    def test_behind_a_proxy_failed_authentications_are_throttled_per_forwarded_address(self):
        self.env["ir.config_parameter"].set_param("aia.api_auth_failures_per_minute", "2")
        client = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Host": "erp.example.com"}
        other = {"X-Forwarded-For": "203.0.113.8", "X-Forwarded-Host": "erp.example.com"}
        with patch.dict(config.options, {"proxy_mode": True}):
            for attempt in range(2):
                self.assertEqual(
                    self.call(EXECUTIONS, key=f"guess-{attempt}", headers=client).status_code, 401
                )
            self.assertEqual(self.call(EXECUTIONS, key="guess-2", headers=client).status_code, 429)
            self.assertEqual(self.call(EXECUTIONS, key=self.key, headers=client).status_code, 429)
            # The proxy's other clients are not locked out.
            self.assertEqual(self.call(EXECUTIONS, key=self.key, headers=other).status_code, 200)

    # === CORS === #

    def test_cors_preflight_of_an_allowed_origin_needs_no_key(self):
        self.env["ir.config_parameter"].set_param(
            "aia.api_cors_origins", "https://app.example.com, https://other.example.com/"
        )
        preflight = {
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        }
        for path in (CHAT, STREAM, EXECUTIONS, "/aia/v1/readyz"):
            with self.subTest(path=path):
                response = self.call(path, headers=preflight, method="OPTIONS")
                self.assertEqual(response.status_code, 204, response.text)
                headers = response.headers
                self.assertEqual(headers["Access-Control-Allow-Origin"], "https://app.example.com")
                self.assertNotIn("Access-Control-Allow-Credentials", headers)
                self.assertIn("POST", headers["Access-Control-Allow-Methods"])
                allowed = {
                    name.strip().lower() for name in headers["Access-Control-Allow-Headers"].split(",")
                }
                self.assertLessEqual({"authorization", "x-api-key", "content-type"}, allowed)
                self.assertGreater(int(headers["Access-Control-Max-Age"]), 0)
                self.assertIn("Origin", headers["Vary"])
        # Each listed origin gets its own name back.
        response = self.call(
            CHAT, headers={**preflight, "Origin": "https://other.example.com"}, method="OPTIONS"
        )
        self.assertEqual(response.headers["Access-Control-Allow-Origin"], "https://other.example.com")
        # A preflight creates nothing and is not a failed authentication.
        self.assertFalse(self.sessions_of(self.user))
        self.assertEqual(AUTH_FAILURES.wait((self.env.cr.dbname, "127.0.0.1"), 1), 0)

    def test_cors_answers_carry_the_allowed_origin_only(self):
        self.env["ir.config_parameter"].set_param("aia.api_cors_origins", "https://app.example.com")
        self.script(reply("Hello."))
        allowed = {"Origin": "https://app.example.com"}
        response = self.call(EXECUTIONS, key=self.key, headers=allowed)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Access-Control-Allow-Origin"], "https://app.example.com")
        self.assertIn("Origin", response.headers["Vary"])
        self.assertIn("Retry-After", response.headers["Access-Control-Expose-Headers"])
        # Errors too, so that the app can read them; and the stream.
        response = self.call(EXECUTIONS, headers=allowed)
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.headers["Access-Control-Allow-Origin"], "https://app.example.com")
        response = self.call(STREAM, {"message": "Hi"}, key=self.key, headers=allowed)
        self.assertEqual(response.headers["Access-Control-Allow-Origin"], "https://app.example.com")

        # Another origin, a look-alike, "null" or a wildcard entry get no CORS header at all,
        # and their preflight is refused.
        self.env["ir.config_parameter"].set_param("aia.api_cors_origins", "https://app.example.com, *, null")
        for origin in (
            "https://evil.example.com",
            "https://app.example.com.evil.com",
            "http://app.example.com",
            "null",
        ):
            with self.subTest(origin=origin):
                response = self.call(EXECUTIONS, key=self.key, headers={"Origin": origin})
                self.assertEqual(response.status_code, 200)
                self.assertFalse(
                    [name for name in response.headers if name.lower().startswith("access-control-")]
                )
                response = self.call(
                    CHAT,
                    headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
                    method="OPTIONS",
                )
                self.assertEqual(response.status_code, 403)
                self.assertEqual(response.json()["error"]["code"], "origin_not_allowed")
                self.assertFalse(
                    [name for name in response.headers if name.lower().startswith("access-control-")]
                )

    def test_cors_allows_no_origin_by_default(self):
        self.assertFalse(self.env["ir.config_parameter"].get_param("aia.api_cors_origins"))
        origin = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}
        response = self.call(CHAT, headers=origin, method="OPTIONS")
        self.assertEqual(response.status_code, 403)
        self.assertNotIn("Access-Control-Allow-Origin", response.headers)
        response = self.call(EXECUTIONS, key=self.key, headers=origin)
        self.assertNotIn("Access-Control-Allow-Origin", response.headers)

    # === CHAT === #

    def test_chat_answers_and_saves_the_session_as_the_keys_user(self):
        model = self.script(reply("Hello from the agent."))
        response = self.call(CHAT, {"message": "Hi there"}, key=self.key)
        self.assertEqual(response.status_code, 200, response.text)
        data = response.json()
        self.assertEqual(data["text"], "Hello from the agent.")
        self.assertEqual(data["state"], "done")
        self.assertIsNone(data["error"])
        self.assertEqual([event["type"] for event in data["events"]], ["usage", "done"])
        session = self.env["aia.session"].browse(data["session_id"])
        self.assertEqual((session.user_id, session.channel, session.state), (self.user, "api", "done"))
        self.assertEqual(session.message_ids_aia.mapped("role"), ["user", "assistant"])
        self.assertEqual(session.message_ids_aia[0].body, "Hi there")
        usage = session.usage_event_ids
        self.assertEqual(usage.user_id, self.user)
        self.assertEqual(data["usage"]["total_tokens"], sum(usage.mapped("total_tokens")))
        self.assertEqual(data["usage"]["total_tokens"], session.total_tokens)
        self.assertEqual(model.requests[0].messages[-1].text, "Hi there")

        # The same user continues the session; another user may not.
        model.then(reply("Still here."))
        response = self.call(CHAT, {"message": "Again", "session_id": session.id}, key=self.key)
        self.assertEqual(response.json()["session_id"], session.id)
        self.assertEqual(
            [m.text for m in model.requests[1].messages], ["Hi there", "Hello from the agent.", "Again"]
        )
        response = self.call(CHAT, {"message": "Mine now", "session_id": session.id}, key=self.key2)
        self.assertEqual(response.status_code, 404)
        session.invalidate_recordset()
        self.assertEqual(len(session.message_ids_aia), 4)

    def test_chat_validates_its_body(self):
        self.script()
        self.assertEqual(self.call(CHAT, {"message": "  "}, key=self.key).status_code, 400)
        self.assertEqual(self.call(CHAT, {"text": "hi"}, key=self.key).status_code, 400)
        response = self.call("/aia/v1/agents/nope/chat", {"message": "hi"}, key=self.key)
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.sessions_of(self.user))

    def test_a_provider_failure_keeps_the_committed_message_and_errors_the_session(self):
        self.provider.failure_threshold = 1
        self.patch(type(self.env["aia.provider"]), "_aia_build_model_adapter", lambda p: _LostTransaction())
        response = self.call(CHAT, {"message": "Are you there?"}, key=self.key)
        self.assertEqual(response.status_code, 503, response.text)
        # The failure opened the circuit: the client is told when to come back.
        self.assertTrue(1 <= int(response.headers["Retry-After"]) <= self.provider.cooldown)
        data = response.json()
        self.assertEqual((data["state"], data["error"]["code"]), ("error", "provider_unavailable"))
        session = self.env["aia.session"].browse(data["session_id"])
        self.assertEqual(session.state, "error")
        self.assertIn("Overloaded", session.error_message)
        self.assertEqual(session.message_ids_aia.mapped("body"), ["Are you there?"])

    def test_an_extension_refusing_the_turn_answers_403_and_keeps_nothing(self):
        model = self.script()

        def refuse(sessions):
            raise UserError(sessions.env._("Monthly budget exhausted."))

        # _aia_check_can_start is the extension point billing overrides.
        self.patch(type(self.env["aia.session"]), "_aia_check_can_start", refuse)
        response = self.call(CHAT, {"message": "hi"}, key=self.key)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(
            response.json()["error"], {"code": "refused", "message": "Monthly budget exhausted."}
        )
        self.assertFalse(self.sessions_of(self.user))
        self.assertEqual(model.requests, [])

    def test_the_api_and_the_chat_refuse_a_busy_session_alike(self):
        model = self.script()
        session = self.new_session(channel="api")
        with trap_jobs():
            session.post_message("first")
        # The chat's refusal and the API's are the turn service's one refusal.
        with self.assertRaises(turn.SessionBusy) as refused:
            session.post_message("second")
        self.env.flush_all()
        response = self.call(CHAT, {"message": "second", "session_id": session.id}, key=self.key)
        self.assertEqual(response.status_code, 409, response.text)
        self.assertEqual(
            response.json()["error"], {"code": "session_busy", "message": str(refused.exception)}
        )
        session.invalidate_recordset()
        self.assertEqual(session.message_ids_aia.mapped("body"), ["first"])
        self.assertEqual(model.requests, [])

    def test_kill_switch_answers_503(self):
        model = self.script()
        self.env["ir.config_parameter"].set_param("aia.agents_enabled", "False")
        for path in (CHAT, STREAM):
            response = self.call(path, {"message": "hi"}, key=self.key)
            self.assertEqual(response.status_code, 503)
            self.assertEqual(response.json()["error"]["code"], "agents_disabled")
            self.assertIn("temporarily unavailable", response.json()["error"]["message"])
        self.assertEqual(model.requests, [])
        self.assertFalse(self.sessions_of(self.user))

    def test_an_open_circuit_answers_503_with_retry_after(self):
        model = self.script()
        breaker = self.provider._aia_breaker()
        for _attempt in range(self.provider.failure_threshold):
            breaker.record_failure()
        response = self.call(CHAT, {"message": "hi"}, key=self.key)
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["error"]["code"], "provider_unavailable")
        self.assertTrue(1 <= int(response.headers["Retry-After"]) <= self.provider.cooldown)
        self.assertEqual(model.requests, [])

    def test_rate_limit_answers_429_with_retry_after(self):
        self.env["ir.config_parameter"].set_param("aia.api_rate_limit_per_minute", "2")
        for _attempt in range(2):
            self.assertEqual(self.call(EXECUTIONS, key=self.key).status_code, 200)
        response = self.call(EXECUTIONS, key=self.key)
        self.assertEqual(response.status_code, 429)
        self.assertEqual(response.json()["error"]["code"], "rate_limited")
        self.assertTrue(1 <= int(response.headers["Retry-After"]) <= 60)
        # Per user: another key's user has its own window.
        self.assertEqual(self.call(EXECUTIONS, key=self.key2).status_code, 200)

    def test_request_log_line_has_the_ids_and_never_the_prompt(self):
        self.script(reply("The secret plan is ready."))
        # An int: Odoo registers its own level 25 under the name "INFO".
        with self.assertLogs(LOGGER, logging.INFO) as logs:
            response = self.call(
                CHAT,
                {"message": "my confidential question"},
                key=self.key,
                headers={"X-Request-Id": "req-42"},
            )
        self.assertEqual(response.headers["X-Request-Id"], "req-42")
        [line] = [line for line in logs.output if "request_id=req-42" in line]
        session_id = response.json()["session_id"]
        for part in ("endpoint=chat", "status=200", f"user={self.user.id}", f"company={self.company.id}"):
            self.assertIn(part, line)
        self.assertIn("agent=assistant", line)
        self.assertIn(f"session={session_id}", line)
        self.assertNotIn("confidential", "\n".join(logs.output))
        self.assertNotIn("secret plan", "\n".join(logs.output))

    # === EXECUTIONS === #

    def test_executions_list_what_record_rules_allow_newest_first(self):
        mine = self.new_session()
        theirs = self.new_session(user=self.user2)
        Execution = self.env["aia.tool.execution"]
        values = {"tool_name": "orm.count", "status": "ok", "arguments": {"model": "res.partner"}}
        first = Execution.create({**values, "session_id": mine.id, "call_id": "c1"})
        second = Execution.create({**values, "session_id": mine.id, "call_id": "c2"})
        other = Execution.create({**values, "session_id": theirs.id, "call_id": "c3"})

        data = self.call(EXECUTIONS, key=self.key).json()
        self.assertEqual([row["id"] for row in data["executions"]], [second.id, first.id])
        self.assertEqual(data["total"], 2)
        self.assertEqual(data["executions"][0]["arguments"], {"model": "res.partner"})
        data = self.call(EXECUTIONS, key=self.key2).json()
        self.assertEqual([row["id"] for row in data["executions"]], [other.id])

        page = self.call(f"{EXECUTIONS}?limit=1&offset=0", key=self.key).json()
        self.assertEqual(([row["id"] for row in page["executions"]], page["next_offset"]), ([second.id], 1))
        page = self.call(f"{EXECUTIONS}?limit=1&offset=1", key=self.key).json()
        self.assertEqual(([row["id"] for row in page["executions"]], page["next_offset"]), ([first.id], None))
