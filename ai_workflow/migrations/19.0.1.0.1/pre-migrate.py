"""A task carries its run's user (its job runs the task's turn as that user without reading the
run): the column is filled in for the tasks made before, ahead of its NOT NULL constraint."""


def migrate(cr, version):
    cr.execute("ALTER TABLE aia_workflow_task ADD COLUMN IF NOT EXISTS user_id int4")
    cr.execute(
        """UPDATE aia_workflow_task task
              SET user_id = run.user_id
             FROM aia_workflow_run run
            WHERE run.id = task.run_id AND task.user_id IS NULL"""
    )
