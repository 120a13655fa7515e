"""Dispatch: the sessions one run of a "Run AI Agent" action opens.

One session per record or one for all; chains continued per record when the action chains, and
not continued past their caps; the prompt rendered for each session; the messages accepted by
the turn service's batch form (:func:`ai_core.turn.accept_batch`), each turn a queue job; a note
in each linked record's chatter.
"""

import logging

from markupsafe import Markup

from odoo.fields import Domain

from odoo.addons.ai_core import turn

from . import prompt
from .caps import stop_reason

_logger = logging.getLogger(__name__)


def fire(action, records):
    """Start the sessions of one run on ``records`` (not empty).

    Everything happens in this transaction but the turns: each session's first turn is a queue
    job on ``root.aia.automation``, so no provider is called before this transaction commits.

    Returns:
        (sessions, stopped): the sessions started, and {latest session of a chain not
        continued: why} for the chains at their caps.
    """
    action.ensure_one()
    action = action.sudo()
    user, run_as_note = action._aia_run_as()
    groups = [records[index : index + 1] for index in range(len(records))]
    if action.aia_dispatch != "per_record":
        groups = [records]
    previous = _previous_sessions(action, records, groups)
    blocked = _blocked_chains(action, previous)
    Session = action.env["aia.session"].sudo()
    vals_list, kept, stopped = [], [], {}
    for group in groups:
        last = previous.get(_chain_key(group))
        if last and last.id in blocked:
            _record_stop(action, last, blocked[last.id])
            stopped[last] = blocked[last.id]
            continue
        kept.append((group, last))
        vals_list.append(_session_values(action, group, last, user))
    if not vals_list:
        return Session, stopped
    sessions = Session.with_context(
        tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True
    ).create(vals_list)
    template = action.with_context(lang=user.lang).aia_prompt
    texts = [
        prompt.render_prompt(action, session, template, group, last)
        for session, (group, last) in zip(sessions, kept, strict=True)
    ]
    # The turn service's batch form: one INSERT of the messages, one flush, a job per session.
    turn.accept_batch(sessions, texts)
    if run_as_note:
        for session in sessions:
            session._message_log(body=run_as_note)
    _post_record_notes(action, sessions)
    return sessions, stopped


def _previous_sessions(action, records, groups):
    """The latest session of each chain these groups continue: {chain key: session}."""
    if action.aia_chain != "per_record":
        return {}
    Session = action.env["aia.session"].sudo()
    domain = [("aia_action_id", "=", action.id), ("res_model", "=", records._name)]
    linked_ids = [group.id for group in groups if len(group) == 1]
    res_ids = []
    if linked_ids:
        res_ids.append(Domain("res_id", "in", linked_ids))
    if any(len(group) != 1 for group in groups):
        res_ids.append(Domain("res_id", "=", False))
    latest = Session._read_group(Domain.AND([Domain(domain), Domain.OR(res_ids)]), ["res_id"], ["id:max"])
    return {res_id or False: Session.browse(last_id) for res_id, last_id in latest}


def _blocked_chains(action, previous):
    """{id of a chain's latest session: why the chain may not go on} for the chains at a cap."""
    if not previous:
        return {}
    caps = action._aia_caps()
    lasts = action.env["aia.session"].sudo().browse([session.id for session in previous.values()])
    roots = lasts.mapped(lambda session: session.aia_chain_root_id or session)
    stats = lasts._aia_chain_stats(roots)
    now = action.env.cr.now()
    blocked = {}
    for last in lasts:
        root = last.aia_chain_root_id or last
        reason = stop_reason(action.env, caps, stats[root.id], now, firing=True)
        if reason:
            blocked[last.id] = reason
    return blocked


def _record_stop(action, last, reason):
    """Say once on the chain's latest session why the action did not continue it."""
    _logger.info("server action %s: chain of session %s not continued: %s", action.id, last.id, reason)
    if last.aia_stop_reason != reason:
        last.aia_stop_reason = reason
        last._message_log(
            body=action.env._(
                "%(action)s did not continue this chain: %(reason)s", action=action.name, reason=reason
            )
        )


def _session_values(action, group, last, user):
    record = group if len(group) == 1 else group.browse()
    company = user.company_id
    if record and "company_id" in record._fields:
        record_company = record.sudo().company_id
        if record_company and record_company in user.company_ids:
            company = record_company
    name = f"{action.name}: {record.display_name}" if record else action.name
    return {
        "name": name[:200],
        "agent_id": action.aia_agent_id.id,
        "user_id": user.id,
        "company_id": company.id,
        "channel": "automation",
        "res_model": group._name,
        "res_id": record.id or False,
        "previous_session_id": last.id if last else False,
        "aia_chain_root_id": (last.aia_chain_root_id or last).id if last else False,
        "aia_action_id": action.id,
    }


def _post_record_notes(action, sessions):
    """An internal note in the chatter of each linked record, linking back to its session."""
    linked = sessions.filtered(lambda session: session.res_model and session.res_id)
    for res_model in set(linked.mapped("res_model")):
        Model = action.env[res_model]
        if not hasattr(Model, "_message_log_batch"):
            continue  # no chatter on this model
        bodies = {
            session.res_id: Markup("%s %s")
            % (
                action.env._("AI session started by %(action)s:", action=action.name),
                session._get_html_link(title=session.name),
            )
            for session in linked.filtered(lambda s, res_model=res_model: s.res_model == res_model)
        }
        Model.browse(list(bodies)).sudo()._message_log_batch(
            bodies, author_id=sessions[:1].user_id.partner_id.id
        )


def _chain_key(group):
    return group.id if len(group) == 1 else False
