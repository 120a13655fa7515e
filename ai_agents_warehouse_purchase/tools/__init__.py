"""The Warehouse agent's write tools on Odoo's Replenishment that need Purchase (purchase_stock)."""

from . import reorder_rfqs, snooze_orderpoint
