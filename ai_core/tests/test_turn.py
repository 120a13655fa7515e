from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .. import turn
from ..ai_engine import ServerError
from ..ai_engine.testing import ScriptedModel, chunked, failure, reply, tool_calls, unwrap_tool_result
from ..turn import recorder as turn_recorder
from .common import AiaCase, perform_jobs


class _StopPressed:
    """A model streaming a scripted answer, during which ``press`` runs once the ``after``-th
    piece was produced (the stop button, pressed while the model writes)."""

    provider = "scripted"

    def __init__(self, model, after, press):
        self.model, self.after, self.press = model, after, press
        self.streamed = 0

    def stream(self, request):
        for item in self.model.stream(request):
            if self.streamed == self.after:
                self.press()
            self.streamed += 1
            yield item


@tagged("post_install", "-at_install")
class TestTurn(AiaCase):
    def test_chat_runs_in_a_job_and_saves_the_transcript_and_usage(self):
        model = self.script(
            tool_calls(("orm_count", {"model": "res.partner", "domain": [["name", "=", "Zyxwv Interiors"]]})),
            reply("There is one Zyxwv Interiors."),
        )
        self.env["res.partner"].create({"name": "Zyxwv Interiors"})
        session = self.new_session()
        with trap_jobs() as trap:
            session.post_message("How many Zyxwv Interiors contacts?")
            # Nothing ran inside the request: the provider was not called yet.
            self.assertEqual(model.requests, [])
            trap.assert_jobs_count(1, only=session._aia_job_run_turn)
            perform_jobs(self, trap)
        model.assert_complete()
        session.invalidate_recordset()
        self.assertEqual(session.state, "done")
        self.assertEqual(session.message_ids_aia.mapped("role"), ["user", "assistant", "tool", "assistant"])
        self.assertEqual(session.last_text, "There is one Zyxwv Interiors.")
        [execution] = session.execution_ids
        self.assertEqual((execution.tool_name, execution.status), ("orm.count", "ok"))
        self.assertIn('"count": 1', execution.content)
        provider_calls = session.usage_event_ids.filtered(lambda e: e.kind == "provider_call")
        self.assertEqual(len(provider_calls), 2)
        self.assertEqual(session.total_tokens, sum(provider_calls.mapped("total_tokens")))
        # The system prompt carries the agent's rules.
        self.assertIn("Never invent records.", model.requests[0].system)

    def test_the_agents_sessions_button_lists_its_sessions_of_every_user(self):
        mine, theirs = self.new_session(), self.new_session(user=self.operator)
        other_agent = self.agent.copy({"code": "other"})
        elsewhere = self.new_session(agent=other_agent)
        opened = self.agent.action_open_sessions()
        listed = self.env["aia.session"].search(opened["domain"])
        self.assertEqual((opened["res_model"], set(listed.ids)), ("aia.session", {mine.id, theirs.id}))
        self.assertNotIn(elsewhere, listed)
        self.assertFalse(opened["context"])

    def test_tools_run_as_the_sessions_user(self):
        self.env["ir.config_parameter"].set_param("aia.test.secret", "s3cr3t")
        _model, session = self.run_turn(
            "Read the system parameters",
            ("orm_search_read", {"model": "ir.config_parameter", "fields": ["key", "value"]}),
            "I may not read that.",
        )
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "denied")
        self.assertNotIn("s3cr3t", execution.content)

    def test_orm_tools_refuse_models_the_agent_does_not_allow(self):
        _model, session = self.run_turn("Count users", ("orm_count", {"model": "res.users"}), "Not allowed.")
        self.assertEqual(session.execution_ids.status, "error")
        self.assertIn("not allowed for this agent", session.execution_ids.content)

    def test_shadow_mode_writes_nothing(self):
        self.script(
            tool_calls(("orm_create", {"model": "res.partner", "values": {"name": "Ghost Ltd"}})), reply("ok")
        )
        session = self.new_session()
        self.chat(session, "Create Ghost Ltd")
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Ghost Ltd")]))
        execution = session.execution_ids
        self.assertEqual(execution.status, "shadowed")
        self.assertIn("Ghost Ltd", execution.preview)

    def test_approval_flow_creates_the_record_once_approved(self):
        self.agent.write({"shadow_mode": False, "approval_mode": "write", "approver_id": self.operator.id})
        model = self.script(
            tool_calls(("orm_create", {"model": "res.partner", "values": {"name": "Approved Ltd"}}))
        )
        session = self.new_session()
        self.chat(session, "Create Approved Ltd")
        self.assertEqual(session.state, "waiting_approval")
        approval = session.approval_ids
        self.assertEqual((approval.state, approval.approver_id), ("pending", self.operator))
        self.assertEqual(approval.with_user(self.operator).activity_ids.user_id, self.operator)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Approved Ltd")]))

        model.then(reply("Created Approved Ltd."))
        with trap_jobs() as trap:
            approval.with_user(self.operator).action_approve()
            trap.assert_jobs_count(1, only=session._aia_job_resume)
            perform_jobs(self, trap)
        session.invalidate_recordset()
        partner = self.env["res.partner"].search([("name", "=", "Approved Ltd")])
        self.assertEqual(len(partner), 1)
        # The write ran as the session's user, not as the approver.
        self.assertEqual(partner.create_uid, self.user)
        self.assertEqual(session.state, "done")
        self.assertEqual(session.execution_ids.status, "ok")

    def test_a_session_stopped_at_an_approval_goes_on_with_valid_transcripts(self):
        """Stopped while its write waited for approval, the session takes a new message: the
        waiting call is closed as not executed, and every later request sends that result right
        after its call (saved after the new message, it would break the thread for providers)."""
        self.agent.write({"shadow_mode": False, "approval_mode": "write"})
        model = self.script(
            tool_calls(("orm_create", {"model": "res.partner", "values": {"name": "Stopped Ltd"}}))
        )
        session = self.new_session()
        self.chat(session, "Create Stopped Ltd")
        session.with_user(self.user).action_cancel()
        model.then(reply("Then something else."), reply("Still here."))
        self.chat(session, "Forget it")
        self.chat(session, "Are you there?")
        self.assertEqual((session.state, session.last_text), ("done", "Still here."))
        sent = model.requests[-1].messages
        self.assertEqual(
            [message.role for message in sent], ["user", "assistant", "tool", "user", "assistant", "user"]
        )
        self.assertEqual(sent[2].tool_results[0].tool_use_id, sent[1].tool_uses[0].id)
        self.assertIn("Not executed", unwrap_tool_result(sent[2].tool_results[0].content))
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Stopped Ltd")]))

    def test_rejection_tells_the_model_and_writes_nothing(self):
        self.agent.write({"shadow_mode": False, "approval_mode": "write"})
        model = self.script(
            tool_calls(("orm_create", {"model": "res.partner", "values": {"name": "Nope Ltd"}}))
        )
        session = self.new_session()
        self.chat(session, "Create Nope Ltd")
        model.then(reply("Understood."))
        with trap_jobs() as trap:
            session.approval_ids.with_user(self.user).action_reject("not needed")
            perform_jobs(self, trap)
        session.invalidate_recordset()
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Nope Ltd")]))
        told = model.requests[-1].messages[-1].tool_results[0]
        self.assertTrue(told.is_error)
        self.assertIn("not needed", unwrap_tool_result(told.content))
        self.assertEqual(session.execution_ids.status, "denied")

    def test_a_provider_failure_keeps_the_users_message_and_shows_the_error(self):
        self.script(failure(ServerError("Overloaded", status=529)))
        session = self.new_session()
        self.chat(session, "Are you there?")
        self.assertEqual(session.state, "error")
        self.assertIn("Overloaded", session.error_message)
        self.assertEqual(session.message_ids_aia.mapped("body"), ["Are you there?"])
        # The session can be used again once the provider is back.
        self.script(reply("Yes."))
        self.chat(session, "And now?")
        self.assertEqual(session.state, "done")

    def test_a_missing_api_key_ends_the_turn_in_a_clear_error(self):
        self.provider.api_key = False
        self.patch(type(self.env["aia.provider"]), "_aia_api_key", lambda provider: None)
        session = self.new_session()
        self.chat(session, "hello")
        self.assertEqual(session.state, "error")
        self.assertIn("No API key", session.error_message)
        self.assertEqual(session.message_ids_aia.mapped("role"), ["user"])

    def test_kill_switch_refuses_new_messages_and_keeps_queued_ones(self):
        self.script()
        session = self.new_session()
        with trap_jobs() as trap:
            session.post_message("queued before the switch")
            self.env["ir.config_parameter"].set_param("aia.agents_enabled", "False")
            perform_jobs(self, trap)
        session.invalidate_recordset()
        self.assertEqual(session.state, "error")
        self.assertIn("temporarily unavailable", session.error_message)
        self.assertEqual(session.message_ids_aia.mapped("body"), ["queued before the switch"])
        with self.assertRaisesRegex(UserError, "temporarily unavailable"):
            session.post_message("after the switch")

    def test_a_session_busy_with_a_turn_refuses_a_second_message(self):
        session = self.new_session()
        with trap_jobs():
            session.post_message("first")
            with self.assertRaisesRegex(UserError, "still working"):
                session.post_message("second")

    def test_agent_versions_snapshot_and_restore(self):
        agent = self.agent
        first = agent.version_ids.filtered(lambda v: v.version == agent.version)
        agent.write({"system_prompt": "Changed prompt.", "shadow_mode": False})
        self.assertEqual(agent.version, 2)
        first.action_restore()
        self.assertEqual((agent.system_prompt, agent.shadow_mode), ("You help with contacts.", True))
        self.assertEqual(agent.version, 3)

    def test_public_start_method_opens_a_session_by_agent_code(self):
        self.script(reply("Hi!"))
        with trap_jobs() as trap:
            session_id = self.env["aia.session"].with_user(self.user).start("assistant", "Hello")
            perform_jobs(self, trap)
        session = self.env["aia.session"].browse(session_id)
        self.assertEqual((session.user_id, session.state, session.last_text), (self.user, "done", "Hi!"))

    def test_the_sessions_limits_bound_its_turn(self):
        # aia.session._aia_limits() is the extension point automation narrows to what is left of
        # its caps: by default the agent's fields, and what it returns is what the engine enforces.
        session = self.new_session()
        self.assertEqual(session._aia_limits(), self.agent._aia_limits())
        model = self.script(
            tool_calls(("orm_count", {"model": "res.partner"})), reply("never sent: over budget")
        )
        self.agent.max_session_tokens = 10
        self.chat(session, "Count the contacts")
        self.assertEqual(model.requests[0].max_tokens, 10)
        # The first request used 15 tokens: the tool call and the second request are refused.
        self.assertFalse(session.execution_ids)
        self.assertEqual(session.message_ids_aia.mapped("role"), ["user", "assistant", "tool", "assistant"])
        self.assertEqual(
            session.message_ids_aia.filtered(lambda m: m.role == "tool").body,
            "Not executed: The session used its budget of 10 tokens.",
        )
        self.assertEqual(len(model.requests), 1)
        self.assertEqual(model.remaining, 1)
        self.assertIn("budget of 10 tokens", session.last_text)

    def test_automation_sessions_resume_on_the_automation_channel(self):
        self.agent.write({"shadow_mode": False, "approval_mode": "write"})
        model = self.script(tool_calls(("orm_create", {"model": "res.partner", "values": {"name": "Q Ltd"}})))
        session = self.new_session(channel="automation")
        with trap_jobs() as trap:
            session.post_message("Create Q Ltd")
            self.assertEqual(trap.calls[0].properties["channel"], "root.aia.automation")
            perform_jobs(self, trap)
        model.then(reply("Created."))
        with trap_jobs() as trap:
            session.approval_ids.with_user(self.user).action_approve()
            trap.assert_jobs_count(1, only=session._aia_job_resume)
            self.assertEqual(trap.calls[0].properties["channel"], "root.aia.automation")

    # === THE TURN SERVICE === #

    def test_the_stop_button_stops_a_streaming_turn_at_its_next_flush(self):
        session = self.new_session()
        pieces = 40
        answer = " ".join(f"word{index}" for index in range(120))

        def press():
            # As the stop button does, from another transaction.
            self.env.cr.execute("UPDATE aia_session SET state = 'cancelled' WHERE id = %s", [session.id])

        model = _StopPressed(ScriptedModel([chunked(reply(answer), pieces)]), after=5, press=press)
        self.patch(type(self.env["aia.provider"]), "_aia_build_model_adapter", lambda provider: model)
        # Each text delta is flushed at once: the stop is seen at the first one after it.
        self.patch(turn_recorder, "DELTA_FLUSH_INTERVAL", 0)
        self.chat(session, "Tell me a long story")
        self.assertEqual(session.state, "cancelled")
        # The model's stream was closed long before its end; no answer, no usage was recorded.
        self.assertLess(model.streamed, 10)
        self.assertEqual(session.message_ids_aia.mapped("role"), ["user"])
        self.assertFalse(session.usage_event_ids)
        events = self.pushed_events(session)
        self.assertEqual(events[-1], {"type": "done", "stop_reason": "cancelled", "text": ""})
        self.assertNotIn("usage", [event["type"] for event in events])

    def test_a_long_streamed_answer_costs_no_query_per_text_delta(self):
        # Deltas reach the browser in batches: only a flush commits, notifies and reads whether
        # the session was stopped. With one flush for the whole answer, a turn streaming 100
        # pieces runs the queries of a turn streaming 2.
        self.patch(turn_recorder, "DELTA_FLUSH_INTERVAL", 3600)

        def queries(pieces):
            session = self.new_session()
            self.script(chunked(reply("All is well. " * 100), pieces))
            before = self.env.cr.sql_log_count
            self.chat(session, "How are things?")
            self.assertEqual(session.state, "done")
            deltas = [event for event in self.pushed_events(session) if event["type"] == "text_delta"]
            return self.env.cr.sql_log_count - before, len(deltas)

        short, _deltas = queries(2)
        long, deltas = queries(100)
        self.assertGreater(deltas, 50)
        self.assertLess(long - short, 5)

    def test_chat_and_json2_and_automation_share_the_services_refusals(self):
        session = self.new_session()
        with trap_jobs():
            turn.accept(session, "first")
        # A busy session: the chat (post_message), and the batch form of automation.
        with self.assertRaisesRegex(turn.SessionBusy, "still working"):
            session.post_message("second")
        with self.assertRaises(turn.SessionBusy):
            turn.accept_batch(session, ["second"])
        with self.assertRaises(turn.EmptyMessage):
            self.new_session().post_message("   ")
        self.env["ir.config_parameter"].set_param("aia.agents_enabled", "False")
        fresh = self.new_session()
        for accept in (fresh.post_message, lambda text: turn.accept_batch(fresh, [text])):
            with self.assertRaisesRegex(turn.AgentsDisabled, "temporarily unavailable"):
                accept("hello")
        self.assertEqual(session.message_ids_aia.mapped("body"), ["first"])
        self.assertFalse(fresh.message_ids_aia)

    def test_the_batch_form_accepts_new_sessions_at_once_and_queues_their_turns(self):
        sessions = (
            self.env["aia.session"]
            .sudo()
            .create(
                [
                    {"agent_id": self.agent.id, "user_id": self.user.id, "name": f"Batch {index}"}
                    for index in range(3)
                ]
            )
        )
        with trap_jobs() as trap:
            messages = turn.accept_batch(sessions, ["one", "two", "three"])
            trap.assert_jobs_count(3)
        self.assertEqual([call.method.__self__ for call in trap.calls], list(sessions))
        self.assertEqual([call.args for call in trap.calls], [(message.id,) for message in messages])
        self.assertEqual(sessions.mapped("state"), ["running"] * 3)
        self.assertEqual(messages.mapped("session_id"), sessions)
        self.assertEqual(messages.mapped("body"), ["one", "two", "three"])
        # Sessions are named by whoever opened them, not after the message.
        self.assertEqual(sessions.mapped("name"), ["Batch 0", "Batch 1", "Batch 2"])
        self.script(reply("Done one."), reply("Done two."), reply("Done three."))
        perform_jobs(self, trap)
        self.assertEqual(sessions.mapped("last_text"), ["Done one.", "Done two.", "Done three."])
