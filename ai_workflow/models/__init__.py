from . import aia_agent, aia_session, aia_workflow, aia_workflow_run, aia_workflow_step, aia_workflow_task
