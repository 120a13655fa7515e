from . import test_agent, test_reorder_rfqs, test_snooze_orderpoint
