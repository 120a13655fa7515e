from odoo import fields, models

from ..caps import CAP_PARAMS, DEFAULT_CAPS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    aia_automation_max_resumes = fields.Integer(
        "Max resumes",
        config_parameter=CAP_PARAMS["max_resumes"],
        default=DEFAULT_CAPS["max_resumes"],
        help="Used by automation actions whose max resumes is 0. 0 here restores the built-in default.",
    )
    aia_automation_max_lifetime_hours = fields.Integer(
        "Max lifetime (hours)",
        config_parameter=CAP_PARAMS["max_lifetime_hours"],
        default=DEFAULT_CAPS["max_lifetime_hours"],
        help="Used by automation actions whose max lifetime is 0. 0 here restores the built-in default.",
    )
    aia_automation_max_tokens = fields.Integer(
        "Max total tokens",
        config_parameter=CAP_PARAMS["max_tokens"],
        default=DEFAULT_CAPS["max_tokens"],
        help="Used by automation actions whose max total tokens is 0. 0 here restores the built-in default.",
    )
    aia_automation_max_cost = fields.Float(
        "Max cost",
        config_parameter=CAP_PARAMS["max_cost"],
        default=DEFAULT_CAPS["max_cost"],
        digits=(16, 2),
        help="Used by automation actions whose max cost is 0, in each company's currency. 0 here "
        "restores the built-in default.",
    )
