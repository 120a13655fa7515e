"""Keep secrets and prompts out of the logs.

Two guards, installed when ``ai_core`` is imported:

- the provider SDKs log every request's options (prompts, tool results, headers) at DEBUG, and
  their HTTP stacks log connection details: those loggers are raised to INFO, so an Odoo started
  with ``--log-level=debug`` still never writes a prompt;
- a filter on the SDKs' loggers and on every ``ai_core`` logger masks what looks like a key
  (``sk-...``, ``Bearer ...``, ``api_key=...``) and every secret value this process has decrypted
  (provider keys, HTTP tool headers), in the message, its arguments and its traceback.
"""

import logging
import re
import threading
from collections import OrderedDict

__all__ = ["QUIET_LOGGERS", "REDACTED", "SecretFilter", "install", "mask", "register_secret"]

REDACTED = "[REDACTED]"
# Loggers that write request bodies or headers below INFO.
QUIET_LOGGERS = ("anthropic._base_client", "openai._base_client", "httpx", "httpx2", "httpcore", "httpcore2")
# Loggers filtered besides ours: a filter applies to its own logger only, not to children.
FILTERED_LOGGERS = (
    "anthropic",
    "anthropic._base_client",
    "openai",
    "openai._base_client",
    "httpx",
    "httpx2",
    "urllib3.connectionpool",
)
OUR_PREFIXES = ("odoo.addons.ai_core",)

_PATTERNS = (
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{6,}"), r"\1" + REDACTED),
    # Anthropic (sk-ant-...), OpenAI (sk-..., sk-proj-...), OpenRouter (sk-or-...) key shapes.
    (re.compile(r"\bsk-[A-Za-z0-9_-]{12,}"), REDACTED),
    (
        re.compile(
            r"(?i)([\"']?[\w-]*(?:api[_-]?key|authorization|password|secret|token)[\"']?\s*[:=]\s*)"
            r"([\"']?)(?!\[REDACTED\]|bearer\s)([^\"'\s,;&}]+)"
        ),
        r"\1\2" + REDACTED,
    ),
)
# Secret values seen by this process, longest first when masking; bounded.
_MAX_SECRETS = 512
_MIN_SECRET_LENGTH = 6
_secrets = OrderedDict()
_secrets_lock = threading.Lock()


def register_secret(value):
    """Remember a secret value so that no log line of ours or of the SDKs shows it."""
    if not isinstance(value, str) or len(value.strip()) < _MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        _secrets[value] = None
        _secrets.move_to_end(value)
        while len(_secrets) > _MAX_SECRETS:
            _secrets.popitem(last=False)


def mask(text):
    """``text`` with the known secrets and key-shaped values replaced by ``[REDACTED]``."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class SecretFilter(logging.Filter):
    """Masks secrets in a record before any handler formats it; never drops a record."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is the logging module's to report
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            # Handlers reuse exc_text instead of formatting the traceback again.
            text = logging.Formatter().formatException(record.exc_info)
            masked = mask(text)
            if masked != text:
                record.exc_text = masked
        return True


_FILTER = SecretFilter()


def install(prefixes=OUR_PREFIXES):
    """Quiet the SDK loggers and filter them and every existing logger under ``prefixes``.

    Idempotent: domain modules may call it again once their own loggers exist.
    """
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:
            logger.setLevel(logging.INFO)
    names = set(FILTERED_LOGGERS)
    names.update(name for name in list(logging.root.manager.loggerDict) if name.startswith(tuple(prefixes)))
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
