"""Scoring of open invoices and bills against an unreconciled bank statement line.

Suggestions only: nothing here (nor in the tool using it) reconciles anything. Three signals,
each with a weight, summed and capped below certainty:

- the open amount equals the statement amount (within half a currency unit of rounding);
- a reference of the item (its number, payment reference or ref) appears in the line's label,
  compared without case, spaces or punctuation;
- the partner is the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "MIN_CONFIDENCE",
    "WEIGHTS",
    "OpenItem",
    "StatementLine",
    "Suggestion",
    "confidence_level",
    "normalize_reference",
    "score",
    "suggest",
]

WEIGHTS = {"amount": 0.5, "reference": 0.4, "partner": 0.2}
# All three signals never make a certainty: a human confirms every reconciliation.
MAX_CONFIDENCE = 0.99
# Below this, a candidate is not worth the model's attention (a partner alone is 0.2).
MIN_CONFIDENCE = 0.4
# Two candidates scoring the same leave the choice open: the best one is shown with less confidence.
TIE_FACTOR = 0.6
# A reference shorter than this, or without a digit, matches labels by accident ("PAY", "12").
MIN_REFERENCE_LENGTH = 4

_NOT_ALPHANUMERIC = re.compile(r"[^0-9A-Z]")


@dataclass(frozen=True)
class StatementLine:
    """An unreconciled bank statement line.

    Attributes:
        id: Its database id.
        amount: Signed amount (positive: money received) in the line's currency.
        label: Everything the bank said about it (label, reference, counterpart name).
        partner_id: Partner set on the line, if any.
    """

    id: int
    amount: float
    label: str = ""
    partner_id: int | None = None


@dataclass(frozen=True)
class OpenItem:
    """An open receivable or payable item of an invoice or bill.

    Attributes:
        id: Its database id.
        amount: Signed open amount in the statement line's currency (positive: the partner owes
            us), None when it cannot be compared (another currency).
        references: Numbers the payer may quote: the move's name, payment reference, ref.
        partner_id: The item's partner.
    """

    id: int
    amount: float | None
    references: tuple[str, ...] = ()
    partner_id: int | None = None


@dataclass(frozen=True)
class Suggestion:
    """The best open item for a statement line.

    Attributes:
        item_id: Id of the suggested open item.
        confidence: 0 to 0.99.
        level: ``high``, ``medium`` or ``low``.
        reasons: Why, in words.
        alternatives: Other candidates above the threshold.
    """

    item_id: int
    confidence: float
    level: str
    reasons: tuple[str, ...]
    alternatives: int = 0


def normalize_reference(text: str | None) -> str:
    """Upper-case letters and digits only: ``inv/2019 00001`` → ``INV201900001``."""
    return _NOT_ALPHANUMERIC.sub("", (text or "").upper())


def confidence_level(confidence: float) -> str:
    if confidence >= 0.85:
        return "high"
    if confidence >= 0.6:
        return "medium"
    return "low"


def _usable(reference: str) -> bool:
    return len(reference) >= MIN_REFERENCE_LENGTH and any(char.isdigit() for char in reference)


def score(
    line: StatementLine, item: OpenItem, *, tolerance: float = 0.005, digits: int = 2
) -> tuple[float, tuple[str, ...]]:
    """Confidence that ``item`` is what ``line`` pays, and the reasons.

    Args:
        line: The statement line.
        item: A candidate.
        tolerance: Largest amount difference still equal (half the currency's rounding).
        digits: Decimal places used to show amounts in the reasons.
    """
    total = 0.0
    reasons = []
    if item.amount is not None and abs(line.amount - item.amount) <= tolerance:
        total += WEIGHTS["amount"]
        reasons.append(f"amount {abs(item.amount):.{digits}f} equals the open amount")
    label = normalize_reference(line.label)
    for reference in item.references:
        if _usable(normalize_reference(reference)) and normalize_reference(reference) in label:
            total += WEIGHTS["reference"]
            reasons.append(f"reference {reference} appears in the bank label")
            break
    if line.partner_id and line.partner_id == item.partner_id:
        total += WEIGHTS["partner"]
        reasons.append("same partner")
    return round(min(total, MAX_CONFIDENCE), 2), tuple(reasons)


def suggest(
    line: StatementLine,
    items: Iterable[OpenItem],
    *,
    tolerance: float = 0.005,
    digits: int = 2,
    min_confidence: float = MIN_CONFIDENCE,
) -> Suggestion | None:
    """The best candidate for ``line``, or None when none reaches ``min_confidence``.

    ``items`` should come oldest due date first: among equal scores the first one wins, as a
    payer usually settles the oldest debt first.
    """
    scored = []
    for item in items:
        confidence, reasons = score(line, item, tolerance=tolerance, digits=digits)
        if confidence >= min_confidence:
            scored.append((confidence, reasons, item))
    if not scored:
        return None
    # sorted() is stable: equal scores keep the caller's order.
    scored.sort(key=lambda entry: entry[0], reverse=True)
    confidence, reasons, item = scored[0]
    ties = sum(1 for other, _reasons, _item in scored[1:] if other == confidence)
    if ties:
        confidence = round(confidence * TIE_FACTOR, 2)
        reasons = (*reasons, f"{ties} other open item(s) match the same way")
    return Suggestion(item.id, confidence, confidence_level(confidence), reasons, len(scored) - 1)
