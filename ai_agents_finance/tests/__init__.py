from . import test_agent, test_bank, test_ledger, test_reconcile
