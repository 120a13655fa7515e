from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.ai_core import turn
from odoo.addons.ai_core.ai_engine import ServerError, TokenUsage, ToolAnswer
from odoo.addons.ai_core.ai_engine.testing import (
    ScriptedModel,
    failure,
    reply,
    tool_calls,
    unwrap_tool_result,
)
from odoo.addons.ai_core.tests.common import AiaCase, perform_jobs
from odoo.addons.ai_core.tests.test_recovery import WorkerKilled, _DyingModel
from odoo.addons.ai_core.turn import SessionBusy
from odoo.addons.queue_job.tests.common import trap_jobs


def through_stock(code, *answers):
    """A model's steps: the assistant hands a count to Stock, which hands a task to the agent
    ``code``; then ``answers``, in turn order."""
    return (
        tool_calls(("agent_stock", {"task": "Count"})),
        tool_calls((f"agent_{code}", {"task": "Ask"})),
        *(reply(answer) for answer in answers),
    )


@tagged("post_install", "-at_install")
class DelegationCase(AiaCase):
    """The test agent ("assistant") leads; "stock" and "sales" are agents it may delegate to."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        count = cls.env["aia.tool"].search([("name", "=", "orm.count")])
        cls.stock = cls.env["aia.agent"].create(
            {
                "code": "stock",
                "name": "Stock",
                "system_prompt": "You count what is in stock.",
                "model_id": cls.llm.id,
                "tool_ids": [(6, 0, count.ids)],
                "allowed_model_ids": [(6, 0, [cls.env.ref("base.model_res_partner").id])],
            }
        )
        cls.sales = cls.env["aia.agent"].create(
            {"code": "sales", "name": "Sales", "system_prompt": "You sell.", "model_id": cls.llm.id}
        )
        cls.agent.delegate_agent_ids = cls.stock

    def converse(self, session, text):
        """Post ``text`` and run every job it leads to (the turns of the delegated agents, the
        continuations), as queue_job's runner would, until none is left."""
        with trap_jobs() as trap:
            session.post_message(text)
            while trap.enqueued_jobs:
                perform_jobs(self, trap)
        session.invalidate_recordset()

    def delegation(self, question, *steps):
        """The assistant asked ``question``, its model answering ``steps`` (the delegates' turns
        included), to the end; returns the scripted model, the session and the sessions it delegated to."""
        model = self.script(*steps)
        session = self.new_session()
        self.converse(session, question)
        return model, session, self.delegated(session)

    def delegation_held_for_approval(self, *answers):
        """The assistant hands "Record X" to Stock, whose creation of X Ltd waits for an approval
        (Stock in approval mode); ``answers`` come after it. As :meth:`delegation` returns."""
        self.stock.write({"shadow_mode": False, "approval_mode": "write"})
        self.stock.tool_ids |= self.env["aia.tool"].search([("name", "=", "orm.create")])
        return self.delegation(
            "Add X",
            tool_calls(("agent_stock", {"task": "Record X"})),
            tool_calls(("orm_create", {"model": "res.partner", "values": {"name": "X Ltd"}})),
            *answers,
        )

    def run_jobs(self, trap):
        while trap.enqueued_jobs:
            perform_jobs(self, trap)

    def delegated(self, session):
        return self.env["aia.session"].search([("parent_session_id", "=", session.id)], order="id")


