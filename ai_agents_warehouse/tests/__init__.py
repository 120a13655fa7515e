from . import (
    test_adversarial_injection,
    test_agent,
    test_inventory_turnover,
    test_pending_deliveries,
    test_pending_receipts,
    test_reorder_alerts,
    test_slow_moving,
    test_stock_forecast,
    test_stock_levels,
)
