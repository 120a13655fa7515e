"""The Warehouse agent's tools: read-only, run as the session's user in the session's company."""

from . import pending_receipts, reorder_alerts, slow_moving, stock_levels
