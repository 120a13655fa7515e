"""Checks of what users write: fields only the suite's own methods write, header mappings."""

import json
import re

from odoo.exceptions import AccessError, ValidationError

# RFC 9110 token characters.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


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


def header_mapping(env, value, label):
    """``value`` as HTTP headers to save: a JSON object of text names and values (a JSON text of
    one is read), or nothing. Anything else is refused now, not when every request later fails.

    Raises:
        ValidationError: Not an object of text headers, or a name or value that would split a
            request (line breaks).
    """
    if not value:
        return value
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict):
        raise ValidationError(
            env._(
                '%(field)s must be a JSON object of header names and values, e.g. {"X-Org": "acme"}.',
                field=label,
            )
        )
    for name, text in value.items():
        if not isinstance(text, str) or not _HEADER_NAME.match(name) or "\r" in text or "\n" in text:
            raise ValidationError(
                env._(
                    "%(field)s: the header %(name)s needs a text value on one line.", field=label, name=name
                )
            )
    return value
