from odoo import api, fields, models
from odoo.fields import Domain

from .. import secret_box
from ..guard import header_mapping

#: The field parameter that marks a secret: ``aia_secret=True`` on a text field holding one secret
#: (an API key), ``aia_secret="headers"`` on a JSON field of HTTP headers whose values are secrets
#: (validated as headers on save).
SECRET_PARAMETER = "aia_secret"
_REENCRYPT = {True: secret_box.reencrypt, "headers": secret_box.reencrypt_mapping}


def secret_field(string, **options):
    """A field holding one secret (an API key) on a model inheriting ``aia.secret.mixin``: read and
    written by administrators only, encrypted on save, never copied with its record."""
    return fields.Char(string, groups="base.group_system", copy=False, **options, **{SECRET_PARAMETER: True})


def secret_headers_field(string, **options):
    """A JSON object of HTTP headers whose values are secrets (``Authorization: ...``), validated
    as headers on save; otherwise as :func:`secret_field`."""
    return fields.Json(
        string, groups="base.group_system", copy=False, **options, **{SECRET_PARAMETER: "headers"}
    )


class AiaSecretMixin(models.AbstractModel):
    """Fields declared with ``aia_secret`` are encrypted with the server's key before they reach
    their column (when the server has one), and re-encrypted on demand from the settings."""

    _name = "aia.secret.mixin"
    _description = "AI Fields Stored Encrypted"

    @api.model
    def _valid_field_parameter(self, field, name):
        return name == SECRET_PARAMETER or super()._valid_field_parameter(field, name)

    @api.model
    def _aia_secret_fields(self):
        """{field name: ``True`` or ``"headers"``} of this model's secret fields."""
        return {
            name: field.aia_secret
            for name, field in self._fields.items()
            if getattr(field, SECRET_PARAMETER, False)
        }

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        return super().create([self._aia_encrypt_vals(vals) for vals in vals_list])

    def write(self, vals):
        return super().write(self._aia_encrypt_vals(vals))

    @api.model
    def _aia_encrypt_vals(self, vals):
        vals = dict(vals)
        for name, kind in self._aia_secret_fields().items():
            if name not in vals:
                continue
            if kind == "headers":
                label = self._fields[name]._description_string(self.env)
                vals[name] = secret_box.encrypt_mapping(header_mapping(self.env, vals[name], label))
            else:
                vals[name] = secret_box.encrypt(vals[name])
        return vals

    # === BUSINESS METHODS === #

    @api.model
    def _aia_encrypt_stored_secrets(self):
        """Encrypt plain secrets, and those of older keys, with the first configured key.

        Returns:
            int: How many records hold secrets.
        """
        secrets = self._aia_secret_fields()
        records = (
            self.sudo()
            .with_context(active_test=False)
            .search(Domain.OR([(name, "!=", False)] for name in secrets))
        )
        for record in records:
            record.write({name: _REENCRYPT[kind](record[name]) for name, kind in secrets.items()})
        return len(records)
