from . import test_workflow_action
