"""The Finance agent's tools, registered in ai_core's catalogue when this package is imported."""

from . import bank, ledger, receivables, reconcile, statements, tax
