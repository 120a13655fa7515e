import time

from odoo.tests import tagged

from ..ai_engine import TokenUsage
from ..ai_engine.testing import reply, tool_calls
from .common import AiaCase

COUNT = ("orm_count", {"model": "res.partner"})


class _SlowProvider:
    """A provider that takes ``seconds`` of wall-clock time before each answer: turns run on the
    system clock, so only real time can reach a turn's deadline."""

    provider = "scripted"

    def __init__(self, model, seconds):
        self.model = model
        self.seconds = seconds

    def stream(self, request):
        time.sleep(self.seconds)
        yield from self.model.stream(request)


@tagged("post_install", "-at_install")
class TestAgentLimits(AiaCase):
    """Each limit field of the agent, set as a manager would, stops a real session when reached.

    The scripted model reports the tokens each response used (``usage``); the test model costs
    3 per million input tokens and 15 per million output tokens, so 1 000 input and 200 output
    tokens cost 0.006.
    """

    def stop(self, session):
        """(error code, stop reason) of the last turn, as pushed to the session's browser."""
        events = self.pushed_events(session)
        ends = [i for i, event in enumerate(events) if event["type"] == "done"]
        start = ends[-2] + 1 if len(ends) > 1 else 0
        errors = [event["code"] for event in events[start : ends[-1]] if event["type"] == "error"]
        return (errors[-1] if errors else None), events[ends[-1]]["stop_reason"]

    def chat_past_the_budget(self, session, usage, question="Count the contacts"):
        """One more turn of ``session`` whose one model response (``usage``) asks for a tool call
        the budget no longer allows: the call is not run and the model not asked again; returns
        the scripted model."""
        model = self.script(tool_calls(COUNT, usage=usage), reply("never sent"))
        self.chat(session, question)
        self.assertEqual((len(model.requests), model.remaining), (1, 1))
        return model

    def roles(self, session):
        return session.message_ids_aia.sorted("id").mapped("role")

    def refused(self, session):
        """The saved result of the session's last tool call: what the model is told of a call the
        engine did not run."""
        return session.message_ids_aia.filtered(lambda m: m.role == "tool").sorted("id")[-1].body

    def provider_calls(self, session):
        return session.usage_event_ids.filtered(lambda e: e.kind == "provider_call").sorted("id")

    def test_max_session_tokens_shrink_each_request_and_refuse_a_spent_session(self):
        self.agent.max_session_tokens = 40
        session = self.new_session()

        model = self.script(reply("First answer.", usage=TokenUsage(20, 5)))
        self.chat(session, "Hello")
        self.assertEqual(model.requests[0].max_tokens, 40)
        self.assertEqual(
            (session.state, session.last_text, session.total_tokens), ("done", "First answer.", 25)
        )

        # 15 tokens are left: the request asks for no more, and once they are used the tool call
        # the model asked for is not run.
        model = self.chat_past_the_budget(session, TokenUsage(10, 5))
        self.assertEqual(model.requests[0].max_tokens, 15)
        self.assertFalse(session.execution_ids)
        self.assertEqual(session.total_tokens, 40)
        self.assertEqual(session.state, "done")
        self.assertEqual(session.last_text, "The session used its budget of 40 tokens.")
        self.assertEqual(session.error_message, "The session used its budget of 40 tokens.")
        self.assertEqual(self.stop(session), ("budget_session_tokens", "budget_exceeded"))
        self.assertEqual(self.roles(session), ["user", "assistant", "user", "assistant", "tool", "assistant"])
        self.assertEqual(
            session.message_ids_aia.sorted("id")[-2].body,
            "Not executed: The session used its budget of 40 tokens.",
        )

        # The session has used its tokens: the next message gets the same answer, no model call.
        model = self.script()
        self.chat(session, "And now?")
        self.assertEqual(model.requests, [])
        self.assertEqual(session.last_text, "The session used its budget of 40 tokens.")
        self.assertEqual(self.stop(session), ("budget_session_tokens", "budget_exceeded"))
        self.assertEqual(session.total_tokens, 40)
        self.assertEqual(len(self.provider_calls(session)), 2)

    def test_max_session_cost_counts_earlier_turns_and_refuses_a_spent_session(self):
        self.agent.max_session_cost = 0.01
        session = self.new_session()

        self.script(reply("First answer.", usage=TokenUsage(1000, 200)))
        self.chat(session, "Hello")
        self.assertAlmostEqual(session.total_cost, 0.006)

        # 0.004 is left: the request is sent (cost does not bound max_tokens), the tool call is not.
        model = self.chat_past_the_budget(session, TokenUsage(1000, 200))
        self.assertEqual(model.requests[0].max_tokens, 4096)
        self.assertFalse(session.execution_ids)
        self.assertAlmostEqual(session.total_cost, 0.012)
        self.assertEqual(session.last_text, "The session used its cost budget of 0.01.")
        self.assertEqual(self.refused(session), "Not executed: The session used its cost budget of 0.01.")
        self.assertEqual(self.stop(session), ("budget_session_cost", "budget_exceeded"))

        model = self.script()
        self.chat(session, "And now?")
        self.assertEqual(model.requests, [])
        self.assertEqual(session.last_text, "The session used its cost budget of 0.01.")
        self.assertEqual(self.stop(session), ("budget_session_cost", "budget_exceeded"))
        self.assertEqual(len(self.provider_calls(session)), 2)

    def test_max_turn_tokens_bound_each_turn_afresh(self):
        self.agent.max_turn_tokens = 20
        session = self.new_session()

        model = self.script(
            tool_calls(COUNT, usage=TokenUsage(10, 5)), reply("Counted.", usage=TokenUsage(3, 1))
        )
        self.chat(session, "Count the contacts")
        # What is left of the turn's tokens bounds each request.
        self.assertEqual([request.max_tokens for request in model.requests], [20, 5])
        self.assertEqual(session.execution_ids.status, "ok")
        self.assertEqual((session.state, session.last_text), ("done", "Counted."))
        self.assertEqual(session.total_tokens, 19)

        # A new turn has its own 20 tokens, whatever the session used before.
        model = self.chat_past_the_budget(session, TokenUsage(15, 5), "Count them again")
        self.assertEqual(model.requests[0].max_tokens, 20)
        self.assertEqual(len(session.execution_ids), 1, "the second turn's tool call did not run")
        self.assertEqual(session.last_text, "The turn used its budget of 20 tokens.")
        self.assertEqual(self.refused(session), "Not executed: The turn used its budget of 20 tokens.")
        self.assertEqual(self.stop(session), ("budget_turn_tokens", "budget_exceeded"))

    def test_max_turn_cost_stops_the_turn_not_the_session(self):
        self.agent.max_turn_cost = 0.005
        session = self.new_session()

        self.chat_past_the_budget(session, TokenUsage(1000, 200))
        self.assertFalse(session.execution_ids)
        self.assertEqual(session.state, "done")
        self.assertEqual(session.last_text, "The turn used its cost budget of 0.005.")
        self.assertEqual(self.stop(session), ("budget_turn_cost", "budget_exceeded"))
        self.assertEqual(self.roles(session), ["user", "assistant", "tool", "assistant"])
        self.assertEqual(self.refused(session), "Not executed: The turn used its cost budget of 0.005.")

        # The session already cost 0.006, more than one turn may: the next turn still runs.
        model = self.script(reply("Hello again."))
        self.chat(session, "Hello?")
        self.assertEqual(len(model.requests), 1)
        self.assertEqual((session.last_text, self.stop(session)), ("Hello again.", (None, "end_turn")))

    def test_max_tool_calls_runs_that_many_calls_and_stops(self):
        self.agent.max_tool_calls = 2
        model = self.script(tool_calls(COUNT, COUNT, COUNT), reply("never sent"))
        session = self.new_session()
        self.chat(session, "Count the contacts three times")
        self.assertEqual((len(model.requests), model.remaining), (1, 1))
        self.assertEqual(session.execution_ids.mapped("status"), ["ok", "ok"])
        self.assertEqual(session.last_text, "The turn reached its limit of 2 tool calls.")
        self.assertEqual(self.stop(session), ("budget_tool_calls", "budget_exceeded"))
        messages = session.message_ids_aia.sorted("id")
        self.assertEqual(messages.mapped("role"), ["user", "assistant", "tool", "tool", "tool", "assistant"])
        self.assertEqual(messages[4].body, "Not executed: The turn reached its limit of 2 tool calls.")
        tool_rows = session.usage_event_ids.filtered(lambda e: e.kind == "tool_call")
        self.assertEqual(len(tool_rows), 2)

    def test_max_iterations_bounds_the_model_calls_of_a_turn(self):
        self.agent.max_iterations = 2
        model = self.script(tool_calls(COUNT), tool_calls(COUNT), reply("never sent"))
        session = self.new_session()
        self.chat(session, "Count the contacts, twice")
        self.assertEqual((len(model.requests), model.remaining), (2, 1))
        self.assertEqual(session.execution_ids.mapped("status"), ["ok", "ok"])
        self.assertEqual(session.last_text, "The turn reached its limit of 2 model calls.")
        self.assertEqual(self.stop(session), ("budget_iterations", "budget_exceeded"))
        self.assertEqual(len(self.provider_calls(session)), 2)

    def test_max_output_tokens_is_what_each_request_asks_for_within_the_models_own(self):
        self.agent.max_output_tokens = 300
        model = self.script(reply("Short."))
        session = self.new_session()
        self.chat(session, "Hello")
        self.assertEqual(model.requests[0].max_tokens, 300)

        # The model's own maximum wins when it is lower.
        self.llm.max_output_tokens = 200
        model = self.script(reply("Shorter."))
        self.chat(session, "Hello again")
        self.assertEqual(model.requests[0].max_tokens, 200)

    def test_turn_deadline_stops_a_turn_whose_provider_is_too_slow(self):
        self.agent.turn_deadline = 30
        model = self.script(reply("On time."))
        session = self.new_session()
        self.chat(session, "Hello")
        # The provider may take what is left of the turn's time, never more.
        self.assertTrue(20 < model.requests[0].timeout <= 30, model.requests[0].timeout)
        self.assertEqual(session.last_text, "On time.")

        self.agent.turn_deadline = 1
        model = self.script(tool_calls(COUNT), reply("never sent"))
        slow = _SlowProvider(model, 1.5)
        self.patch(type(self.env["aia.provider"]), "_aia_build_model_adapter", lambda provider: slow)
        self.chat(session, "Count the contacts")
        self.assertTrue(0 < model.requests[0].timeout <= 1, model.requests[0].timeout)
        self.assertEqual((len(model.requests), model.remaining), (1, 1))
        self.assertFalse(session.execution_ids)
        self.assertEqual(session.last_text, "The turn reached its time limit of 1 seconds.")
        self.assertEqual(self.refused(session), "Not executed: The turn reached its time limit of 1 seconds.")
        self.assertEqual(self.stop(session), ("budget_deadline", "budget_exceeded"))
