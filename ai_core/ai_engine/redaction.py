"""Redaction of secrets and payment data before what the engine produces is stored or served.

:func:`redact` masks a JSON-like structure (values under sensitive keys, and secrets inside its
strings); :func:`redact_text` masks secrets in free text: key-shaped tokens (OpenAI, Anthropic,
GitHub, AWS access key ids, Slack, JWTs), ``Authorization`` / ``X-API-Key`` values and ``Bearer``
tokens, Luhn-valid card numbers and mod-97 valid IBANs. :func:`cap_text` bounds stored text;
redact first, then cap, so a cut never leaves part of a secret unrecognised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_SENSITIVE_KEYS",
    "REDACTED",
    "CappedText",
    "StreamRedactor",
    "cap_text",
    "redact",
    "redact_text",
]

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

# Each token kind by its documented prefix, as a whole token: not inside a longer word or token.
_TOKEN_CHARS = r"A-Za-z0-9_-"
_KEY_TOKEN = re.compile(
    rf"(?<![{_TOKEN_CHARS}])(?:"
    r"sk-ant-[A-Za-z0-9_-]{20,}"  # Anthropic
    r"|sk-[A-Za-z0-9_-]{20,}"  # OpenAI (sk-proj-, sk-svcacct-, ... included)
    r"|gh[pousr]_[A-Za-z0-9]{36,}"  # GitHub classic, OAuth, user, server and refresh tokens
    r"|github_pat_[A-Za-z0-9_]{40,}"  # GitHub fine-grained personal access tokens
    r"|(?:AKIA|ASIA)[A-Z0-9]{16}"  # AWS access key ids
    r"|xox[abeoprs]-[A-Za-z0-9-]{10,}"  # Slack
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # JSON Web Tokens
    rf")(?![{_TOKEN_CHARS}])"
)
# Kinds whose prefix alone is not rare enough: the token must hold a digit (real keys do).
_NEEDS_DIGIT = ("sk-", "xox")
# An Authorization-like header (or JSON / Python mapping entry) and its value up to the line's,
# the quote's or the parameter's end.
_HEADER = re.compile(
    r"(?i)(?<![A-Za-z0-9_-])((?:proxy-)?authorization|x-api-key|api-key|x-auth-token)"
    r"(['\"]?\s*[:=]\s*['\"]?)([^\r\n'\",;]+)"
)
_SCHEMES = frozenset({"basic", "bearer", "digest", "token", "apikey", "api-key", "negotiate", "ntlm", "hoba"})
_BEARER = re.compile(r"(?<![A-Za-z0-9_-])([Bb]earer|BEARER)([ \t]+)([A-Za-z0-9._~+/=-]{8,})")
_CARD_CANDIDATE = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_IBAN_CANDIDATE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")


def redact(value: Any, extra_keys: Iterable[str] = ()) -> Any:
    """Return a copy of ``value`` with sensitive entries masked.

    A mapping key is sensitive when, lower-cased, it contains one of the sensitive names (so
    ``bank_iban`` and ``X-Api-Key`` are caught). Strings anywhere go through
    :func:`redact_text` (key-shaped tokens, authorization values, card numbers, IBANs).

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
        return redact_text(value)
    return value


def redact_text(text: str) -> str:
    """``text`` with the secrets found anywhere in it masked (see the module's description).

    Card numbers keep their last four digits (``**** 1111``); everything else becomes
    :data:`REDACTED`, an ``Authorization`` value keeping its scheme (``Bearer [REDACTED]``).
    Redacting twice changes nothing more.
    """
    if not text:
        return text
    text = _KEY_TOKEN.sub(_mask_key_token, text)
    text = _HEADER.sub(_mask_header, text)
    text = _BEARER.sub(_mask_bearer, text)
    return _mask_ibans(_mask_cards(text))


@dataclass(frozen=True)
class CappedText:
    """Text cut to a size limit.

    Attributes:
        text: The text, ending with a ``[truncated: N more characters]`` marker when cut.
        cut: How many characters of the original were left out (0 when nothing was).
    """

    text: str
    cut: int = 0


def cap_text(text: str, limit: int) -> CappedText:
    """``text`` cut to at most ``limit`` characters, the marker included; redact it first.

    Below the marker's own length there is no room for it: the text is cut bare.
    """
    if len(text) <= limit:
        return CappedText(text)
    limit = max(limit, 0)
    # The marker for the longest possible cut is at least as long as the real one.
    kept = limit - len(_truncation_marker(len(text)))
    if kept <= 0:
        return CappedText(text[:limit], len(text) - limit)
    cut = len(text) - kept
    return CappedText(text[:kept] + _truncation_marker(cut), cut)


def _truncation_marker(cut: int) -> str:
    return f"\n[truncated: {cut} more characters]"


def _mask_key_token(match: re.Match[str]) -> str:
    token = match.group()
    if token.startswith(_NEEDS_DIGIT) and not any(char.isdigit() for char in token):
        return token
    return REDACTED


def _looks_like_token(value: str) -> bool:
    """Whether a value is credential-shaped rather than a word: long, or letters with digits."""
    has_digit = any(char.isdigit() for char in value)
    has_letter = any(char.isalpha() for char in value)
    return len(value) >= 8 and has_letter and (has_digit or len(value) >= 24)


def _mask_header(match: re.Match[str]) -> str:
    name, separator, value = match.groups()
    words = value.split()
    if not words or REDACTED in value:
        return match.group()
    if len(words) >= 2 and words[0].lower() in _SCHEMES:
        return f"{name}{separator}{words[0]} {REDACTED}"
    if len(words) == 1 and (_looks_like_token(words[0]) or ("=" in words[0] and len(words[0]) >= 8)):
        return f"{name}{separator}{REDACTED}"
    return match.group()


def _mask_bearer(match: re.Match[str]) -> str:
    scheme, space, token = match.groups()
    return f"{scheme}{space}{REDACTED}" if _looks_like_token(token) else match.group()


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


# A secret may arrive over several deltas: the last words stay back until more text (or the end)
# shows whether they complete one. An IBAN in groups of four is the longest spaced secret.
# Possessive: a word is never split into several, or a long run without spaces (JSON, a URL)
# backtracks through every way of splitting it, for seconds per delta.
_TAIL = re.compile(r"(?:\S++\s*+){1,10}$")


class StreamRedactor:
    """Redacts text that arrives in pieces (a model's streamed answer) before it is shown.

    What is released is the redacted text so far less its last words, which could still be the
    start of a secret; :meth:`finish` releases the rest.
    """

    def __init__(self) -> None:
        self._raw = ""
        self._released = 0

    def feed(self, piece: str) -> str:
        """Add ``piece``; returns the redacted text that may be shown now (maybe empty)."""
        self._raw += piece
        redacted = redact_text(self._raw)
        tail = _TAIL.search(redacted)
        cut = tail.start() if tail else len(redacted)
        if cut <= self._released:
            return ""
        released, self._released = redacted[self._released : cut], cut
        return released

    def finish(self) -> str:
        """The redacted text not released yet."""
        redacted = redact_text(self._raw)
        rest, self._released = redacted[self._released :], len(redacted)
        return rest
