from . import (
    test_concurrency,
    test_durability,
    test_timeline_ui,
    test_tracing,
    test_workflow,
    test_workflow_api,
)
