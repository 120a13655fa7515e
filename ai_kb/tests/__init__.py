from . import (
    test_adversarial_injection,
    test_indexing_runs,
    test_knowledge,
    test_knowledge_sources,
    test_operations,
    test_safe_fetch,
)
