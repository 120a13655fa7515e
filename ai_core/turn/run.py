"""Running a turn of a session: the engine's loop with the recorder as its sink."""

import logging

from odoo.exceptions import UserError

from .. import telemetry
from ..ai_engine import Done
from .recorder import TurnRecorder

_logger = logging.getLogger(__name__)


def run_turn(session, user_message=None, decision=None, recover=False, trace_parent=None, transcript=None):
    """Run one turn of ``session`` and persist it as it goes; yields each engine event.

    ``user_message`` starts a turn, ``decision`` resumes a stopped one, ``recover`` goes on with
    one whose run was interrupted (see ``TurnRunner.recover``).

    The turn runs as the session's user in the session's company, whoever triggered it (an
    approver resuming it, a job runner). Failures end in a clear session state; the user's
    message, saved before, is never lost. The turn stops at the first flush of its events after
    the session was cancelled.

    The turn's span is a child of ``trace_parent`` (an OpenTelemetry context; None: the context
    current when the turn starts); its trace id is stored on the session (``trace_id``).

    ``transcript``: what ``session._aia_transcript()`` gives, when the caller read it already in
    this transaction (a job checking what the turn waits for); else it is read here.
    """
    session.ensure_one()
    own = session.with_user(session.user_id).with_company(session.company_id).sudo(False)
    recorder = TurnRecorder(own)
    if not session._aia_enabled():
        recorder.fail(session.env._("AI agents are temporarily unavailable."))
        return
    try:
        own._aia_check_can_start()
    except UserError as exc:
        recorder.fail(exc.args[0])
        return
    telemetry.ensure_configured()
    try:
        runner = own._aia_runner(recorder, resuming=decision is not None or recover)
        runner.trace_parent = trace_parent
        transcript = dict(own._aia_transcript() if transcript is None else transcript)
        summary = session.sudo().summary or None
        if recover:
            turn = runner.recover(list(transcript.values()), summary=summary)
        elif decision is not None:
            turn = runner.resume(list(transcript.values()), decision, summary=summary)
        else:
            # The user message was saved before the turn: the transcript read holds it.
            asked = transcript.pop(user_message.id, None) or user_message._aia_engine_message()
            turn = runner.run(list(transcript.values()), asked, summary=summary)
    except Exception as exc:
        _logger.warning("session %s: turn could not start: %s", session.id, type(exc).__name__, exc_info=True)
        recorder.fail(str(exc))
        return
    history_ids = list(transcript)
    events = iter(turn)
    remembered = traced = False
    try:
        for event in events:
            if not traced:
                traced = True
                if turn.trace_id:
                    # Written with the recorder's next write of the session, no statement of its own.
                    own.sudo().trace_id = turn.trace_id
            if turn.summary is not None and not remembered:
                # Saved with the summary call's usage, which the next event records.
                remembered = True
                session.sudo().write(
                    {"summary": turn.summary, "summary_message_id": history_ids[turn.summarized - 1]}
                )
            recorder.record(event)
            yield event
            # After the turn's end, its state written, there is nothing left to stop.
            if not isinstance(event, Done) and recorder.cancelled():
                events.close()
                recorder.finish_cancelled()
                return
    except Exception as exc:  # nothing may leave a session stuck in "running"
        _logger.exception("session %s: turn failed", session.id)
        recorder.fail(str(exc))
