"""Pure helpers of the finance tools: date ranges, period buckets, statement matching.

Plain Python with no ``odoo`` import, so the pure tier tests them without a database. The tool
handlers turn :class:`FinanceInputError` into the engine's ``ToolInputError``.
"""

from __future__ import annotations

from .matching import (
    MIN_CONFIDENCE,
    OpenItem,
    StatementLine,
    Suggestion,
    confidence_level,
    normalize_reference,
    score,
    suggest,
)
from .periods import (
    GRANULARITIES,
    FinanceInputError,
    bucket_end,
    bucket_start,
    bucket_starts,
    cash_flow_rows,
    parse_date,
    parse_range,
)

__all__ = [
    "GRANULARITIES",
    "MIN_CONFIDENCE",
    "FinanceInputError",
    "OpenItem",
    "StatementLine",
    "Suggestion",
    "bucket_end",
    "bucket_start",
    "bucket_starts",
    "cash_flow_rows",
    "confidence_level",
    "normalize_reference",
    "parse_date",
    "parse_range",
    "score",
    "suggest",
]
