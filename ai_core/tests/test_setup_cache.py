from odoo.tests import tagged

from ..ai_engine.testing import reply
from .common import AiaCase


@tagged("post_install", "-at_install")
class TestSetupCache(AiaCase):
    """A turn reads its agent's configuration from a cache kept per process: every change a
    manager saves reaches the next turn, and a turn does not read the configuration again."""

    def ask(self, text="Hello?"):
        model = self.script(reply("Hi."))
        session = self.new_session()
        self.chat(session, text)
        self.assertEqual(session.state, "done", session.error_message)
        return model.requests[-1]

    def test_what_a_manager_saves_reaches_the_next_turn(self):
        first = self.ask()
        self.assertIn("You help with contacts.", first.system)
        self.assertIn("orm_search_read", [tool.name for tool in first.tools])

        self.agent.write({"system_prompt": "You answer in French.", "rules": "Say merci."})
        self.agent.tool_ids.filtered(lambda tool: tool.name == "orm.search_read").active = False
        self.llm.name = "claude-renamed"
        second = self.ask()
        self.assertIn("You answer in French.", second.system)
        self.assertIn("Say merci.", second.system)
        self.assertNotIn("orm_search_read", [tool.name for tool in second.tools])
        self.assertEqual(second.model, "claude-renamed")

    def test_a_providers_new_settings_are_used_at_once(self):
        self.assertEqual(self.provider._aia_settings().base_url, "")
        self.provider.write({"base_url": "http://127.0.0.1:9/v1", "failure_threshold": 2})
        self.assertEqual(self.provider._aia_settings().base_url, "http://127.0.0.1:9/v1")
        self.assertEqual(self.provider._aia_breaker().failure_threshold, 2)

    def test_a_turn_does_not_read_the_configuration_again(self):
        self.ask()
        before = self.env.cr.sql_log_count
        self.ask()
        warm = self.env.cr.sql_log_count - before
        self.env.registry.clear_cache()
        before = self.env.cr.sql_log_count
        self.ask()
        cold = self.env.cr.sql_log_count - before
        # Agent, model, provider, tools and allowed models: read when the cache is cold only.
        self.assertGreaterEqual(cold - warm, 5)
