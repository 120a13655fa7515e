"""Accepting a user's message: the one door of every channel.

The chat and JSON-2 (``aia.session.post_message`` / ``start``), the REST API and automation all
accept a message here: the kill switch, a session still busy with a turn, what extensions refuse
(budgets: ``aia.session._aia_check_can_start``), the message saved, then the turn queued as a
job, or left for the caller to run in its request (REST). :func:`accept_batch` is the same for
the many new sessions an automation run opens at once.
"""

from odoo.exceptions import UserError
from odoo.tools import str2bool

from odoo.addons.queue_job.utils import must_run_without_delay

from .. import telemetry
from ..ai_engine import Message

ENABLED_PARAM = "aia.agents_enabled"
# A session in these states has a turn running, or waiting for a decision or a deferred call.
BUSY_STATES = ("running", "waiting_approval", "waiting_tool")


class AgentsDisabled(UserError):
    """The kill switch is on: no message is accepted, nothing is lost."""


class SessionBusy(UserError):
    """The session is still busy with a turn."""


class EmptyMessage(UserError):
    """The message has no text."""


def agents_enabled(env):
    """Whether the kill switch (system parameter ``aia.agents_enabled``) lets agents run."""
    return str2bool(env["ir.config_parameter"].sudo().get_param(ENABLED_PARAM, "True"), default=True)


def check_enabled(env):
    if not agents_enabled(env):
        raise AgentsDisabled(env._("AI agents are temporarily unavailable."))


def accept(session, text, *, run_in_request=False):
    """Accept ``text`` on ``session`` and save it; then queue its turn.

    Args:
        session: One session, in the environment of whoever posts (record rules apply).
        text: The user's message.
        run_in_request: The caller runs the turn itself (the REST API, bounded by the turn
            deadline): no job is queued, and the message is committed at once, so a provider
            outage or a lost worker keeps it.

    Returns:
        The saved ``aia.message``.

    Raises:
        AgentsDisabled, EmptyMessage, SessionBusy: as their names say.
        UserError: An extension refuses the turn now (a budget, an automation's caps).
    """
    session.ensure_one()
    env = session.env
    check_enabled(env)
    text = (text or "").strip()
    if not text:
        raise EmptyMessage(env._("The message is empty."))
    if session.state in BUSY_STATES:
        raise SessionBusy(env._("The agent is still working on this session: wait for it or stop it."))
    session._aia_check_can_start()
    values = {"state": "running", "error_message": False}
    if not session.message_ids_aia:
        values["name"] = text[:60]
    session.sudo().write(values)
    message = env["aia.message"].sudo().create(_message_values(session, text))
    if run_in_request:
        session._aia_checkpoint()
    else:
        enqueue_turns(session, message)
    return message


def accept_batch(sessions, texts):
    """Accept one message on each of ``sessions``, new sessions an automation run just opened
    (and named), and queue their turns: the same checks and steps as :func:`accept`, with one
    INSERT of the messages and one flush for all.

    Budgets are not checked here but when each turn starts, as for every turn: a refusal then
    ends that session in an error, never the business operation that fired the automation. A
    text is saved as given, even blank (a prompt template rendering nothing), for the same
    reason: the action's own warnings refuse a blank prompt.

    Returns:
        The saved messages, in the order of ``sessions``.
    """
    env = sessions.env
    check_enabled(env)
    texts = [text or "" for text in texts]
    if len(texts) != len(sessions):
        raise ValueError("accept_batch needs one text per session")
    if any(session.state != "draft" for session in sessions):
        raise SessionBusy(env._("The agent is still working on this session: wait for it or stop it."))
    sessions = sessions.sudo()
    sessions.with_context(tracking_disable=True).write({"state": "running", "error_message": False})
    messages = (
        env["aia.message"]
        .sudo()
        .create([_message_values(session, text) for session, text in zip(sessions, texts, strict=True)])
    )
    enqueue_turns(sessions, messages)
    return messages


def enqueue_turns(sessions, messages):
    """Queue the turn each of ``messages`` opened, one job per session.

    Many jobs (an automation run) are written as queue_job's ``Job.store()`` writes a new job,
    but with one ``create`` for all: ``store()`` first looks each new job up by its uuid, then
    inserts it alone, which made queueing most of an automation run's cost.
    """
    env = sessions.env
    # The jobs run on cursors of their own, maybe before this transaction ends (queue_job's
    # no-delay mode runs them at once): nothing of these sessions may still wait to be written.
    env.flush_all()
    # Each job's span continues the trace that queued it (an API request, a workflow's job).
    trace = telemetry.job_trace()
    delayables = [
        session.delayable(
            channel=session._aia_job_channel(), description=f"AI turn: {session.name}"
        )._aia_job_run_turn(message.id, **trace)
        for session, message in zip(sessions, messages, strict=True)
    ]
    if len(delayables) == 1 or must_run_without_delay(env):
        for delayable in delayables:
            delayable.delay()
        return
    jobs = [delayable._build_job() for delayable in delayables]
    Job = env["queue.job"]
    Job.with_context(_job_edit_sentinel=Job.EDIT_SENTINEL).sudo().create(
        [job._store_values(create=True) for job in jobs]
    )


def enqueue_resume(session, approval):
    """Queue the continuation of ``session``'s turn after a decision on ``approval``."""
    session.sudo().state = "running"
    _continuation(session)._aia_job_resume(approval.id, **telemetry.job_trace())


def enqueue_answer(session, answer):
    """Queue the continuation of ``session``'s turn with ``answer``, the result of the deferred
    call it waits for (an ``ai_engine.ToolAnswer``). The job sets the session running: it may be
    queued before the turn that deferred the call has committed its end."""
    continuation = _continuation(session)
    continuation._aia_job_answer(
        answer.call_id, answer.content, answer.status, str(answer.cost), **telemetry.job_trace()
    )


def enqueue_recovery(session):
    """Queue the recovery of ``session``'s turn, interrupted by a worker that stopped."""
    _continuation(session)._aia_job_recover(**telemetry.job_trace())


def _continuation(session):
    """A delayable of ``session``, as its owner, for the job that continues its turn."""
    session.ensure_one()
    session.env.flush_all()  # as in enqueue_turns
    # The job runs as the session's owner, whoever decided (an approver may not read it).
    owner = session.sudo().user_id
    return (
        session.with_user(owner)
        .sudo(False)
        .with_delay(channel=session._aia_job_channel(), description=f"AI resume: {session.name}")
    )


def _message_values(session, text):
    return {"session_id": session.id, "role": "user", "content": Message.user(text).to_dict()}
