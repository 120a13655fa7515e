import logging
from datetime import timedelta
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import AccessError, MissingError, UserError

from ..caps import ChainStats, stop_reason

_logger = logging.getLogger(__name__)

# Bus channel of a record's linked sessions: a subscriber must be able to read the record (see
# ir.websocket), and the notification only says "reload", never what changed.
RECORD_CHANNEL_PREFIX = "aia-record-"
RECORD_BUS_TYPE = "aia.record/sessions"
CHATTER_LIMIT = 10


def record_channel(res_model, res_id):
    return f"{RECORD_CHANNEL_PREFIX}{res_model}_{res_id}"


class AiaSession(models.Model):
    _inherit = "aia.session"

    aia_action_id = fields.Many2one(
        "ir.actions.server",
        string="Started by action",
        ondelete="set null",
        index="btree_not_null",
        readonly=True,
    )
    aia_action_name = fields.Char(related="aia_action_id.name", string="Action")
    aia_chain_root_id = fields.Many2one(
        "aia.session",
        string="First session of the chain",
        ondelete="set null",
        index="btree_not_null",
        readonly=True,
    )
    aia_stop_reason = fields.Char(
        string="Chain stopped", readonly=True, help="Why the action did not continue this chain."
    )

    # === CRUD === #

    @api.model_create_multi
    def create(self, vals_list):
        sessions = super().create(vals_list)
        sessions._aia_notify_records()
        return sessions

    def write(self, vals):
        result = super().write(vals)
        if {"state", "name", "res_model", "res_id"} & set(vals):
            self._aia_notify_records()
        return result

    # === PUBLIC API (chatter box) === #

    @api.model
    def aia_record_sessions(self, res_model, res_id, limit=CHATTER_LIMIT):
        """The sessions linked to a record, for whoever may read the record: newest first.

        Rows carry no transcript; ``can_open`` says whether the user may open the session (its
        owner or an AI operator), ``is_mine`` whether it opens in the chat.
        """
        if res_model not in self.env or not isinstance(res_id, int):
            raise UserError(self.env._("Unknown record."))
        record = self.env[res_model].browse(res_id)
        try:
            record.check_access("read")
        except MissingError:
            return {"total": 0, "sessions": [], "can_view_all": False}
        domain = [
            ("res_model", "=", res_model),
            ("res_id", "=", res_id),
            ("company_id", "in", self.env.user.company_ids.ids),
        ]
        Session = self.sudo()
        total = Session.search_count(domain)
        sessions = Session.search(domain, limit=min(int(limit), CHATTER_LIMIT), order="id desc")
        user = self.env.user
        operator = user.has_group("ai_core.group_aia_operator")
        return {
            "total": total,
            "can_view_all": user.has_group("ai_core.group_aia_user"),
            "sessions": [
                {
                    "id": session.id,
                    # Automation sessions are named after their action and record; others after
                    # their first message, which only who may read the transcript sees.
                    "name": session.name
                    if session.user_id == user or operator or session.aia_action_id
                    else session.agent_id.name,
                    "agent": session.agent_id.name,
                    "state": session.state,
                    "date": fields.Datetime.to_string(session.create_date),
                    "is_mine": session.user_id == user,
                    "can_open": session.user_id == user or operator,
                }
                for session in sessions
            ],
        }

    # === BUSINESS METHODS === #

    def _aia_check_can_start(self):
        """Automation caps: a chain past its lifetime, resumes, tokens or cost runs no more turns."""
        result = super()._aia_check_can_start()
        for session in self.sudo().filtered("aia_action_id"):
            reason = session._aia_chain_stop_reason()
            if reason:
                raise UserError(reason)
        return result

    def _aia_limits(self):
        """What is left of the action's caps bounds the engine, before every provider call."""
        limits = super()._aia_limits()
        session = self.sudo()
        action = session.aia_action_id
        if not action:
            return limits
        caps = action._aia_caps()
        root = session.aia_chain_root_id or session
        stats = session._aia_chain_stats(root)[root.id]
        bounds = {}
        if caps.max_tokens:
            # The engine adds this session's own tokens: give it the cap less the others'.
            bounds["max_session_tokens"] = caps.max_tokens - (stats.tokens - session.total_tokens)
        if caps.max_cost:
            own = session._aia_cost_in_company_currency(Decimal(str(session.total_cost)))
            bounds["max_session_cost"] = session._aia_cost_from_company_currency(
                caps.max_cost - (stats.cost - own)
            )
        if caps.max_lifetime_hours:
            ends = stats.started + timedelta(hours=caps.max_lifetime_hours)
            bounds["turn_deadline"] = max((ends - self.env.cr.now()).total_seconds(), 0.001)
        return limits.tightened(**bounds)

    def _aia_chain_stop_reason(self):
        self.ensure_one()
        root = self.aia_chain_root_id or self
        stats = self._aia_chain_stats(root)[root.id]
        return stop_reason(self.env, self.aia_action_id._aia_caps(), stats, self.env.cr.now(), firing=False)

    @api.model
    def _aia_chain_stats(self, roots):
        """{root id: ChainStats} of the chains starting at ``roots``, in a few grouped queries."""
        Session = self.env["aia.session"].sudo()
        roots = Session.browse(roots.ids)
        members = {
            root.id: (count, tokens or 0, cost or 0.0)
            for root, count, tokens, cost in Session._read_group(
                [("aia_chain_root_id", "in", roots.ids)],
                ["aia_chain_root_id"],
                ["__count", "total_tokens:sum", "total_cost:sum"],
            )
        }
        decided = (
            self.env["aia.approval"]
            .sudo()
            ._read_group(
                [
                    ("state", "in", ("approved", "rejected")),
                    "|",
                    ("session_id", "in", roots.ids),
                    ("session_id.aia_chain_root_id", "in", roots.ids),
                ],
                ["session_id"],
                ["__count"],
            )
        )
        approvals = dict.fromkeys(roots.ids, 0)
        for session, count in decided:
            approvals[(session.aia_chain_root_id or session).id] += count
        stats = {}
        for root in roots:
            count, tokens, cost = members.get(root.id, (0, 0, 0.0))
            total_cost = Decimal(str(root.total_cost)) + Decimal(str(cost))
            stats[root.id] = ChainStats(
                started=root.create_date,
                sessions=1 + count,
                approvals=approvals[root.id],
                tokens=root.total_tokens + tokens,
                cost=root._aia_cost_in_company_currency(total_cost),
            )
        return stats

    def _aia_cost_currency(self):
        """The currency costs are counted in: the agent's model's (prices are set in it)."""
        self.ensure_one()
        try:
            return self.agent_id.sudo()._aia_primary_model().currency_id or self.company_id.currency_id
        except UserError:
            return self.company_id.currency_id

    def _aia_cost_in_company_currency(self, amount):
        self.ensure_one()
        return self._aia_convert_cost(amount, self._aia_cost_currency(), self.company_id.currency_id)

    def _aia_cost_from_company_currency(self, amount):
        self.ensure_one()
        return self._aia_convert_cost(amount, self.company_id.currency_id, self._aia_cost_currency())

    def _aia_convert_cost(self, amount, source, target):
        if source == target or not amount:
            return amount
        converted = source._convert(float(amount), target, self.company_id, fields.Date.today(), round=False)
        return Decimal(str(converted))

    def _aia_notify_records(self):
        """Tell the chatter boxes of the linked records to reload (once per record and transaction)."""
        sent = self.env.cr.precommit.data.setdefault("ai_automation.notified_records", set())
        bus = self.env["bus.bus"].sudo()
        for session in self:
            key = (session.res_model, session.res_id)
            if not session.res_model or not session.res_id or key in sent:
                continue
            sent.add(key)
            bus._sendone(record_channel(*key), RECORD_BUS_TYPE, {"res_model": key[0], "res_id": key[1]})

    @api.model
    def _aia_can_subscribe(self, channel):
        """Whether the current user may follow ``channel``, a record channel: they read the record."""
        res_model, _sep, res_id = channel[len(RECORD_CHANNEL_PREFIX) :].rpartition("_")
        if res_model not in self.env or not res_id.isdigit():
            return False
        record = self.env[res_model].browse(int(res_id))
        try:
            return bool(record.exists()) and record.has_access("read")
        except AccessError:
            return False
