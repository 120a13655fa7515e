from odoo import api, fields, models

from .. import secret_box
from ..safe_fetch import ALLOWED_HOSTS_PARAM
from ..turn import ENABLED_PARAM
from .aia_tool_execution import (
    ANOMALY_FACTOR_PARAM,
    ANOMALY_MIN_CALLS_PARAM,
    DEFAULT_ANOMALY_FACTOR,
    DEFAULT_ANOMALY_MIN_CALLS,
)


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # Not a config_parameter field: those delete the parameter when unticked, and a missing
    # parameter means "enabled".
    aia_agents_enabled = fields.Boolean(
        "AI agents enabled",
        help="Kill switch: when off, every entry point answers that agents are unavailable.",
    )
    aia_retention_days = fields.Integer(related="company_id.aia_retention_days", readonly=False)
    aia_anomaly_factor = fields.Float(
        "Alert factor",
        config_parameter=ANOMALY_FACTOR_PARAM,
        default=DEFAULT_ANOMALY_FACTOR,
        help="Alert when a company's tool calls of the last hour exceed this many times its hourly "
        "average of the past week.",
    )
    aia_anomaly_min_calls = fields.Integer(
        "Alert minimum",
        config_parameter=ANOMALY_MIN_CALLS_PARAM,
        default=DEFAULT_ANOMALY_MIN_CALLS,
        help="No alert below this many tool calls in an hour.",
    )
    aia_fetch_allowed_hosts = fields.Char(
        "Hosts open to fetches",
        config_parameter=ALLOWED_HOSTS_PARAM,
        help="Web pages of knowledge bases and HTTP tools may reach these host names, addresses or "
        "networks (e.g. intranet.example.com, 10.1.2.3, 10.20.0.0/16) although they are loopback, "
        "private or link-local. Separated by commas.",
    )
    aia_secrets_encrypted = fields.Boolean(
        "Secrets encrypted",
        compute="_compute_aia_secrets_encrypted",
        help="The server has an aia_secret_key.",
    )

    def _compute_aia_secrets_encrypted(self):
        self.aia_secrets_encrypted = secret_box.encryption_enabled()

    @api.model
    def get_values(self):
        values = super().get_values()
        values["aia_agents_enabled"] = self.env["aia.session"]._aia_enabled()
        return values

    def set_values(self):
        result = super().set_values()
        self.env["ir.config_parameter"].sudo().set_param(ENABLED_PARAM, str(bool(self.aia_agents_enabled)))
        return result

    # === ACTION METHODS === #

    def action_aia_encrypt_secrets(self):
        """Encrypt the secrets saved before the key was set, or with an older key."""
        secret_models = self.env.registry["aia.secret.mixin"]._inherit_children
        count = sum(self.env[model]._aia_encrypt_stored_secrets() for model in secret_models)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("Secrets of %(count)s records encrypted.", count=count),
            },
        }
