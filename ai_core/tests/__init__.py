from . import (
    test_adversarial,
    test_adversarial_injection,
    test_adversarial_tools,
    test_api,
    test_chat_ui,
    test_http_tools,
    test_limits,
    test_operations,
    test_provider,
    test_safe_fetch,
    test_security,
    test_turn,
)
