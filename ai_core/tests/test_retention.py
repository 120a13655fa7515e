"""Operations over time: transcripts purged past the company's retention, alerts on unusual tool
activity."""

from datetime import datetime, timedelta

from psycopg2 import IntegrityError

from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from ..ai_engine import Message
from .common import OperationsCase

NOW = datetime(2026, 3, 10, 12, 0, 0)


@tagged("post_install", "-at_install")
class TestRetention(OperationsCase):
    def _session(self, user, newest, *, oldest=None, state="done"):
        """A session of ``user`` with a transcript, a tool execution and usage, dated."""
        session = self.new_session(user=user).sudo()
        session.write(
            {
                "name": "Salary of Jane Doe",
                "last_text": "Jane earns 5000",
                "summary": "They asked for Jane Doe's salary: 5000.",
                "state": state,
            }
        )
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
        self.assertFalse(purged.summary)  # it retold the transcript
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
