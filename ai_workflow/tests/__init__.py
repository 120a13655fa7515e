from . import test_workflow
