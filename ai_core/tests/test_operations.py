"""Operations: secrets encrypted at rest, neutralized copies, the settings, and logs that never
carry a secret."""

import logging

from odoo.exceptions import UserError
from odoo.modules import neutralize
from odoo.tests import tagged

from .. import secret_box
from ..ai_engine import Message, ModelRequest
from ..logging_filter import REDACTED
from .common import KEY, OperationsCase
from .fake_servers import FakeAnthropicServer

API_KEY = "sk-ant-api03-operations-test-key-0001"
HEADER_SECRET = "hdr-secret-value-0002"


@tagged("post_install", "-at_install")
class TestSecrets(OperationsCase):
    def test_api_key_is_encrypted_in_its_column_and_plain_only_at_the_choke_point(self):
        self.server_key(KEY)
        provider = self.env["aia.provider"].create(
            {"name": "Encrypted", "api_key": API_KEY, "extra_headers": {"X-Org": HEADER_SECRET}}
        )
        stored = self.raw("aia_provider", "api_key", provider.id)
        self.assertTrue(stored.startswith(secret_box.PREFIX))
        self.assertNotIn(API_KEY, stored)
        self.assertNotIn(HEADER_SECRET, self.raw("aia_provider", "extra_headers", provider.id))
        # Administrators read the ciphertext (the form shows it masked); only the choke point decrypts.
        self.assertNotIn(API_KEY, provider.api_key)
        self.assertEqual(provider._aia_api_key(), API_KEY)
        adapter = provider._aia_build_model_adapter()
        self.assertEqual(adapter._client.api_key, API_KEY)
        self.assertEqual(adapter._client._custom_headers.get("X-Org"), HEADER_SECRET)

    def test_http_tool_headers_are_encrypted_value_by_value(self):
        self.server_key(KEY)
        tool = self.env["aia.tool"].create(
            {
                "name": "ops.lookup",
                "kind": "http",
                "http_url": "https://api.example.com/lookup",
                "http_allowed_domains": "api.example.com",
                "http_headers": {"X-Api-Key": HEADER_SECRET},
            }
        )
        stored = self.raw("aia_tool", "http_headers", tool.id)
        self.assertIn("X-Api-Key", stored)
        self.assertNotIn(HEADER_SECRET, stored)
        self.assertEqual(tool._aia_spec().redact_keys, ("X-Api-Key",))

    def test_the_form_writing_back_a_ciphertext_keeps_it_and_a_new_value_replaces_it(self):
        self.server_key(KEY)
        provider = self.env["aia.provider"].create({"name": "Re-entry", "api_key": API_KEY})
        stored = self.raw("aia_provider", "api_key", provider.id)
        provider.write({"api_key": provider.api_key, "name": "Renamed"})
        self.assertEqual(self.raw("aia_provider", "api_key", provider.id), stored)
        provider.api_key = "sk-ant-api03-replacement-key-0003"
        self.assertNotIn("replacement", self.raw("aia_provider", "api_key", provider.id))
        self.assertEqual(provider._aia_api_key(), "sk-ant-api03-replacement-key-0003")

    def test_without_a_server_key_secrets_are_stored_as_typed(self):
        self.server_key("")
        provider = self.env["aia.provider"].create({"name": "Plain", "api_key": API_KEY})
        self.assertEqual(self.raw("aia_provider", "api_key", provider.id), API_KEY)
        self.assertEqual(provider._aia_api_key(), API_KEY)

    def test_an_encrypted_key_without_the_right_server_key_is_a_clear_error(self):
        self.server_key(KEY)
        provider = self.env["aia.provider"].create({"name": "Moved", "api_key": API_KEY})
        self.server_key("")
        with self.assertRaisesRegex(UserError, "aia_secret_key"):
            provider._aia_api_key()
        self.server_key("another-server-key-entirely")
        with self.assertRaisesRegex(UserError, "does not match"):
            provider._aia_api_key()

    def test_key_rotation_and_encryption_of_older_secrets_from_the_settings(self):
        self.server_key("")
        plain = self.env["aia.provider"].create({"name": "Saved before the key", "api_key": API_KEY})
        self.server_key("old-server-key-0123456789")
        rotated = self.env["aia.provider"].create({"name": "Old key", "api_key": "sk-ant-api03-old-key-0004"})
        self.server_key("new-server-key-0123456789,old-server-key-0123456789")
        self.assertEqual(rotated._aia_api_key(), "sk-ant-api03-old-key-0004")
        settings = self.env["res.config.settings"].create({})
        self.assertTrue(settings.aia_secrets_encrypted)
        settings.action_aia_encrypt_secrets()
        self.assertTrue(self.raw("aia_provider", "api_key", plain.id).startswith(secret_box.PREFIX))
        # The old key can go: everything opens with the new one alone.
        self.server_key("new-server-key-0123456789")
        self.assertEqual(plain._aia_api_key(), API_KEY)
        self.assertEqual(rotated._aia_api_key(), "sk-ant-api03-old-key-0004")


