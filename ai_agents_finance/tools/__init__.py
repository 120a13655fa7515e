"""The Finance agent's tools, registered in ai_core's catalogue when this package is imported."""

from . import bank, bills, ledger, receivables, reconcile, reconcile_match, reminders, statements, tax
