from . import test_stock_valuation
