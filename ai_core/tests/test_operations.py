import logging
from datetime import datetime, timedelta
from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo.exceptions import UserError
from odoo.modules import neutralize
from odoo.tests import freeze_time, tagged
from odoo.tools import config, mute_logger

from .. import secret_box
from ..ai_engine import Message, ModelRequest
from ..logging_filter import REDACTED
from .common import AiaCase
from .fake_servers import FakeAnthropicServer

KEY = "a-long-random-server-key-for-tests"
API_KEY = "sk-ant-api03-operations-test-key-0001"
HEADER_SECRET = "hdr-secret-value-0002"
NOW = datetime(2026, 3, 10, 12, 0, 0)


class _Records(logging.Handler):
    """Collects what reaches a logger's handlers (after the logger's filters)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def text(self):
        return "\n".join(logging.Formatter("%(message)s").format(record) for record in self.records)


class OperationsCase(AiaCase):
    def server_key(self, value):
        """Give the server configuration an ``aia_secret_key`` (an empty string: none)."""
        self.enterContext(patch.dict(config._runtime_options, {secret_box.CONFIG_KEY: value}))

    def raw(self, table, column, record_id):
        self.env.flush_all()
        self.env.cr.execute(f"SELECT {column}::text FROM {table} WHERE id = %s", [record_id])
        return self.env.cr.fetchone()[0]

    def capture(self, logger_name):
        """Records of ``logger_name``, kept out of the server's log."""
        handler = _Records()
        logger = logging.getLogger(logger_name)
        logger.addHandler(handler)
        self.addCleanup(logger.removeHandler, handler)
        self.addCleanup(setattr, logger, "propagate", logger.propagate)
        logger.propagate = False
        return handler

    def set_dates(self, records, when):
        self.env.flush_all()
        self.env.cr.execute(
            f"UPDATE {records._table} SET create_date = %s WHERE id IN %s",
            [when, tuple(records.ids)],
        )
        records.invalidate_recordset(["create_date"])


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
class TestRetention(OperationsCase):
    def _session(self, user, newest, *, oldest=None, state="done"):
        """A session of ``user`` with a transcript, a tool execution and usage, dated."""
        session = self.new_session(user=user).sudo()
        session.write({"name": "Salary of Jane Doe", "last_text": "Jane earns 5000", "state": state})
        messages = self.env["aia.message"].create(
            [
                {
                    "session_id": session.id,
                    "role": "user",
                    "content": Message.user("Jane's salary?").to_dict(),
                },
                {"session_id": session.id, "role": "user", "content": Message.user("And John's?").to_dict()},
            ]
        )
        self.set_dates(messages[0], oldest or newest)
        self.set_dates(messages[1], newest)
        self.env["aia.tool.execution"].create(
            {
                "session_id": session.id,
                "tool_name": "orm.search_read",
                "call_id": "call_1",
                "arguments": {"name": "Jane Doe"},
                "output": {"salary": 5000},
                "content": "Jane Doe: 5000",
                "status": "ok",
            }
        )
        self.env["aia.usage.event"].create(
            {
                "kind": "tool_call",
                "session_id": session.id,
                "company_id": session.company_id.id,
                "tool_name": "orm.search_read",
            }
        )
        return session

    def _purge(self, at=NOW):
        # The cron runs as the scheduler runs it, in its own cursor on the test's transaction.
        with freeze_time(at), self.enter_registry_test_mode():
            self.env.ref("ai_core.ir_cron_aia_purge_transcripts").method_direct_trigger()

    def test_transcripts_idle_past_the_companys_retention_are_purged_and_usage_is_kept(self):
        self.company.aia_retention_days = 30
        cutoff = NOW - timedelta(days=30)
        purged = self._session(self.user, cutoff - timedelta(seconds=1), oldest=NOW - timedelta(days=90))
        at_cutoff = self._session(self.user, cutoff)
        active = self._session(self.user, NOW - timedelta(days=1), oldest=NOW - timedelta(days=200))
        waiting = self._session(self.user, NOW - timedelta(days=60), state="waiting_approval")
        other_company = self._session(self.user_b, NOW - timedelta(days=400))
        usage_before = self.env["aia.usage.event"].search_count([])

        self._purge()

        self.assertFalse(purged.message_ids_aia)
        self.assertEqual(purged.name, "Purged transcript")
        self.assertFalse(purged.last_text)
        execution = purged.execution_ids
        self.assertEqual((execution.tool_name, execution.status), ("orm.search_read", "ok"))
        self.assertFalse(execution.arguments or execution.output or execution.content)
        self.assertTrue(purged.usage_event_ids)
        self.assertEqual(self.env["aia.usage.event"].search_count([]), usage_before)
        # Newest message exactly at the cutoff: kept; sessions are purged whole, never cut.
        for kept in (at_cutoff, active, waiting, other_company):
            self.assertEqual(len(kept.message_ids_aia), 2, kept.name)
            self.assertEqual(kept.execution_ids.content, "Jane Doe: 5000")
        # Retention 0 (the default) keeps company B's transcripts forever, until it is set.
        self.other_company.aia_retention_days = 365
        self._purge()
        self.assertFalse(other_company.message_ids_aia)
        self.assertEqual(len(at_cutoff.message_ids_aia), 2)

    @mute_logger("odoo.sql_db")
    def test_retention_cannot_be_negative(self):
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            self.company.aia_retention_days = -1
            self.env.flush_all()


