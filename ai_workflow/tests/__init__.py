from . import test_workflow, test_workflow_api