@tagged("post_install", "-at_install")
class TestNeutralize(OperationsCase):
    def test_copied_databases_lose_the_secrets_and_keep_agents_off(self):
        tool = self.env["aia.tool"].create(
            {
                "name": "ops.neutralized",
                "kind": "http",
                "http_url": "https://api.example.com/x",
                "http_allowed_domains": "api.example.com",
                "http_headers": {"Authorization": "Bearer " + HEADER_SECRET},
            }
        )
        self.provider.extra_headers = {"X-Org": "org-1"}
        self.env.flush_all()
        # As odoo-bin neutralize and Odoo's own test do it.
        queries = list(neutralize.get_neutralization_queries(["ai_core"]))
        self.assertEqual(len(queries), 1)
        for query in queries:
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.env.registry.clear_cache()
        self.assertIsNone(self.raw("aia_provider", "api_key", self.provider.id))
        self.assertIsNone(self.raw("aia_provider", "extra_headers", self.provider.id))
        self.assertIsNone(self.raw("aia_tool", "http_headers", tool.id))
        self.assertFalse(self.env["aia.session"]._aia_enabled())
        with self.assertRaisesRegex(UserError, "temporarily unavailable"):
            self.new_session().post_message("Hello")


@tagged("post_install", "-at_install")
class TestSettings(OperationsCase):
    def test_the_kill_switch_and_retention_are_set_from_the_settings(self):
        settings = self.env["res.config.settings"].create({})
        self.assertTrue(settings.aia_agents_enabled)
        settings.write({"aia_agents_enabled": False, "aia_retention_days": 90})
        settings.execute()
        # Stored as "False": a deleted parameter would mean "enabled".
        self.assertEqual(self.env["ir.config_parameter"].get_param("aia.agents_enabled"), "False")
        self.assertFalse(self.env["aia.session"]._aia_enabled())
        self.assertEqual(self.env.company.aia_retention_days, 90)
        self.assertFalse(self.env["res.config.settings"].create({}).aia_agents_enabled)
        settings = self.env["res.config.settings"].create({"aia_agents_enabled": True})
        settings.execute()
        self.assertTrue(self.env["aia.session"]._aia_enabled())


@tagged("post_install", "-at_install")
class TestLogGuards(OperationsCase):
    def test_sdk_request_logs_stay_off_even_when_the_sdk_logger_is_set_to_debug(self):
        prompt = "PROMPT-7f3a: what is Jane Doe's salary?"
        # As `--log-handler=anthropic:DEBUG` would do; the request-options logger must stay quiet.
        parent = logging.getLogger("anthropic")
        self.addCleanup(parent.setLevel, parent.level)
        parent.setLevel(logging.DEBUG)
        records = self.capture("anthropic._base_client")
        transport = self.capture("httpx2")
        with FakeAnthropicServer() as server:
            server.add_text("She earns enough.")
            provider = self.env["aia.provider"].create(
                {"name": "Fake Anthropic", "base_url": server.base_url, "api_key": API_KEY}
            )
            adapter = provider._aia_build_model_adapter()
            request = ModelRequest("claude-test", "Be brief.", (Message.user(prompt),))
            list(adapter.stream(request))
            self.assertIn(prompt, str(server.last_request.body))
        for name in ("anthropic._base_client", "openai._base_client", "httpx", "httpx2"):
            self.assertFalse(logging.getLogger(name).isEnabledFor(logging.DEBUG), name)
        self.assertNotIn("PROMPT-7f3a", records.text() + transport.text())
        self.assertNotIn(API_KEY, records.text() + transport.text())

    def test_a_debug_record_with_a_key_is_not_emitted(self):
        parent = logging.getLogger("openai")
        self.addCleanup(parent.setLevel, parent.level)
        parent.setLevel(logging.DEBUG)
        records = self.capture("openai._base_client")
        logging.getLogger("openai._base_client").debug(
            "Request options: %s", {"headers": {"Authorization": "Bearer " + API_KEY}}
        )
        self.assertEqual(records.records, [])

    def test_secrets_decrypted_at_the_choke_point_are_masked_in_our_logs_and_the_sdks(self):
        self.server_key(KEY)
        provider = self.env["aia.provider"].create({"name": "Masked", "api_key": "plainish-custom-key-0005"})
        provider._aia_api_key()
        ours = self.capture("odoo.addons.ai_core.models.aia_provider")
        sdk = self.capture("anthropic._base_client")
        logger = logging.getLogger("odoo.addons.ai_core.models.aia_provider")
        logger.warning("provider answered 401 for key %s", "plainish-custom-key-0005")
        try:
            raise ValueError("rejected plainish-custom-key-0005")
        except ValueError:
            logger.warning("call failed", exc_info=True)
        logging.getLogger("anthropic._base_client").info(
            'Retrying with {"x-api-key": "%s", "Authorization": "Bearer sk-ant-api03-shape-only-0006"}',
            "some-key-never-registered",
        )
        warning, failure = (logging.Formatter().format(record) for record in ours.records)
        self.assertEqual(warning, f"provider answered 401 for key {REDACTED}")
        self.assertIn(f"ValueError: rejected {REDACTED}", failure)
        self.assertNotIn("plainish-custom-key-0005", failure)
        self.assertEqual(
            sdk.text(), f'Retrying with {{"x-api-key": "{REDACTED}", "Authorization": "Bearer {REDACTED}"}}'
        )
