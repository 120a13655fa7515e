from . import test_chat_ui, test_provider, test_security, test_turn
