"""The bus notifier: a turn's events pushed to the session owner's browser."""

BUS_TYPE = "aia.session/events"


def notify(session, events):
    """Push ``events`` to the browser of ``session``'s owner when the transaction commits.

    A turn commits each flush of its events (:meth:`TurnRecorder.flush`), so the browser sees them
    while the job runs, not at its end.
    """
    session.ensure_one()
    payload = {"session_id": session.id, "events": events}
    session.env["bus.bus"].sudo()._sendone(session.sudo().user_partner_id, BUS_TYPE, payload)
