"""Turns whose worker stopped: which job has a turn in hand, and how often a turn's jobs failed.

A turn job whose worker died is queued anew by queue_job's runner; one that failed because its
worker lost its database (a shutdown mid-turn) is queued again by its failure hook. Either goes
on with the turn from what it saved (``TurnRunner.recover``).
"""

# Jobs of a turn that may fail so (a shutdown mid-turn) before the turn is given up.
RECOVERY_ATTEMPTS = 3


def jobs_of(record, domain):
    """The queue jobs of ``record`` (one record) matching ``domain``: queue_job stores a job's
    records as JSON text, which SQL cannot search, so they are read through the ORM."""
    jobs = record.env["queue.job"].sudo().search([("model_name", "=", record._name), *domain])
    return jobs.filtered(lambda job: record.id in job.records.ids)


def job_alive(session):
    """Whether another job of ``session`` is started in a live worker: queue_job's lock row of a
    started job stays locked for as long as its worker lives (what its runner reads to queue a
    dead job anew)."""
    started = set(
        jobs_of(
            session, [("state", "=", "started"), ("uuid", "!=", session.env.context.get("job_uuid") or False)]
        ).ids
    )
    if not started:
        return False
    # The lock rows that could be taken are those of dead workers (held until this commits).
    session.env.cr.execute(
        "SELECT queue_job_id FROM queue_job_lock WHERE queue_job_id IN %s FOR NO KEY UPDATE SKIP LOCKED",
        [tuple(started)],
    )
    return bool(started - {job_id for (job_id,) in session.env.cr.fetchall()})


def given_up(record, since):
    """Whether the jobs of ``record`` failed more than RECOVERY_ATTEMPTS times since ``since``
    (the turn's or task's start)."""
    failed = jobs_of(record, [("state", "=", "failed"), ("date_created", ">=", since)])
    return len(failed) > RECOVERY_ATTEMPTS
