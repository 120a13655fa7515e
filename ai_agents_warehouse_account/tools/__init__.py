"""The Warehouse agent's tools that need Odoo's Inventory Valuation (stock_account)."""

from . import stock_valuation
