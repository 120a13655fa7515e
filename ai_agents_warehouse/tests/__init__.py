from . import (
    test_adversarial_injection,
    test_agent,
    test_pending_receipts,
    test_reorder_alerts,
    test_slow_moving,
    test_stock_levels,
)