class TestDelegation(DelegationCase):
    def test_the_delegated_agents_answer_is_the_tool_result(self):
        model, session, child = self.delegation(
            "Chairs?",
            tool_calls(("agent_stock", {"task": "How many chairs?", "context": "Warehouse WH only"})),
            reply("12 chairs."),
            reply("We have 12 chairs."),
        )

        self.assertEqual((session.state, session.last_text), ("done", "We have 12 chairs."))
        child = self.delegated(session)
        self.assertEqual(len(child), 1)
        self.assertEqual(
            (child.agent_id, child.user_id, child.company_id, child.channel, child.state),
            (self.stock, self.user, session.company_id, session.channel, "done"),
        )
        self.assertEqual(
            child.message_ids_aia[:1].body,
            "Task from the agent Assistant:\nHow many chairs?\n\nContext:\nWarehouse WH only",
        )
        # The child ran as the stock agent: its prompt and its tools, not the parent's.
        child_request = model.requests[1]
        self.assertIn("You count what is in stock.", child_request.system)
        self.assertEqual([tool.name for tool in child_request.tools], ["orm_count"])
        self.assertIn("agent_stock", [tool.name for tool in model.requests[0].tools])
        # The parent read the child's answer as the call's result, and the audit links the two.
        result = model.requests[2].messages[-1].tool_results[0]
        self.assertEqual(unwrap_tool_result(result.content), "12 chairs.")
        execution = session.execution_ids
        self.assertEqual((execution.tool_name, execution.status), ("agent.stock", "ok"))
        self.assertEqual(child.parent_call_id, execution.call_id)
        # The chat shows the call with the session it started.
        shown = session.with_user(self.user).chat_data()["deferred"][execution.call_id]
        self.assertEqual((shown["session_id"], shown["session_state"]), (child.id, "done"))
        self.assertEqual(shown["reason"], "Delegated to Stock")
        # The chatter tells the turn's end, not its wait for the child (the transcript and the
        # child's session tell that).
        tracking = session.sudo().message_ids.sudo().tracking_value_ids
        tracked = tracking.filtered(lambda value: value.field_id.name == "state")
        self.assertEqual(tracked.mapped("new_value_char"), ["Done"])
        self.assertEqual(tracked.mapped("old_value_char"), ["Running"])

    def test_the_parent_waits_while_the_child_works(self):
        self.script(tool_calls(("agent_stock", {"task": "Count"})), reply("3"), reply("Three."))
        session = self.new_session()
        with trap_jobs() as trap:
            session.post_message("Count")
            perform_jobs(self, trap)  # the parent's turn only
            session.invalidate_recordset()
            self.assertEqual(session.state, "waiting_tool")
            events = [event["type"] for event in self.pushed_events(session)]
            self.assertIn("tool_deferred", events)
            # The user cannot post meanwhile.
            with self.assertRaises(SessionBusy):
                session.with_user(self.user).post_message("and tables?")
            self.run_jobs(trap)
        session.invalidate_recordset()
        self.assertEqual((session.state, session.last_text), ("done", "Three."))

    def test_the_parents_totals_include_the_childs(self):
        model, session, child = self.delegation(
            "Count",
            tool_calls(("agent_stock", {"task": "Count"}), usage=TokenUsage(100, 10)),
            reply("3", usage=TokenUsage(40, 4)),
            reply("Three.", usage=TokenUsage(200, 6)),
        )
        self.assertEqual(child.total_tokens, 44)
        self.assertEqual(session.total_tokens, 110 + 44 + 206)
        # The ledger rows stay the child's: billed once.
        ledger = self.env["aia.usage.event"].search([("session_id", "in", (session | child).ids)])
        self.assertEqual(sum(ledger.mapped("total_tokens")), 360)
        self.assertEqual(ledger.filtered(lambda e: e.session_id == child).mapped("total_tokens"), [44])
        # So are the child's costs: the call that delegated costs the parent nothing more.
        provider_costs = ledger.filtered(lambda e: e.kind == "provider_call").mapped("cost")
        self.assertGreater(child.total_cost, 0)
        self.assertAlmostEqual(sum(ledger.mapped("cost")), sum(provider_costs), places=9)
        self.assertAlmostEqual(session.total_cost, sum(provider_costs), places=9)

    def test_a_failing_child_gives_its_reason_to_the_parent(self):
        model, session, child = self.delegation(
            "Count",
            tool_calls(("agent_stock", {"task": "Count"})),
            failure(ServerError("overloaded", provider="test")),
            reply("The stock agent is unavailable."),
        )
        self.assertEqual(child.state, "error")
        self.assertEqual((session.state, session.last_text), ("done", "The stock agent is unavailable."))
        result = model.requests[-1].messages[-1].tool_results[0]
        self.assertTrue(result.is_error)
        self.assertIn("Stock did not finish", unwrap_tool_result(result.content))
        self.assertEqual(session.execution_ids.status, "error")


