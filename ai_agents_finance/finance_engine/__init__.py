"""Pure helpers of the finance tools: date ranges, period buckets, statement matching, the shapes
of the financial reports.

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
from .reports import (
    AGING_BUCKETS,
    BALANCE_SHEET,
    COMPARISONS,
    PROFIT_AND_LOSS,
    PROFIT_AND_LOSS_TYPES,
    AgingBucket,
    Section,
    aging_bucket,
    comparison_range,
    profit_figures,
    statement_sections,
)

__all__ = [
    "AGING_BUCKETS",
    "BALANCE_SHEET",
    "COMPARISONS",
    "GRANULARITIES",
    "MIN_CONFIDENCE",
    "PROFIT_AND_LOSS",
    "PROFIT_AND_LOSS_TYPES",
    "AgingBucket",
    "FinanceInputError",
    "OpenItem",
    "StatementLine",
    "Section",
    "Suggestion",
    "aging_bucket",
    "bucket_end",
    "bucket_start",
    "bucket_starts",
    "cash_flow_rows",
    "comparison_range",
    "confidence_level",
    "normalize_reference",
    "parse_date",
    "parse_range",
    "profit_figures",
    "score",
    "statement_sections",
    "suggest",
]
