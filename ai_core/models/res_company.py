from odoo import fields, models


class ResCompany(models.Model):
    """The company's AI settings; the crons that read them are on the models they act on
    (``aia.session`` purges transcripts, ``aia.tool.execution`` alerts on unusual activity)."""

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
