"""A turn job run again by queue_job after its worker died goes on with the interrupted turn; run
again after its turn ended, it does nothing. The worker's death is played in process here (a
model call that never returns to the job); ``test_durability`` kills a real server."""

from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .. import turn
from ..ai_engine import Message, ToolAnswer, ToolUseBlock
from ..ai_engine.testing import ScriptedModel, reply, tool_calls, unwrap_tool_result
from .common import AiaCase, perform_jobs


class WorkerKilled(BaseException):
    """The worker died: nothing the job did after this was committed (not an Exception: a
    turn records those as errors, and a dead worker records nothing)."""


class _DyingModel:
    """A scripted model whose worker dies at its ``die_at``-th request (0-based)."""

    provider = "scripted"

    def __init__(self, model, die_at):
        self.model, self.die_at = model, die_at
        self.requests = 0

    def stream(self, request):
        self.requests += 1
        if self.requests - 1 == self.die_at:
            raise WorkerKilled
        return self.model.stream(request)


CREATE = ("orm_create", {"model": "res.partner", "values": {"name": "Durable Ltd"}})


@tagged("post_install", "-at_install")
class TestRecovery(AiaCase):
    def setUp(self):
        super().setUp()
        self.agent.write({"shadow_mode": False, "approval_mode": "none"})

    def use(self, model):
        self.patch(type(self.env["aia.provider"]), "_aia_build_model_adapter", lambda provider: model)
        return model

    def perform(self, trap, jobs):
        """Perform ``jobs`` (again) as queue_job's runner does."""
        trap.enqueued_jobs = list(jobs)
        perform_jobs(self, trap)

    def die(self, trap, jobs):
        """Perform ``jobs``, whose worker dies (at the model call the test set)."""
        # Not assertRaises: Odoo's rolls back what the block did, and a dead worker's commits stay.
        died = False
        try:
            self.perform(trap, jobs)
        except WorkerKilled:
            died = True
        self.assertTrue(died, "the worker did not die")
        self.env.invalidate_all()

    def partners(self):
        return self.env["res.partner"].search([("name", "=", "Durable Ltd")])

    def test_a_turn_job_run_again_after_its_worker_died_goes_on_without_repeating_the_write(self):
        model = ScriptedModel([tool_calls(CREATE), reply("Durable Ltd is created.")])
        self.use(_DyingModel(model, die_at=1))
        session = self.new_session()
        with trap_jobs() as trap:
            session.post_message("Create Durable Ltd")
            jobs = list(trap.enqueued_jobs)
            # The write ran and its result was committed; the worker died asking the model again.
            self.die(trap, jobs)
            self.assertEqual(len(self.partners()), 1)
            self.assertEqual(session.state, "running")
            self.assertEqual(session.message_ids_aia.mapped("role"), ["user", "assistant", "tool"])
            # queue_job queues the dead job anew.
            self.perform(trap, jobs)
        session.invalidate_recordset()
        self.assertEqual(len(self.partners()), 1)
        self.assertEqual((session.state, session.last_text), ("done", "Durable Ltd is created."))
        self.assertEqual(session.message_ids_aia.mapped("role"), ["user", "assistant", "tool", "assistant"])
        self.assertEqual(len(session.execution_ids), 1)
        # The model read the write's saved result.
        told = model.requests[-1].messages[-1].tool_results[0]
        self.assertIn('"id"', unwrap_tool_result(told.content))
        model.assert_complete()

    def test_a_write_and_its_result_commit_together(self):
        """A worker dying after the write and its result message, before the write's execution
        row: none of them was committed, and the job run again writes once."""
        model = self.script(tool_calls(CREATE), reply("Created."))
        Execution = type(self.env["aia.tool.execution"])
        create = Execution.create
        deaths = []

        def dying_create(records, vals_list):
            if not deaths:
                deaths.append(True)
                raise WorkerKilled
            return create(records, vals_list)

        session = self.new_session()
        with trap_jobs() as trap:
            session.post_message("Create Durable Ltd")
            jobs = list(trap.enqueued_jobs)
            with patch.object(Execution, "create", dying_create):
                self.die(trap, jobs)
            self.assertFalse(self.partners())
            self.assertEqual(session.message_ids_aia.mapped("role"), ["user", "assistant"])
            self.perform(trap, jobs)
        session.invalidate_recordset()
        self.assertEqual(len(self.partners()), 1)
        self.assertEqual((session.state, len(session.execution_ids)), ("done", 1))
        model.assert_complete()

    def test_a_call_the_ledger_says_ran_is_not_run_again(self):
        """The idempotency key of a call is its id in the session: a job recovering a turn whose
        transcript lacks the result of a call the ledger has does not run it again."""
        session = self.new_session()
        call = ToolUseBlock("call_ran_1", "orm_create", CREATE[1])
        messages = [Message.user("Create Durable Ltd"), Message("assistant", (call,))]
        [question, _answer] = self.env["aia.message"].create(
            [{"session_id": session.id, "role": m.role, "content": m.to_dict()} for m in messages]
        )
        self.env["aia.tool.execution"].create(
            {
                "session_id": session.id,
                "tool_name": "orm.create",
                "call_id": call.id,
                "content": '{"id": 4242}',
                "status": "ok",
            }
        )
        session.sudo().state = "running"
        model = self.script(reply("Durable Ltd is number 4242."))
        with trap_jobs() as trap:
            # The job of the question, run again.
            session.with_delay()._aia_job_run_turn(question.id)
            perform_jobs(self, trap)
        session.invalidate_recordset()
        self.assertFalse(self.partners())
        self.assertEqual((session.state, session.last_text), ("done", "Durable Ltd is number 4242."))
        self.assertEqual(
            unwrap_tool_result(model.requests[0].messages[-1].tool_results[0].content), '{"id": 4242}'
        )
        self.assertEqual(len(session.execution_ids), 1)

    def test_a_turn_job_run_again_after_its_turn_ended_does_nothing(self):
        model = self.script(tool_calls(CREATE), reply("Created."))
        session = self.new_session()
        with trap_jobs() as trap:
            session.post_message("Create Durable Ltd")
            jobs = list(trap.enqueued_jobs)
            self.perform(trap, jobs)
            session.invalidate_recordset()
            self.assertEqual(session.state, "done")
            # Run again (nothing is scripted: a model call would fail the test).
            self.perform(trap, jobs)
        session.invalidate_recordset()
        self.assertEqual(session.state, "done")
        self.assertEqual(len(model.requests), 2)
        self.assertEqual(len(self.partners()), 1)
        self.assertEqual(len(session.message_ids_aia), 4)

    def test_a_resume_job_run_again_after_its_worker_died_goes_on_without_repeating_the_write(self):
        self.agent.approval_mode = "write"
        model = ScriptedModel([tool_calls(CREATE), reply("Created once.")])
        self.use(_DyingModel(model, die_at=1))
        session = self.new_session()
        self.chat(session, "Create Durable Ltd")
        self.assertEqual(session.state, "waiting_approval")
        with trap_jobs() as trap:
            session.approval_ids.with_user(self.user).action_approve()
            jobs = list(trap.enqueued_jobs)
            self.die(trap, jobs)
            self.assertEqual((len(self.partners()), session.state), (1, "running"))
            self.perform(trap, jobs)
            session.invalidate_recordset()
            self.assertEqual((session.state, session.last_text), ("done", "Created once."))
            # And run once more after the turn ended: nothing.
            self.perform(trap, jobs)
        self.assertEqual(len(self.partners()), 1)
        self.assertEqual(session.execution_ids.mapped("status"), ["ok"])
        model.assert_complete()

    def waiting_for(self, call):
        """A session whose turn waits for the deferred call ``call`` (a ToolUseBlock)."""
        session = self.new_session()
        messages = [Message.user("How many contacts?"), Message("assistant", (call,))]
        self.env["aia.message"].create(
            [{"session_id": session.id, "role": m.role, "content": m.to_dict()} for m in messages]
        )
        session.sudo().state = "waiting_tool"
        return session

    def test_an_answer_job_run_again_after_its_worker_died_goes_on_with_its_answer(self):
        call = ToolUseBlock("call_deferred_1", "orm_count", {"model": "res.partner"})
        session = self.waiting_for(call)
        model = ScriptedModel([reply("There are 12.")])
        self.use(_DyingModel(model, die_at=0))
        with trap_jobs() as trap:
            turn.enqueue_answer(session, ToolAnswer(call.id, "12 contacts"))
            jobs = list(trap.enqueued_jobs)
            self.die(trap, jobs)
            # Running since its answer was recorded: not the turn that deferred the call ending.
            self.assertEqual(session.state, "running")
            self.perform(trap, jobs)
        session.invalidate_recordset()
        self.assertEqual((session.state, session.last_text), ("done", "There are 12."))
        self.assertEqual(session.execution_ids.mapped("call_id"), [call.id])
        self.assertEqual(
            unwrap_tool_result(model.requests[-1].messages[-1].tool_results[0].content), "12 contacts"
        )

    def test_another_job_of_the_session_is_alive_while_its_worker_holds_its_lock(self):
        """What keeps a job run again (a second answer to a call, the delegated work answering
        twice) from recovering a turn that a live worker runs. Read on fresh cursors: a job's
        worker sees what the others committed, this test's transaction does not."""
        session_id = self.env["aia.session"].search([], order="id desc", limit=1).id + 1000
        job_id = self.started_job(session_id)
        holder = self.registry.cursor()
        self.addCleanup(holder.close)
        # The live worker holds its job's lock row for as long as it runs.
        holder.execute("SELECT 1 FROM queue_job_lock WHERE queue_job_id = %s FOR NO KEY UPDATE", [job_id])

        def alive(own_uuid=None):
            with self.registry.cursor() as cr:
                env = self.env(cr=cr, context={"job_uuid": own_uuid})
                return turn.job_alive(env["aia.session"].browse(session_id))

        self.assertTrue(alive())
        self.assertFalse(alive(own_uuid=self.job_uuid))  # a job is not another one to itself
        holder.rollback()  # the worker died
        self.assertFalse(alive())

    def started_job(self, session_id):
        """A started queue job of the session ``session_id``, committed as the runner sees it;
        its id."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            job = env["aia.session"].browse(session_id).with_delay()._aia_job_answer("call_x", "x", "ok", "0")
            self.job_uuid = job.uuid
            cr.execute("UPDATE queue_job SET state = 'started' WHERE uuid = %s RETURNING id", [job.uuid])
            [job_id] = cr.fetchone()
            # Committed when the block ends, as each block on a cursor of its own here.
            cr.execute(
                "INSERT INTO queue_job_lock (id, queue_job_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                [job_id, job_id],
            )
        self.addCleanup(self.drop_job, job_id)
        return job_id

    def drop_job(self, job_id):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM queue_job_lock WHERE queue_job_id = %s", [job_id])
            cr.execute("DELETE FROM queue_job WHERE id = %s", [job_id])
