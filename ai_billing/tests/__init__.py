from . import test_api, test_budget, test_invoice, test_security, test_statement, test_ui
