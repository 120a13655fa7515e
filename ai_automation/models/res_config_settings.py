from odoo import fields, models

from ..caps import CAP_PARAMS, DEFAULT_CAPS


def _default_cap(field_class, cap, label, unit="", **options):
    """The Settings field of the default an action's cap falls back to when it is 0."""
    return field_class(
        label,
        config_parameter=CAP_PARAMS[cap],
        default=DEFAULT_CAPS[cap],
        help=f"Used by automation actions whose {label.lower()} is 0{unit}. 0 here restores the "
        "built-in default.",
        **options,
    )


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    aia_automation_max_resumes = _default_cap(fields.Integer, "max_resumes", "Max resumes")
    aia_automation_max_lifetime_hours = _default_cap(
        fields.Integer, "max_lifetime_hours", "Max lifetime (hours)"
    )
    aia_automation_max_tokens = _default_cap(fields.Integer, "max_tokens", "Max total tokens")
    aia_automation_max_cost = _default_cap(
        fields.Float, "max_cost", "Max cost", ", in each company's currency", digits=(16, 2)
    )
