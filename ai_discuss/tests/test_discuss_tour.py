import os
from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.ai_core.ai_engine.testing import reply

from .common import DiscussCase


@tagged("post_install", "-at_install")
class TestDiscussTour(DiscussCase, HttpCase):
    def test_a_discuss_conversation_with_an_agent(self):
        """The agent's form opens the direct chat; a message there gets the agent's answer."""
        model = self.script(reply("We have **42 contacts**."))
        admin = self.env.ref("base.user_admin")
        # queue_job's switch to run the job inside the request: no job runner in tests.
        with (
            patch.dict(os.environ, {"QUEUE_JOB__NO_DELAY": "1"}),
            mute_logger("odoo.addons.queue_job.utils"),
        ):
            self.start_tour(
                f"/odoo/action-ai_core.aia_agent_action/{self.agent.id}", "ai_discuss_tour", login="admin"
            )
        model.assert_complete()
        session = self.env["aia.session"].search([("user_id", "=", admin.id), ("channel", "=", "discuss")])
        self.assertEqual((session.agent_id, session.state), (self.agent, "done"))
        chat = self.env["discuss.channel"].browse(session.discuss_id)
        self.assertEqual(chat.channel_type, "chat")
        self.assertIn("42 contacts", str(self.agent_messages(chat).body))
