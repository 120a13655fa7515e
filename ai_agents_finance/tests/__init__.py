from . import (
    test_adversarial_injection,
    test_agent,
    test_bank,
    test_draft_vendor_bill,
    test_ledger,
    test_receivables,
    test_reconcile,
    test_reconcile_match,
    test_send_payment_reminder,
    test_statements,
)
