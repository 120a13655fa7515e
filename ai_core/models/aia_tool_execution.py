import logging
from datetime import timedelta

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

ANOMALY_FACTOR_PARAM = "aia.anomaly_factor"
ANOMALY_MIN_CALLS_PARAM = "aia.anomaly_min_calls"
DEFAULT_ANOMALY_FACTOR = 10.0
# Below this many calls in an hour nothing is unusual, whatever the average (new companies).
DEFAULT_ANOMALY_MIN_CALLS = 20
BASELINE_HOURS = 7 * 24


def tool_call_to_client(record):
    """What the chat UI shows of any record of a tool call: an execution, an approval request."""
    return {
        "id": record.id,
        "call_id": record.call_id,
        "name": record.tool_name,
        "arguments": record.arguments,
        "preview": record.preview,
    }


class AiaToolExecution(models.Model):
    _name = "aia.tool.execution"
    _description = "AI Tool Execution"
    _order = "id desc"

    session_id = fields.Many2one("aia.session", required=True, ondelete="cascade", index=True)
    agent_id = fields.Many2one(related="session_id.agent_id", store=True, index=True)
    user_id = fields.Many2one(related="session_id.user_id", store=True, index=True)
    company_id = fields.Many2one(related="session_id.company_id", store=True, index=True)
    tool_id = fields.Many2one("aia.tool", ondelete="set null", index=True)
    tool_name = fields.Char(required=True, index=True)
    call_id = fields.Char(required=True)
    arguments = fields.Json(help="Redacted.")
    output = fields.Json(help="Redacted raw output.")
    content = fields.Text(help="What the model read.")
    preview = fields.Text(help="What a shadowed or pending write would do.")
    result_size = fields.Integer()
    latency_ms = fields.Integer("Latency (ms)")
    status = fields.Selection(
        [
            ("ok", "OK"),
            ("error", "Error"),
            ("timeout", "Timeout"),
            ("shadowed", "Shadowed"),
            ("denied", "Denied"),
        ],
        required=True,
        index=True,
    )

    _session_date_idx = models.Index("(company_id, create_date)")

    # === BUSINESS METHODS === #

    def _aia_to_client(self):
        """What the chat UI shows of a tool call."""
        self.ensure_one()
        return {
            **tool_call_to_client(self),
            "content": self.content,
            "latency_ms": self.latency_ms,
            "status": self.status,
        }

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
    def _aia_anomalies(self, now):
        """Companies whose tool calls of the last hour exceed ``factor`` times their hourly
        average over the week before; returns [(company, calls, average)].

        Counted in SQL (two grouped counts), whatever the volume.
        """
        factor, min_calls = self._aia_anomaly_thresholds()
        hour_ago = now - timedelta(hours=1)
        week_start = hour_ago - timedelta(hours=BASELINE_HOURS)
        Execution = self.sudo()
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

    @api.model
    def _aia_alert_anomaly(self, company, calls, average, now):
        """Log the anomaly of ``company`` and give each of its AI managers an activity on the
        busiest session of the hour (where a runaway agent is stopped)."""
        company = company.sudo()
        _logger.warning(
            "Unusual AI tool activity in company %s: %s calls in the last hour, %.2f per hour on "
            "average over the past week",
            company.id,
            calls,
            average,
        )
        company.aia_anomaly_alert_date = now
        [(session, _count)] = self.sudo()._read_group(
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
    def _cron_alert_anomalies(self):
        """Alert once per company and hour when its tool calls are far above its usual rate."""
        now = self.env.cr.now()
        hour_ago = now - timedelta(hours=1)
        anomalies = [
            (company, calls, average)
            for company, calls, average in self._aia_anomalies(now)
            if not company.sudo().aia_anomaly_alert_date or company.sudo().aia_anomaly_alert_date <= hour_ago
        ]
        self.env["ir.cron"]._commit_progress(remaining=len(anomalies))
        for company, calls, average in anomalies:
            self._aia_alert_anomaly(company, calls, average, now)
            if not self.env["ir.cron"]._commit_progress(1):
                break