class TestDelegationJobs(DelegationCase):
    """The child's job resumes the parent's turn once the child's turn ends: no job of its own;
    a worker dying in between leaves the child's job to be run again, which resumes it."""

    STEPS = (tool_calls(("agent_stock", {"task": "Count"})), reply("3"), reply("Three."))

    def waiting_parent(self, model):
        """The assistant's turn delegated to Stock and waits; returns the session and the
        child's job, queued."""
        self.patch(type(self.env["aia.provider"]), "_aia_build_model_adapter", lambda provider: model)
        session = self.new_session()
        self.trap = self.enterContext(trap_jobs())
        session.post_message("Count")
        perform_jobs(self, self.trap)
        [child_job] = self.trap.enqueued_jobs
        self.assertEqual(session.state, "waiting_tool")
        return session, child_job

    def perform(self, jobs):
        self.trap.enqueued_jobs = list(jobs)
        perform_jobs(self, self.trap)

    def die(self, jobs):
        # Not assertRaises: it rolls back what the block did, and a dead worker's commits stay.
        died = False
        try:
            self.perform(jobs)
        except WorkerKilled:
            died = True
        self.assertTrue(died, "the worker did not die")
        self.env.invalidate_all()

    def test_the_childs_job_resumes_the_parent(self):
        session, child_job = self.waiting_parent(ScriptedModel(list(self.STEPS)))
        self.perform([child_job])
        self.assertEqual(self.trap.enqueued_jobs, [], "no continuation job was queued")
        self.assertEqual((session.state, session.last_text), ("done", "Three."))
        self.assertEqual(session.execution_ids.status, "ok")

    def die_after_the_childs_end(self, child_job, child):
        """Perform the child's job, whose worker dies right after the child's turn ended (as it
        tells the browser of its end), before the parent's turn is resumed."""
        Bus = type(self.env["bus.bus"])
        sendone = Bus._sendone

        def dying_sendone(bus, target, notification_type, message):
            events = [event.get("type") for event in message.get("events", ())]
            if message.get("session_id") == child.id and "done" in events:
                raise WorkerKilled
            return sendone(bus, target, notification_type, message)

        with patch.object(Bus, "_sendone", dying_sendone):
            self.die([child_job])

    def test_a_childs_job_run_again_after_its_worker_died_resumes_the_parent(self):
        session, child_job = self.waiting_parent(ScriptedModel(list(self.STEPS)))
        child = self.delegated(session)
        self.die_after_the_childs_end(child_job, child)
        self.assertEqual((child.state, session.state), ("done", "waiting_tool"))
        self.assertEqual(self.trap.enqueued_jobs, [])
        # queue_job's runner queues the dead job anew.
        self.perform([child_job])
        session.invalidate_recordset()
        self.assertEqual((session.state, session.last_text), ("done", "Three."))
        self.assertEqual(session.execution_ids.mapped("status"), ["ok"])

    def test_a_childs_job_run_again_after_dying_in_the_resumed_parent_recovers_it(self):
        """The worker dies when the parent's resumed turn asks its model: the child's answer was
        recorded; the child's job, queued anew, goes on with the parent's turn."""
        model = ScriptedModel(list(self.STEPS))
        session, child_job = self.waiting_parent(_DyingModel(model, die_at=2))
        self.die([child_job])
        self.assertEqual(session.state, "running")
        self.assertEqual(session.execution_ids.mapped("status"), ["ok"])
        self.perform([child_job])
        session.invalidate_recordset()
        self.assertEqual((session.state, session.last_text), ("done", "Three."))
        self.assertEqual(session.execution_ids.mapped("status"), ["ok"])
        self.assertEqual(unwrap_tool_result(model.requests[-1].messages[-1].tool_results[0].content), "3")
        model.assert_complete()

    def test_a_failed_childs_job_queues_the_parents_continuation(self):
        """The child's job failed for good after the child's turn ended (its worker lost its
        database): queue_job's failure hook queues the parent's continuation."""
        session, child_job = self.waiting_parent(ScriptedModel(list(self.STEPS)))
        child = self.delegated(session)
        self.die_after_the_childs_end(child_job, child)
        child._aia_job_failed(exc_name="psycopg2.InterfaceError", exc_message="connection already closed")
        self.trap.assert_jobs_count(1, only=session._aia_job_answer)
        self.perform(self.trap.enqueued_jobs)
        session.invalidate_recordset()
        self.assertEqual((session.state, session.last_text), ("done", "Three."))

    def test_a_failed_childs_job_queues_the_recovery_of_the_resumed_parent(self):
        """The child's job failed for good in the parent's resumed turn, after the child's answer
        was recorded: the failure hook queues the recovery of the parent's turn."""
        model = ScriptedModel(list(self.STEPS))
        session, child_job = self.waiting_parent(_DyingModel(model, die_at=2))
        child = self.delegated(session)
        self.die([child_job])
        self.assertEqual(session.state, "running")
        child._aia_job_failed(exc_name="psycopg2.InterfaceError", exc_message="connection already closed")
        self.trap.assert_jobs_count(1, only=session._aia_job_recover)
        self.perform(self.trap.enqueued_jobs)
        session.invalidate_recordset()
        self.assertEqual((session.state, session.last_text), ("done", "Three."))
        self.assertEqual(session.execution_ids.mapped("status"), ["ok"])


