from . import test_timeline_ui, test_workflow, test_workflow_api
