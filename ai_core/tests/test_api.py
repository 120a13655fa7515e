import json
import logging
import threading
import time
from datetime import datetime, timedelta
from unittest.mock import patch

import requests
from prometheus_client.parser import text_string_to_metric_families

from odoo import http
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tests.common import _registry_test_lock
from odoo.tools import config

from odoo.addons.queue_job.tests.common import trap_jobs

from .. import turn
from ..ai_engine import ServerError
from ..ai_engine.testing import ScriptedModel, chunked, failure, reply, tool_calls
from ..controllers.chat import _event_stream
from ..controllers.helpers import AUTH_FAILURES, RATE_LIMITER, Call
from ..controllers.turn_slots import TurnSlot
from .common import AiaCase
from .fake_servers import FakeAnthropicServer

CHAT = "/aia/v1/agents/assistant/chat"
STREAM = "/aia/v1/agents/assistant/chat/stream"
EXECUTIONS = "/aia/v1/agents/assistant/executions"
# The API's modules log under this package (the request line: controllers.helpers).
LOGGER = "odoo.addons.ai_core.controllers"


def parse_sse(text):
    """[(event, data)] of a text/event-stream body."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def samples(text, name):
    """{labels as a sorted tuple: value} of the samples called ``name`` in a Prometheus text."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


class _LostTransaction:
    """A provider call during which the request's transaction is lost (a worker killed, a
    connection dropped) before the provider fails: only what was committed before survives."""

    provider = "flaky"

    def stream(self, model_request):
        yield from ()  # a generator, as adapters are
        http.request.env.cr.rollback()
        raise ServerError("Overloaded", status=529)


