"""The transcript purge and the tool activity alert moved from res.company to the models they act
on. Their scheduled actions are noupdate data: point them at the new methods here."""

from odoo import SUPERUSER_ID, api

MOVED = {
    "ai_core.ir_cron_aia_purge_transcripts": ("aia.session", "model._cron_purge_transcripts()"),
    "ai_core.ir_cron_aia_tool_call_anomalies": ("aia.tool.execution", "model._cron_alert_anomalies()"),
}


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    for xmlid, (model, code) in MOVED.items():
        cron = env.ref(xmlid, raise_if_not_found=False)
        if cron and cron.model_id.model == "res.company":
            cron.write({"model_id": env["ir.model"]._get_id(model), "code": code})
