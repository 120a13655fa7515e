import os
from unittest.mock import patch

from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import mute_logger

from ..ai_engine.testing import reply, tool_calls
from .common import AiaCase
from .hoot import run_hoot_suite

# The Hoot suite of ai_core/static/tests/chat_action.test.js, and how many tests it holds: the run
# must report exactly these, so a filter that matches nothing cannot pass.
HOOT_SUITE = "@ai_core/chat_action"
HOOT_TESTS = 10


@tagged("post_install", "-at_install")
class TestChatBootstrap(AiaCase):
    def test_bootstrap_lists_the_agents_i_may_use_and_only_my_sessions(self):
        self.env["aia.agent"].create(
            {
                "code": "other",
                "name": "Company B agent",
                "model_id": self.llm.id,
                "company_id": self.other_company.id,
            }
        )
        mine = self.new_session(user=self.user)
        self.new_session(user=self.operator)
        data = self.env["aia.session"].with_user(self.user).chat_bootstrap()
        self.assertTrue(data["enabled"])
        # Agents shipped by other installed modules are shared too; company B's is not listed.
        codes = [agent["code"] for agent in data["agents"]]
        self.assertIn("assistant", codes)
        self.assertNotIn("other", codes)
        self.assertEqual([session["id"] for session in data["sessions"]], [mine.id])
        self.assertEqual(data["sessions"][0]["agent_name"], "Assistant")
        self.assertEqual(data["sessions"][0]["state"], "draft")
        # Operators see every session in the back office, but the chat lists their own.
        operator_data = self.env["aia.session"].with_user(self.operator).chat_bootstrap()
        self.assertNotIn(mine.id, [session["id"] for session in operator_data["sessions"]])

    def test_bootstrap_reports_the_kill_switch(self):
        self.env["ir.config_parameter"].set_param("aia.agents_enabled", "False")
        self.assertFalse(self.env["aia.session"].with_user(self.user).chat_bootstrap()["enabled"])


@tagged("post_install", "-at_install")
class TestChatJobs(TransactionCase):
    def test_turn_jobs_may_commit_their_progress(self):
        # A turn commits each step it persists; queue_job's runner refuses any commit of a job
        # function without allow_commit, and the turn would never end.
        functions = self.env["queue.job.function"].search(
            [
                ("model_id.model", "=", "aia.session"),
                ("method", "in", ["_aia_job_run_turn", "_aia_job_resume"]),
            ]
        )
        self.assertEqual(len(functions), 2)
        self.assertTrue(all(functions.mapped("allow_commit")))


@tagged("post_install", "-at_install")
class TestChatUi(HttpCase):
    def test_hoot_chat_action(self):
        """Runs the chat client action's Hoot suite in Chromium (mocked server, simulated bus)."""
        run_hoot_suite(self, HOOT_SUITE, HOOT_TESTS)


@tagged("post_install", "-at_install")
class TestChatTour(AiaCase, HttpCase):
    def test_chat_tour_runs_a_turn_through_the_real_server(self):
        """The chat client action against the real server: start, bus events, saved transcript."""
        self.script(
            tool_calls(("orm_create", {"model": "res.partner", "values": {"name": "Tour Ltd"}})),
            reply("Tour Ltd would have been created."),
        )
        admin = self.env.ref("base.user_admin")
        # queue_job's switch to run the job inside the request: no job runner in tests.
        with (
            patch.dict(os.environ, {"QUEUE_JOB__NO_DELAY": "1"}),
            mute_logger("odoo.addons.queue_job.utils"),
        ):
            self.start_tour("/odoo/ai-chat", "ai_core_chat_tour", login="admin")
        session = self.env["aia.session"].search([("user_id", "=", admin.id)], limit=1)
        self.assertEqual((session.agent_id, session.state), (self.agent, "done"))
        self.assertEqual(session.execution_ids.mapped("status"), ["shadowed"])
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Tour Ltd")]))