class _Gate:
    """A provider that holds each request until the test lets it go, as a slow provider does.

    In registry test mode every request's cursor wraps the test's, and requests take turns on the
    registry test lock: a held request lets go of that lock while it waits (touching no data),
    so other requests run meanwhile, as they would in other workers. Held requests must be let
    go last in, first out (:meth:`let_go`): their cursors' savepoints nest in that order.
    """

    provider = "gated"

    def __init__(self):
        self.hold = True
        self.held = []  # one event per held request, in arrival order
        self._lock = threading.Lock()

    def stream(self, model_request):
        if self.hold:
            release = threading.Event()
            with self._lock:
                self.held.append(release)
            owned = 0
            while _registry_test_lock._is_owned():
                _registry_test_lock.release()
                owned += 1
            try:
                release.wait(timeout=60)
            finally:
                for _count in range(owned):
                    _registry_test_lock.acquire()
        yield from ScriptedModel([reply("Done.")]).stream(model_request)

    def let_go(self, thread):
        """Let the last held request go and wait for ``thread``, which sent it, to end."""
        with self._lock:
            release = self.held.pop()
        release.set()
        thread.join(timeout=60)


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@tagged("post_install", "-at_install")
class TestApi(AiaCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user2 = cls.make_user("aia_user_2", "ai_core.group_aia_user")
        cls.key = cls.api_key(cls.user)
        cls.key2 = cls.api_key(cls.user2)
        cls.operator_key = cls.api_key(cls.operator)

    @classmethod
    def api_key(cls, user):
        expiration = datetime.now() + timedelta(hours=1)
        return cls.env["res.users.apikeys"].with_user(user)._generate("rpc", "aia test", expiration)

    def setUp(self):
        super().setUp()
        # The limiters live in the process: every test starts with fresh windows.
        for limiter in (RATE_LIMITER, AUTH_FAILURES):
            limiter.reset()
            self.addCleanup(limiter.reset)

    def call(self, path, body=None, key=None, header="Authorization", headers=None, method=None):
        headers = dict(headers or {})
        if key and header == "Authorization":
            headers["Authorization"] = f"Bearer {key}"
        elif key:
            headers[header] = key
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        return self.url_open(path, data=data, headers=headers, method=method or ("POST" if data else "GET"))

    def sessions_of(self, user):
        return self.env["aia.session"].search([("user_id", "=", user.id)])

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

    # === CONCURRENT TURNS === #

    def test_a_user_runs_at_most_the_cap_of_turns_in_requests_at_once(self):
        self.env["ir.config_parameter"].set_param("aia.api_max_concurrent_turns", "2")
        gate = _Gate()
        self.patch(type(self.env["aia.provider"]), "_aia_build_model_adapter", lambda provider: gate)
        answers, threads = {}, []

        def post(text, key=self.key):
            answers[text] = requests.post(
                self.base_url() + CHAT,
                json={"message": text},
                headers={"Authorization": f"Bearer {key}"},
                timeout=90,
            )

        def send(text, key=self.key):
            thread = threading.Thread(target=post, args=(text, key))
            thread.start()
            threads.append(thread)

        self.env.flush_all()
        with self.allow_requests(all_requests=True):
            try:
                # Two turns of the user wait on the provider, each in a request.
                send("first")
                self.assertTrue(wait_for(lambda: len(gate.held) == 1))
                send("second")
                self.assertTrue(wait_for(lambda: len(gate.held) == 2))
                # A third is refused at once, before its message is saved.
                send("third")
                self.assertTrue(
                    wait_for(lambda: "third" in answers or len(gate.held) == 3),
                    "the third request neither answered nor reached the provider",
                )
                self.assertIn("third", answers, "a third concurrent turn ran")
                response = answers["third"]
                self.assertEqual(response.status_code, 429, response.text)
                self.assertEqual(response.json()["error"]["code"], "too_many_turns")
                self.assertGreaterEqual(int(response.headers["Retry-After"]), 1)
                # Another user is not held back by this one's turns.
                gate.hold = False
                post("theirs", key=self.key2)
                self.assertEqual(answers["theirs"].status_code, 200, answers["theirs"].text)
                # A turn ends: its slot serves the next turn while the first still runs.
                gate.let_go(threads[1])
                self.assertEqual(answers["second"].status_code, 200, answers["second"].text)
                post("fourth")
                self.assertEqual(answers["fourth"].status_code, 200, answers["fourth"].text)
                self.assertEqual(len(gate.held), 1)
            finally:
                gate.hold = False
                for thread in reversed(threads[: len(gate.held)]):
                    gate.let_go(thread)
                for thread in threads:
                    thread.join(timeout=60)
        self.env.invalidate_all()
        self.assertEqual(answers["first"].status_code, 200, answers["first"].text)
        sessions = self.sessions_of(self.user)
        self.assertEqual(
            sorted(sessions.mapped("message_ids_aia").filtered(lambda m: m.role == "user").mapped("body")),
            ["first", "fourth", "second"],
        )
        self.assertEqual(set(sessions.mapped("state")), {"done"})

    def test_a_turn_frees_its_slot_however_it_ends(self):
        self.env["ir.config_parameter"].set_param("aia.api_max_concurrent_turns", "1")
        model = self.script()

        def assert_a_turn_runs():
            model.then(reply("Fine."))
            response = self.call(CHAT, {"message": "next"}, key=self.key)
            self.assertEqual(response.status_code, 200, response.text)

        # Requests refused before their turn.
        self.assertEqual(self.call(CHAT, {"message": " "}, key=self.key).status_code, 400)
        self.assertEqual(
            self.call("/aia/v1/agents/nope/chat", {"message": "hi"}, key=self.key).status_code, 404
        )
        assert_a_turn_runs()
        # A provider failure.
        model.then(failure(ServerError("Overloaded", status=529)))
        self.assertEqual(self.call(CHAT, {"message": "fail"}, key=self.key).status_code, 503)
        self.env["aia.provider"]._aia_reset_breakers()
        assert_a_turn_runs()
        # A stream read to its end.
        model.then(chunked(reply("Streamed."), 3))
        response = self.call(STREAM, {"message": "stream"}, key=self.key)
        self.assertEqual(parse_sse(response.text)[-1][0], "done")
        assert_a_turn_runs()
        # The turn deadline.
        self.agent.turn_deadline = 1
        slow = ScriptedModel([chunked(reply("Too slow to finish."), 4)])

        def slow_stream(model_request):
            time.sleep(1.5)
            yield from slow.stream(model_request)

        with patch.object(model, "stream", slow_stream):
            response = self.call(CHAT, {"message": "slow"}, key=self.key)
        self.assertEqual(response.json()["error"]["code"], "budget_deadline", response.text)
        self.agent.turn_deadline = 60
        assert_a_turn_runs()

    def test_a_client_leaving_the_stream_frees_its_slot(self):
        self.env["ir.config_parameter"].set_param("aia.api_max_concurrent_turns", "1")
        model = self.script(chunked(reply("A long answer, in many parts, to leave early."), 8))
        self.env.flush_all()
        with self.allow_requests(all_requests=True):
            with requests.post(
                self.base_url() + STREAM,
                json={"message": "Tell me"},
                headers={"Authorization": f"Bearer {self.key}"},
                stream=True,
                timeout=30,
            ) as response:
                self.assertEqual(response.status_code, 200)
                self.assertTrue(next(response.iter_lines()).startswith(b"event: text_delta"))
            # The client left; the turn ends on the server, then its slot is free.
            model.then(reply("Fine."))

            def next_turn_runs():
                answer = requests.post(
                    self.base_url() + CHAT,
                    json={"message": "next"},
                    headers={"Authorization": f"Bearer {self.key}"},
                    timeout=30,
                )
                return answer.status_code == 200

            self.assertTrue(wait_for(next_turn_runs, timeout=30))

    def test_a_stream_left_by_its_client_frees_its_slot_once_the_turn_ended(self):
        self.script(chunked(reply("A long answer in parts."), 4))
        session = self.new_session(channel="api")
        with trap_jobs():
            message = turn.accept(session, "Tell me")
        self.env.flush_all()
        slot = TurnSlot()
        released = []

        def release():
            session.invalidate_recordset()
            released.append(session.state)

        self.patch(slot, "release", release)
        call = Call("chat_stream", "test-slot")
        stream = _event_stream(self.registry, self.user.id, {}, session.id, message.id, call, slot=slot)
        next(stream)
        self.assertFalse(released)
        stream.close()
        session.invalidate_recordset()
        self.assertEqual(released, ["done"])

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

    # === STREAMING === #

    def test_stream_sends_the_engine_events_in_order(self):
        answer = "Hello there, my friend. " * 6
        self.script(chunked(reply(answer), 6))
        response = self.call(STREAM, {"message": "Hello"}, key=self.key)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertTrue(response.headers["Content-Type"].startswith("text/event-stream"))
        events = parse_sse(response.text)
        names = [name for name, _data in events]
        # The text streams in pieces (its last words are held until the end: redaction).
        deltas = names.count("text_delta")
        self.assertGreater(deltas, 1)
        self.assertEqual(names, ["text_delta"] * deltas + ["usage", "done"])
        self.assertEqual("".join(data["text"] for name, data in events if name == "text_delta"), answer)
        self.assertEqual(events[-1][1], {"type": "done", "stop_reason": "end_turn", "text": answer})
        session = self.env["aia.session"].browse(int(response.headers["X-Aia-Session-Id"]))
        self.assertEqual((session.user_id, session.channel, session.state), (self.user, "api", "done"))
        self.assertEqual(session.last_text, answer)

    def test_stream_sends_tool_calls_and_results_before_the_final_text(self):
        self.env["res.partner"].create({"name": "Qwerty Stream Ltd"})
        self.script(
            tool_calls(
                ("orm_count", {"model": "res.partner", "domain": [["name", "=", "Qwerty Stream Ltd"]]})
            ),
            reply("There is one."),
        )
        response = self.call(STREAM, {"message": "How many?"}, key=self.key)
        names = [name for name, _data in parse_sse(response.text)]
        self.assertEqual(names, ["usage", "tool_call", "tool_result", "text_delta", "usage", "done"])
        result = dict(parse_sse(response.text))["tool_result"]
        self.assertEqual((result["name"], result["status"]), ("orm.count", "ok"))
        session = self.env["aia.session"].browse(int(response.headers["X-Aia-Session-Id"]))
        self.assertEqual(session.execution_ids.status, "ok")

    def test_stream_reports_a_turn_that_could_not_start(self):
        self.provider.api_key = False
        self.patch(type(self.env["aia.provider"]), "_aia_api_key", lambda provider: None)
        response = self.call(STREAM, {"message": "hello"}, key=self.key)
        events = parse_sse(response.text)
        self.assertEqual([name for name, _data in events], ["error", "done"])
        self.assertIn("No API key", events[0][1]["message"])
        self.assertEqual(events[1][1]["stop_reason"], "error")

    def test_a_client_leaving_the_stream_does_not_drop_the_turn(self):
        self.script(chunked(reply("A long answer in parts."), 4))
        session = self.new_session(channel="api")
        with trap_jobs():
            message = turn.accept(session, "Tell me")
        self.env.flush_all()
        call = Call("chat_stream", "test-disconnect")
        stream = _event_stream(self.registry, self.user.id, {}, session.id, message.id, call)
        self.assertTrue(next(stream).startswith(b"event: text_delta\n"))
        stream.close()
        session.invalidate_recordset()
        self.assertEqual(session.state, "done")
        self.assertEqual(session.last_text, "A long answer in parts.")
        self.assertEqual(call.note, "client_disconnected")

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
