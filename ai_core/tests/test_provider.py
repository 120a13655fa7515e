import os
from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .. import secret_box
from ..ai_engine import Message
from ..ai_engine.anthropic_adapter import AnthropicAdapter
from ..ai_engine.openai_adapter import OpenAIAdapter
from .common import AiaCase


@tagged("post_install", "-at_install")
class TestProvider(AiaCase):
    def test_the_choke_point_builds_the_sdk_adapter_of_the_providers_kind(self):
        self.assertIsInstance(self.provider._aia_build_model_adapter(), AnthropicAdapter)
        ollama = self.env["aia.provider"].create(
            {"name": "Ollama", "kind": "openai", "base_url": "http://127.0.0.1:11434/v1"}
        )
        self.assertIsInstance(ollama._aia_build_model_adapter(), OpenAIAdapter)

    def test_adapters_are_reused_until_the_configuration_changes(self):
        first = self.provider._aia_build_model_adapter()
        self.assertIs(self.provider._aia_build_model_adapter(), first)
        self.provider.api_key = "rotated-key"
        self.assertIsNot(self.provider._aia_build_model_adapter(), first)

    def test_keys_fall_back_to_the_environment(self):
        self.provider.api_key = False
        openrouter = self.env["aia.provider"].create(
            {"name": "OpenRouter", "kind": "openai", "base_url": "https://openrouter.ai/api/v1"}
        )
        environment = {"ANTHROPIC_API_KEY": "from-env", "OPENROUTER_API_KEY": "router-env"}
        with patch.dict(os.environ, environment):
            self.assertEqual(self.provider._aia_api_key(), "from-env")
            self.assertEqual(openrouter._aia_api_key(), "router-env")
        with patch.dict(os.environ, {}, clear=True), self.assertRaisesRegex(UserError, "No API key"):
            self.provider._aia_build_model_adapter()

    def test_each_provider_has_its_own_breaker(self):
        other = self.provider.copy({"name": "Other"})
        breaker = self.provider._aia_breaker()
        self.assertIs(self.provider._aia_breaker(), breaker)
        self.assertIsNot(other._aia_breaker(), breaker)
        self.assertEqual(breaker.failure_threshold, self.provider.failure_threshold)

    def test_history_loads_only_what_the_memory_window_can_use(self):
        # Without a running summary (with one, what it does not cover yet: see test_memory).
        self.agent.write({"memory_window": 4, "summarize_memory": False})
        session = self.new_session()
        contents = []
        for index in range(10):
            contents += [Message.user(f"q{index}"), Message.assistant(f"a{index}")]
        self.env["aia.message"].create(
            [{"session_id": session.id, "role": m.role, "content": m.to_dict()} for m in contents]
        )
        windowed = [message.text for _id, message in session._aia_transcript()]
        self.assertEqual(windowed, ["q5", "a5", "q6", "a6", "q7", "a7", "q8", "a8", "q9", "a9"])
        self.assertEqual(len(session._aia_transcript(window=False)), 20)

    def test_an_agent_without_a_model_uses_the_first_available_one(self):
        from ..ai_engine.testing import reply

        (self.env["aia.provider"].search([]) - self.provider).active = False
        agent = self.agent.copy({"code": "shipped", "model_id": False})
        self.assertEqual(agent._aia_primary_model(), self.llm)
        model = self.script(reply("ok"))
        session = self.new_session(agent=agent)
        self.chat(session, "hi")
        self.assertEqual(model.requests[0].model, "claude-test")

    def test_without_any_model_the_session_says_what_to_configure(self):
        self.script()
        agent = self.agent.copy({"code": "orphan", "model_id": False})
        self.env["aia.model"].search([]).provider_id.active = False
        session = self.new_session(agent=agent)
        self.chat(session, "hi")
        self.assertEqual(session.state, "error")
        self.assertIn("Configuration > Models", session.error_message)

    def test_extra_headers_are_checked_when_saved_not_when_every_turn_fails(self):
        # A JSON text of an object is what the user meant: read as the object.
        self.provider.extra_headers = '{"HTTP-Referer": "https://erp.example.com"}'
        self.assertEqual(
            secret_box.decrypt_mapping(self.provider.extra_headers),
            {"HTTP-Referer": "https://erp.example.com"},
        )
        for wrong in (
            '"just a string"',
            "[1, 2]",
            "{not json",
            {"X-Org": 42},
            {"X-Org": "a\r\nX-Evil: 1"},
            {"Bad Name": "x"},
        ):
            with self.subTest(wrong=wrong), self.assertRaises(ValidationError):
                self.provider.extra_headers = wrong
        tool = self.env["aia.tool"].create(
            {"name": "ops.headers", "kind": "http", "http_url": "https://api.example.com/x"}
        )
        with self.assertRaises(ValidationError):
            tool.http_headers = '"Bearer abc"'
