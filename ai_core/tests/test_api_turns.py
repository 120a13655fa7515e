"""The REST API's turns: how many run at once per user, and streaming."""

import threading
import time
from unittest.mock import patch

import requests

from odoo.tests import tagged
from odoo.tests.common import _registry_test_lock

from odoo.addons.queue_job.tests.common import trap_jobs

from .. import turn
from ..ai_engine import ServerError
from ..ai_engine.testing import ScriptedModel, chunked, failure, reply, tool_calls
from ..controllers.chat import _event_stream
from ..controllers.helpers import Call
from ..controllers.turn_slots import TurnSlot
from .api_case import CHAT, STREAM, ApiCase, parse_sse


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
class TestApiTurns(ApiCase):
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

    def accepted_turn(self):
        """An API session whose turn (a long answer, streamed in parts) was accepted and waits
        to stream; returns the session and the user's message."""
        self.script(chunked(reply("A long answer in parts."), 4))
        session = self.new_session(channel="api")
        with trap_jobs():
            message = turn.accept(session, "Tell me")
        self.env.flush_all()
        return session, message

    def test_a_stream_left_by_its_client_frees_its_slot_once_the_turn_ended(self):
        session, message = self.accepted_turn()
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
        session, message = self.accepted_turn()
        call = Call("chat_stream", "test-disconnect")
        stream = _event_stream(self.registry, self.user.id, {}, session.id, message.id, call)
        self.assertTrue(next(stream).startswith(b"event: text_delta\n"))
        stream.close()
        session.invalidate_recordset()
        self.assertEqual(session.state, "done")
        self.assertEqual(session.last_text, "A long answer in parts.")
        self.assertEqual(call.note, "client_disconnected")
