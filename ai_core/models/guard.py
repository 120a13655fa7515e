"""Fields only the suite's own methods write: one check for every model that has them."""

from odoo.exceptions import AccessError


def check_user_writable(records, vals, allowed):
    """Raise AccessError unless a user (not the superuser) may set every field of ``vals``.

    Args:
        records: A recordset (or the empty model) of the model written.
        vals: The values a user asks to write or create.
        allowed: The fields users may set; mail.thread fields (followers, activities) always are.
    """
    env = records.env
    if env.su:
        return
    mail_fields = set(env["mail.thread"]._fields) | set(env["mail.activity.mixin"]._fields)
    refused = sorted(set(vals) - set(allowed) - mail_fields)
    if refused:
        raise AccessError(
            env._(
                "You cannot set %(fields)s on %(model)s: the agent's own methods do.",
                fields=", ".join(refused),
                model=records._description,
            )
        )
