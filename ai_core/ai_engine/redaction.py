"""Redaction of secrets and payment data before arguments and results reach the audit log."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["DEFAULT_SENSITIVE_KEYS", "REDACTED", "redact"]

REDACTED = "[REDACTED]"
DEFAULT_SENSITIVE_KEYS = frozenset(
    {
        "password",
        "passwd",
        "token",
        "api_key",
        "apikey",
        "secret",
        "authorization",
        "iban",
        "card_number",
        "cvv",
    }
)

_CARD_CANDIDATE = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_IBAN_CANDIDATE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")


def redact(value: Any, extra_keys: Iterable[str] = ()) -> Any:
    """Return a copy of ``value`` with sensitive entries masked.

    A mapping key is sensitive when, lower-cased, it contains one of the sensitive names (so
    ``bank_iban`` and ``X-Api-Key`` are caught). Strings anywhere are scanned for card numbers
    (Luhn-valid, last four digits kept) and IBANs (mod-97 valid).

    Args:
        value: Any JSON-like structure.
        extra_keys: The tool's own sensitive keys, added to the defaults.
    """
    keys = DEFAULT_SENSITIVE_KEYS | {key.lower() for key in extra_keys}
    return _redact(value, keys)


def _redact(value: Any, keys: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if _is_sensitive(str(key), keys) else _redact(item, keys)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_redact(item, keys) for item in value]
    if isinstance(value, str):
        return _mask_ibans(_mask_cards(value))
    return value


def _is_sensitive(key: str, keys: frozenset[str]) -> bool:
    normalised = key.lower().replace("-", "_")
    return any(name in normalised for name in keys)


def _mask_cards(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and _luhn_valid(digits):
            return "**** " + digits[-4:]
        return match.group()

    return _CARD_CANDIDATE.sub(replace, text)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _mask_ibans(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        compact = match.group().replace(" ", "")
        return REDACTED if _iban_valid(compact) else match.group()

    return _IBAN_CANDIDATE.sub(replace, text)


def _iban_valid(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1
