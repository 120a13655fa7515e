from . import test_provider, test_security, test_turn
