"""The Warehouse agent's tools: read-only, run as the session's user in the session's company."""

from . import (
    inventory_turnover,
    pending_deliveries,
    pending_receipts,
    reorder_alerts,
    slow_moving,
    stock_forecast,
    stock_levels,
)
