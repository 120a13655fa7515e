"""Encryption at rest of the suite's secrets (provider API keys, HTTP tool headers).

The key is ``aia_secret_key`` in the server's configuration file, never in the database, so a dump
or a copied database does not hold usable secrets. Several comma-separated keys allow a rotation:
the first encrypts, every key decrypts. Without a key, values are stored as they are (the fields
stay readable by administrators only).

Stored values carry a prefix, so plain values saved before a key was configured keep working and
an unchanged ciphertext written back by the form is not encrypted twice.
"""

import base64
import functools
import hashlib

from odoo.exceptions import UserError
from odoo.tools import config

from .logging_filter import register_secret

CONFIG_KEY = "aia_secret_key"
PREFIX = "aia-fernet:"

__all__ = [
    "CONFIG_KEY",
    "PREFIX",
    "SecretKeyError",
    "decrypt",
    "decrypt_mapping",
    "encrypt",
    "encrypt_mapping",
    "encryption_enabled",
    "is_encrypted",
    "reencrypt",
    "reencrypt_mapping",
]


class SecretKeyError(UserError):
    """A stored secret cannot be decrypted with the server's configuration."""


def _untranslated(message, *args):
    return message % args


def _configured_keys():
    raw = config.get(CONFIG_KEY) or ""
    return tuple(key.strip() for key in str(raw).split(",") if key.strip())


@functools.lru_cache(maxsize=4)
def _build(keys):
    from cryptography.fernet import Fernet, MultiFernet

    # Any long random string is accepted: it is hashed into the 32 bytes Fernet wants.
    fernets = [
        Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"ai_core.secrets:" + key.encode()).digest()))
        for key in keys
    ]
    return MultiFernet(fernets)


def _fernet():
    keys = _configured_keys()
    return _build(keys) if keys else None


def encryption_enabled():
    """Whether the server's configuration holds a key."""
    return bool(_configured_keys())


def is_encrypted(value):
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt(value):
    """The value to store: encrypted when a key is configured, else ``value`` unchanged."""
    fernet = _fernet()
    if not value or fernet is None or not isinstance(value, str) or is_encrypted(value):
        return value
    return PREFIX + fernet.encrypt(value.encode()).decode()


def decrypt(value, env=None):
    """The plain secret of a stored value; call it only where the secret is used.

    Args:
        value: The stored value.
        env: Translates the error message for the user when given.

    Raises:
        SecretKeyError: the value is encrypted and no configured key opens it.
    """
    if not is_encrypted(value):
        register_secret(value)
        return value
    from cryptography.fernet import InvalidToken

    translate = env._ if env is not None else _untranslated
    fernet = _fernet()
    if fernet is None:
        raise SecretKeyError(
            translate("A secret is stored encrypted but the server configuration has no %s.", CONFIG_KEY)
        )
    try:
        plain = fernet.decrypt(value[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise SecretKeyError(
            translate("A stored secret does not match the %s of the server configuration.", CONFIG_KEY)
        ) from None
    register_secret(plain)
    return plain


def reencrypt(value):
    """The value encrypted with the first configured key (plain values and older keys alike)."""
    fernet = _fernet()
    if not value or fernet is None:
        return value
    if is_encrypted(value):
        return PREFIX + fernet.rotate(value[len(PREFIX) :].encode()).decode()
    return encrypt(value)


def encrypt_mapping(values):
    """Encrypt each value of a header mapping; the names stay readable."""
    if not isinstance(values, dict):
        return values
    return {name: encrypt(value) if isinstance(value, str) else value for name, value in values.items()}


def decrypt_mapping(values, env=None):
    return {
        name: decrypt(value, env) if isinstance(value, str) else value
        for name, value in (values or {}).items()
    }


def reencrypt_mapping(values):
    if not isinstance(values, dict):
        return values
    return {name: reencrypt(value) if isinstance(value, str) else value for name, value in values.items()}
