from . import (
    test_adversarial_injection,
    test_agent,
    test_bank,
    test_ledger,
    test_receivables,
    test_reconcile,
    test_statements,
)