@tagged("post_install", "-at_install")
class TestAnomalies(OperationsCase):
    LOGGER = "odoo.addons.ai_core.models.aia_tool_execution"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("aia.anomaly_min_calls", "5")
        cls.manager_a = cls.make_user("aia_manager_a", "ai_core.group_aia_manager")
        cls.manager_b = cls.make_user("aia_manager_b", "ai_core.group_aia_manager", cls.other_company)

    def _calls(self, session, count, when):
        executions = self.env["aia.tool.execution"].create(
            [
                {"session_id": session.id, "tool_name": "orm.count", "call_id": f"c{i}", "status": "ok"}
                for i in range(count)
            ]
        )
        self.set_dates(executions, when)
        return executions

    def _run(self, at=NOW):
        with freeze_time(at), self.enter_registry_test_mode():
            self.env.ref("ai_core.ir_cron_aia_tool_call_anomalies").method_direct_trigger()

    def _alerts(self):
        return self.env["mail.activity"].search(
            [("res_model", "=", "aia.session"), ("summary", "=", "Unusual AI tool activity")]
        )

    def test_alert_when_the_last_hour_exceeds_ten_times_the_weeks_hourly_average(self):
        hour_ago = NOW - timedelta(hours=1)
        week_start = hour_ago - timedelta(hours=168)
        busy, quiet = self.new_session(), self.new_session()
        # Baseline: 167 + 1 (at the week's first instant) + 1 (the hour's last excluded instant)
        # = 169 calls, 1.006 an hour, so the threshold is 10.06; calls before the week are ignored.
        self._calls(quiet, 167, NOW - timedelta(days=3))
        self._calls(quiet, 1, week_start)
        self._calls(quiet, 1, hour_ago - timedelta(seconds=1))
        self._calls(quiet, 50, week_start - timedelta(seconds=1))
        self._calls(busy, 7, NOW - timedelta(minutes=10))
        self._calls(quiet, 3, NOW - timedelta(minutes=20))
        with self.assertNoLogs(self.LOGGER, "WARNING"):
            self._run()
        self.assertFalse(self._alerts())

        # The 11th call of the hour, at its very first instant.
        self._calls(busy, 1, hour_ago)
        with self.assertLogs(self.LOGGER, "WARNING") as logs:
            self._run()
        [line] = logs.output
        self.assertIn(f"company {self.company.id}: 11 calls in the last hour, 1.01 per hour", line)
        for personal in (self.company.name, self.user.name, self.user.login, "orm.count"):
            self.assertNotIn(personal, line)
        alerts = self._alerts()
        self.assertEqual(alerts.mapped("res_id"), [busy.id] * len(alerts), "the busiest session")
        self.assertIn(self.manager_a, alerts.user_id)
        self.assertNotIn(self.manager_b, alerts.user_id, "a manager of another company only")
        self.assertNotIn(self.user, alerts.user_id)

        # Not twice for the same hour, again once the hour has passed.
        with self.assertNoLogs(self.LOGGER, "WARNING"):
            self._run(NOW + timedelta(minutes=30))
        self.assertEqual(self._alerts(), alerts)
        self._calls(busy, 30, NOW + timedelta(minutes=50))
        with self.assertLogs(self.LOGGER, "WARNING"):
            self._run(NOW + timedelta(minutes=61))
        self.assertGreater(len(self._alerts()), len(alerts))

    def test_each_company_is_measured_against_its_own_average(self):
        session_a, session_b = self.new_session(), self.new_session(user=self.user_b)
        # A is always busy (10 an hour): 60 calls is not unusual. B is new: 4 calls is below the minimum.
        self._calls(session_a, 1680, NOW - timedelta(days=2))
        self._calls(session_a, 60, NOW - timedelta(minutes=5))
        self._calls(session_b, 4, NOW - timedelta(minutes=5))
        self._run()
        self.assertFalse(self._alerts())
        self._calls(session_b, 1, NOW - timedelta(minutes=5))
        with self.assertLogs(self.LOGGER, "WARNING"):
            self._run()
        self.assertEqual(self._alerts().user_id & (self.manager_a | self.manager_b), self.manager_b)


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
