import logging
from datetime import timedelta

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

# Sessions purged per commit.
PURGE_BATCH = 200
ANOMALY_FACTOR_PARAM = "aia.anomaly_factor"
ANOMALY_MIN_CALLS_PARAM = "aia.anomaly_min_calls"
DEFAULT_ANOMALY_FACTOR = 10.0
# Below this many calls in an hour nothing is unusual, whatever the average (new companies).
DEFAULT_ANOMALY_MIN_CALLS = 20
BASELINE_HOURS = 7 * 24
# A turn in progress or waiting for a decision still needs its transcript.
LIVE_STATES = ["running", "waiting_approval"]


class ResCompany(models.Model):
    _inherit = "res.company"

    aia_retention_days = fields.Integer(
        "AI transcript retention (days)",
        default=0,
        help="Transcripts of AI sessions idle for longer are purged; 0 keeps them forever. "
        "Usage records are kept.",
    )
    aia_anomaly_alert_date = fields.Datetime(
        "Last AI activity alert",
        readonly=True,
        copy=False,
        groups="base.group_system",
        help="When the last unusual AI tool activity of this company was reported.",
    )

    _aia_retention_days_positive = models.Constraint(
        "CHECK(aia_retention_days >= 0)", "The AI transcript retention cannot be negative."
    )

    # === BUSINESS METHODS === #

    def _aia_purgeable_session_ids(self, now):
        """Sessions of these companies whose newest message is older than the company's retention.

        A session is purged whole, never message by message: a history cut in the middle would
        start with tool results whose calls are gone, which providers reject.
        """
        session_ids = []
        for company in self.filtered(lambda c: c.aia_retention_days > 0):
            cutoff = now - timedelta(days=company.aia_retention_days)
            groups = (
                self.env["aia.message"]
                .sudo()
                ._read_group(
                    [("company_id", "=", company.id), ("session_id.state", "not in", LIVE_STATES)],
                    groupby=["session_id"],
                    aggregates=["create_date:max"],
                    having=[("create_date:max", "<", cutoff)],
                )
            )
            session_ids += [session.id for session, _last in groups]
        return session_ids

    def _aia_purge_sessions(self, sessions):
        """Delete the transcripts of ``sessions`` and blank what quoted them; usage stays."""
        sessions = sessions.sudo()
        sessions.message_ids_aia.unlink()
        sessions.execution_ids.write(
            {"arguments": False, "output": False, "content": False, "preview": False}
        )
        sessions.approval_ids.write({"arguments": False, "preview": False, "reason": False})
        # The name is the first words of the first message.
        sessions.write({"name": self.env._("Purged transcript"), "last_text": False, "error_message": False})

    @api.model
    def _aia_anomaly_thresholds(self):
        params = self.env["ir.config_parameter"].sudo()
        try:
            factor = float(params.get_param(ANOMALY_FACTOR_PARAM) or DEFAULT_ANOMALY_FACTOR)
            min_calls = int(params.get_param(ANOMALY_MIN_CALLS_PARAM) or DEFAULT_ANOMALY_MIN_CALLS)
        except ValueError:
            _logger.warning(
                "Invalid %s or %s: using the defaults", ANOMALY_FACTOR_PARAM, ANOMALY_MIN_CALLS_PARAM
            )
            factor, min_calls = DEFAULT_ANOMALY_FACTOR, DEFAULT_ANOMALY_MIN_CALLS
        return factor, min_calls

    @api.model
    def _aia_tool_call_anomalies(self, now):
        """Companies whose tool calls of the last hour exceed ``factor`` times their hourly
        average over the week before; returns [(company, calls, average)].

        Counted in SQL (two grouped counts), whatever the volume.
        """
        factor, min_calls = self._aia_anomaly_thresholds()
        hour_ago = now - timedelta(hours=1)
        week_start = hour_ago - timedelta(hours=BASELINE_HOURS)
        Execution = self.env["aia.tool.execution"].sudo()
        recent = Execution._read_group([("create_date", ">=", hour_ago)], ["company_id"], ["__count"])
        recent = [(company, calls) for company, calls in recent if company and calls >= min_calls]
        if not recent:
            return []
        baseline = dict(
            Execution._read_group(
                [
                    ("company_id", "in", [company.id for company, _calls in recent]),
                    ("create_date", ">=", week_start),
                    ("create_date", "<", hour_ago),
                ],
                ["company_id"],
                ["__count"],
            )
        )
        anomalies = []
        for company, calls in recent:
            average = baseline.get(company, 0) / BASELINE_HOURS
            if calls > factor * average:
                anomalies.append((company, calls, average))
        return anomalies

    def _aia_alert_anomaly(self, calls, average, now):
        """Log the anomaly and give each AI manager of the company an activity on the busiest
        session of the hour (where a runaway agent is stopped)."""
        self.ensure_one()
        company = self.sudo()
        _logger.warning(
            "Unusual AI tool activity in company %s: %s calls in the last hour, %.2f per hour on "
            "average over the past week",
            company.id,
            calls,
            average,
        )
        company.aia_anomaly_alert_date = now
        Execution = self.env["aia.tool.execution"].sudo()
        [(session, _count)] = Execution._read_group(
            [("company_id", "=", company.id), ("create_date", ">=", now - timedelta(hours=1))],
            ["session_id"],
            ["__count"],
            order="__count desc",
            limit=1,
        )
        managers = (
            self.env.ref("ai_core.group_aia_manager")
            .sudo()
            .all_user_ids.filtered(
                lambda user: user.active and not user.share and company in user.company_ids
            )
        )
        note = self.env._(
            "%(calls)s AI tool calls in the last hour in %(company)s, against %(average)s per hour on "
            "average over the past week. This session made the most calls; stop it or the agent if "
            "the activity is not expected.",
            calls=calls,
            company=company.name,
            average=round(average, 2),
        )
        for manager in managers:
            session.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=manager.id,
                summary=self.env._("Unusual AI tool activity"),
                note=note,
            )

    # === CRON METHODS === #

    @api.model
    def _cron_aia_purge_transcripts(self):
        """Purge the transcripts older than each company's retention, in committed batches."""
        now = self.env.cr.now()
        session_ids = self.sudo().search([("aia_retention_days", ">", 0)])._aia_purgeable_session_ids(now)
        self.env["ir.cron"]._commit_progress(remaining=len(session_ids))
        failure = None
        for start in range(0, len(session_ids), PURGE_BATCH):
            batch = self.env["aia.session"].browse(session_ids[start : start + PURGE_BATCH])
            try:
                self._aia_purge_sessions(batch)
                self.env.flush_all()
            except Exception as exc:
                self.env.cr.rollback()
                _logger.exception("Purge of AI transcripts failed for sessions %s", batch.ids)
                failure = exc
                continue
            if not self.env["ir.cron"]._commit_progress(len(batch)):
                break
        if failure is not None:
            # Marks the run as failed; the other batches are committed.
            raise failure

    @api.model
    def _cron_aia_tool_call_anomalies(self):
        """Alert once per company and hour when its tool calls are far above its usual rate."""
        now = self.env.cr.now()
        hour_ago = now - timedelta(hours=1)
        anomalies = [
            (company, calls, average)
            for company, calls, average in self._aia_tool_call_anomalies(now)
            if not company.sudo().aia_anomaly_alert_date or company.sudo().aia_anomaly_alert_date <= hour_ago
        ]
        self.env["ir.cron"]._commit_progress(remaining=len(anomalies))
        for company, calls, average in anomalies:
            company._aia_alert_anomaly(calls, average, now)
            if not self.env["ir.cron"]._commit_progress(1):
                break