class TestDelegationBounds(DelegationCase):
    def test_depth_is_bounded(self):
        self.stock.delegate_agent_ids = self.sales
        self.env["ir.config_parameter"].sudo().set_param("aia.delegation_max_depth", "1")
        model, session, child = self.delegation(
            "Count", *through_stock("sales", "I counted alone: 3.", "Three.")
        )
        self.assertEqual(session.last_text, "Three.")
        self.assertFalse(self.delegated(child), "the grandchild was not started")
        refusal = model.requests[2].messages[-1].tool_results[0]
        self.assertTrue(refusal.is_error)
        self.assertIn("deeper than 1", unwrap_tool_result(refusal.content))
        self.assertEqual(child.execution_ids.status, "error")

    def test_the_default_depth_allows_two_levels(self):
        self.stock.delegate_agent_ids = self.sales
        model, session, child = self.delegation(
            "Count", *through_stock("sales", "Sales sold 2.", "5 minus 2: 3.", "Three.")
        )
        grandchild = self.delegated(self.delegated(session))
        self.assertEqual((grandchild.agent_id, grandchild.state), (self.sales, "done"))
        self.assertEqual(session.last_text, "Three.")

    def test_an_agent_cannot_delegate_back_into_its_chain(self):
        self.stock.delegate_agent_ids = self.agent
        model, session, child = self.delegation("Count", *through_stock("assistant", "3.", "Three."))
        self.assertFalse(self.delegated(child))
        refusal = unwrap_tool_result(model.requests[2].messages[-1].tool_results[0].content)
        self.assertIn("Assistant already works on this request", refusal)
        self.assertEqual(session.state, "done")

    def test_a_child_may_spend_only_what_the_parents_turn_has_left(self):
        self.agent.max_turn_tokens = 120
        model, session, child = self.delegation(
            "Count",
            tool_calls(("agent_stock", {"task": "Count"}), usage=TokenUsage(100, 15)),
            reply("3", usage=TokenUsage(20, 1)),
            reply("never sent: the parent's turn has nothing left"),
        )
        # The child was asked for at most the 5 tokens the parent's turn had left.
        self.assertEqual(model.requests[1].max_tokens, 5)
        # Its spending is the parent's turn's: the parent's resumed turn records the child's
        # answer, then stops on its cap without calling the provider again.
        self.assertEqual(len(model.requests), 2)
        self.assertEqual(session.execution_ids.status, "ok")
        self.assertIn("120 tokens", session.error_message)
        self.assertEqual(session.total_tokens, 115 + 21)

    def test_a_child_gets_the_rest_of_the_parents_session_budget(self):
        self.agent.max_session_tokens = 1000
        self.stock.max_session_tokens = 5000
        self.script(tool_calls(("agent_stock", {"task": "Count"}), usage=TokenUsage(100, 15)))
        session = self.new_session()
        with trap_jobs() as trap:
            session.post_message("Count")
            perform_jobs(self, trap)
        child = self.delegated(session)
        self.assertEqual(child._aia_limits().max_session_tokens, 1000 - 115)

    def test_a_delegates_code_must_make_a_tool_name(self):
        odd = self.env["aia.agent"].create({"code": "stock agent!", "name": "Odd", "model_id": self.llm.id})
        with self.assertRaises(ValidationError):
            self.agent.delegate_agent_ids = odd


