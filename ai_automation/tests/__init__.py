from . import (
    test_adversarial,
    test_adversarial_injection,
    test_caps,
    test_chatter,
    test_chatter_ui,
    test_fire,
    test_triggers,
)