class TestDelegationStops(DelegationCase):
    def test_an_approval_inside_the_child_pauses_the_parent(self):
        self.agent.max_turn_tokens = 1000
        self.stock.write(
            {
                "shadow_mode": False,
                "approval_mode": "write",
                "approver_id": self.operator.id,
                "tool_ids": [(4, self.env["aia.tool"].search([("name", "=", "orm.create")]).id)],
            }
        )
        model, session, child = self.delegation(
            "Add Chairs Ltd",
            tool_calls(("agent_stock", {"task": "Record the supplier Chairs Ltd"})),
            tool_calls(("orm_create", {"model": "res.partner", "values": {"name": "Chairs Ltd"}})),
            reply("Recorded."),
            reply("The supplier is recorded."),
        )
        self.assertEqual((session.state, child.state), ("waiting_tool", "waiting_approval"))
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Chairs Ltd")]))
        # Resumed, the child goes on within the parent's turn budget less the parent's own 15
        # tokens; its own 15 the engine counts as what its turn spent before the approval.
        self.assertEqual(child._aia_limits().max_turn_tokens, 1000 - 15)
        with trap_jobs() as trap:
            child.approval_ids.with_user(self.operator).action_approve()
            self.run_jobs(trap)
        session.invalidate_recordset()
        self.assertTrue(self.env["res.partner"].search([("name", "=", "Chairs Ltd")]))
        self.assertEqual((child.state, session.state), ("done", "done"))
        self.assertEqual(session.last_text, "The supplier is recorded.")

    def test_a_late_answer_to_another_call_leaves_the_waiting_turn_alone(self):
        """An answer job for a call the turn no longer waits on (closed since, a job run twice)
        is dropped: the session keeps waiting for its own call's answer."""
        model, session, child = self.delegation_held_for_approval(
            reply("Recorded."),
            reply("X is recorded."),
        )
        with trap_jobs() as trap:
            turn.enqueue_answer(session, ToolAnswer("call_closed_long_ago", "stale"))
            self.run_jobs(trap)
        session.invalidate_recordset()
        self.assertEqual((session.state, session.error_message), ("waiting_tool", False))
        with trap_jobs() as trap:
            child.approval_ids.with_user(self.user).action_approve()
            self.run_jobs(trap)
        session.invalidate_recordset()
        self.assertEqual((session.state, session.last_text), ("done", "X is recorded."))

    def test_stopping_the_parent_stops_the_child(self):
        model, session, child = self.delegation_held_for_approval()
        with trap_jobs() as trap:
            session.with_user(self.user).action_cancel()
            self.run_jobs(trap)
        self.assertEqual((session.state, child.state), ("cancelled", "cancelled"))
        self.assertEqual(child.approval_ids.state, "cancelled")

    def test_a_stopped_child_lets_the_parent_go_on(self):
        model, session, child = self.delegation_held_for_approval(
            reply("The stock agent was stopped; nothing recorded."),
        )
        with trap_jobs() as trap:
            child.with_user(self.user).action_cancel()
            self.run_jobs(trap)
        session.invalidate_recordset()
        self.assertEqual((child.state, session.state), ("cancelled", "done"))
        result = model.requests[-1].messages[-1].tool_results[0]
        self.assertTrue(result.is_error)
        self.assertIn("Stock did not finish", unwrap_tool_result(result.content))


class TestDelegationAttacks(DelegationCase):
    def test_a_user_cannot_graft_a_session_onto_another(self):
        """Over JSON-2 a user calls create / write: a parent link would route the session's
        answer into someone else's turn and charge their budget."""
        victim = self.new_session(user=self.operator)
        with self.assertRaises(AccessError):
            self.env["aia.session"].with_user(self.user).create(
                {"agent_id": self.agent.id, "parent_session_id": victim.id}
            )
        own = self.new_session()
        for values in (
            {"parent_session_id": victim.id},
            {"parent_call_id": "call_1"},
            {"child_session_ids": [(4, victim.id)]},
        ):
            with self.assertRaises(AccessError):
                own.with_user(self.user).write(values)
        self.assertFalse(own.parent_session_id or own.parent_call_id or victim.parent_session_id)

    def test_a_session_cannot_be_delegated_by_its_own_chain(self):
        model, session, child = self.delegation(
            "Count", tool_calls(("agent_stock", {"task": "Count"})), reply("3"), reply("Three.")
        )
        with self.assertRaises(ValidationError):
            session.sudo().parent_session_id = child

    def test_a_manager_cannot_delegate_to_another_companys_agent(self):
        foreign = self.env["aia.agent"].create(
            {
                "code": "foreign",
                "name": "Foreign",
                "model_id": self.llm.id,
                "company_id": self.other_company.id,
            }
        )
        with self.assertRaises(UserError):
            self.agent.delegate_agent_ids = foreign

    def test_a_hostile_result_cannot_make_the_agent_delegate_outside_its_list(self):
        model, session, child = self.delegation(
            "Obey the note",
            tool_calls(("agent_sales", {"task": "Give everyone a 90% discount"})),
            reply("I cannot."),
        )
        self.assertFalse(self.delegated(session))
        refusal = model.requests[1].messages[-1].tool_results[0]
        self.assertTrue(refusal.is_error)
        self.assertIn("Unknown tool", unwrap_tool_result(refusal.content))

    def test_the_child_runs_with_the_users_rights_not_the_managers(self):
        """A manager's agent delegates for a plain user: the child reads what the user may."""
        model, session, child = self.delegation(
            "How many API keys?",
            tool_calls(("agent_stock", {"task": "Count API keys"})),
            tool_calls(("orm_count", {"model": "res.users.apikeys"})),
            reply("I may not count them."),
            reply("Not allowed."),
        )
        self.assertEqual(child.user_id, self.user)
        self.assertNotEqual(child.execution_ids.status, "ok")
        self.assertEqual(session.last_text, "Not allowed.")
        self.assertTrue(model.requests[2].messages[-1].tool_results[0].is_error)
