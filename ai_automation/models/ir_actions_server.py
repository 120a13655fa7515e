import logging
from decimal import Decimal

from markupsafe import Markup

from odoo import api, fields, models

from odoo.addons.ai_core import turn

from .. import dispatch, record_source
from ..caps import CAP_PARAMS, DEFAULT_CAPS, Caps

_logger = logging.getLogger(__name__)

DEFAULT_CODE = """# Assign the records to run the agent on to `records`, e.g.:
# records = model.search([("create_date", ">=", datetime.datetime.now() - datetime.timedelta(days=1))])
records = model.browse()
"""


class IrActionsServer(models.Model):
    """Run an AI agent from a server action: contextual actions, automation rules, scheduled actions."""

    _inherit = "ir.actions.server"

    state = fields.Selection(selection_add=[("ai_agent", "Run AI Agent")], ondelete={"ai_agent": "cascade"})
    # Not required in the database, only in the form: modules loaded before this one (ai_core's
    # scheduled actions on an upgrade) create server actions that know nothing of these columns.
    aia_agent_id = fields.Many2one("aia.agent", string="Agent", ondelete="restrict", index="btree_not_null")
    aia_prompt = fields.Text(
        string="Prompt",
        translate=True,
        help="What the agent is asked, an inline template: {{ record.name }}, {{ records }}, {{ user }}, "
        "{{ company }}, {{ env }}, {{ ctx }}, {{ today }}, {{ previous_session.last_text }}.",
    )
    aia_dispatch = fields.Selection(
        [("single", "One session for all records"), ("per_record", "One session per record")],
        string="Dispatch",
        default="single",
    )
    aia_record_source = fields.Selection(
        [("domain", "Domain"), ("code", "Python code")],
        string="Records",
        default="domain",
        help="Where the records come from when the action is not run on records (a scheduled action): "
        "records selected in a list, or the record of an automation rule, always come first.",
    )
    aia_domain = fields.Char(string="Domain", default="[]")
    aia_code = fields.Text(
        string="Records code",
        groups="base.group_system",
        default=DEFAULT_CODE,
        help="Python code that assigns a recordset of the action's model to `records`.",
    )
    aia_max_records = fields.Integer(string="Max records per run", default=100, help="0: no limit.")
    aia_chain = fields.Selection(
        [("none", "None"), ("per_record", "Per record")],
        string="Chaining",
        default="none",
        help="Per record: each new session continues from the last session this action started for the "
        "same record (previous_session in the prompt); the caps then apply to the whole chain.",
    )
    aia_max_resumes = fields.Integer(
        string="Max resumes",
        default=DEFAULT_CAPS["max_resumes"],
        help="Sessions a chain may have after its first, plus resumes after approvals. 0: the default "
        "of the Settings.",
    )
    aia_max_lifetime_hours = fields.Integer(
        string="Max lifetime (hours)",
        default=DEFAULT_CAPS["max_lifetime_hours"],
        help="Hours from a chain's first session after which it is not run again. 0: the default of "
        "the Settings.",
    )
    aia_max_tokens = fields.Integer(
        string="Max total tokens",
        default=DEFAULT_CAPS["max_tokens"],
        help="Tokens a chain may use in all. 0: the default of the Settings.",
    )
    aia_currency_id = fields.Many2one("res.currency", compute="_compute_aia_currency_id")
    aia_max_cost = fields.Monetary(
        string="Max cost",
        currency_field="aia_currency_id",
        default=DEFAULT_CAPS["max_cost"],
        help="What a chain may cost in all, in the company's currency. 0: the default of the Settings.",
    )
    aia_source_error = fields.Text(
        string="Record source error",
        compute="_compute_aia_source_error",
        store=True,
        readonly=True,
        help="Why the record source selected nothing on its last run; cleared when it is edited.",
    )
    aia_session_count = fields.Integer(string="AI sessions", compute="_compute_aia_session_count")

    # === COMPUTES === #

    def _compute_aia_currency_id(self):
        self.aia_currency_id = self.env.company.currency_id

    @api.depends("aia_record_source", "aia_domain", "aia_code", "model_id")
    def _compute_aia_source_error(self):
        self.aia_source_error = False

    def _compute_aia_session_count(self):
        counts = dict(
            self.env["aia.session"]
            .sudo()
            ._read_group([("aia_action_id", "in", self.ids)], ["aia_action_id"], ["__count"])
        )
        for action in self:
            action.aia_session_count = counts.get(action, 0)

    @api.model
    def _warning_depends(self):
        return [
            *super()._warning_depends(),
            "aia_agent_id",
            "aia_agent_id.active",
            "aia_prompt",
            "aia_record_source",
            "aia_domain",
            "aia_code",
            "aia_source_error",
            "aia_max_records",
            "aia_max_resumes",
            "aia_max_lifetime_hours",
            "aia_max_tokens",
            "aia_max_cost",
            "create_uid",
        ]

    def _get_warning_messages(self):
        self.ensure_one()
        warnings = super()._get_warning_messages()
        if self.state == "ai_agent":
            warnings += self._aia_blocking_warnings() + self._aia_source_warnings()
        return warnings

    def _generate_action_name(self):
        self.ensure_one()
        if self.state == "ai_agent" and self.aia_agent_id:
            return self.env._("Run %(agent)s", agent=self.aia_agent_id.name)
        return super()._generate_action_name()

    def _name_depends(self):
        return [*super()._name_depends(), "aia_agent_id"]

    # === ACTIONS === #

    def action_aia_open_sessions(self):
        self.ensure_one()
        return self.env["aia.session"]._aia_list_action([("aia_action_id", "=", self.id)])

    # === RUNNERS === #

    def _run(self, records, eval_context):
        if self.state != "ai_agent":
            return super()._run(records, eval_context)
        # Odoo refuses to run an action with warnings by raising, which would undo the business
        # operation that triggered it (a record saved under an automation rule, a scheduled action).
        # An AI run never blocks it: the run is skipped and says why. A broken record source only
        # selects no record: the action still runs on the records it is given.
        blockers = self._aia_run_blockers()
        if blockers:
            return self._aia_skip_run(records, blockers)
        runner, _multi = self._get_runner()
        return runner(self.with_context(**eval_context["env"].context), eval_context=eval_context) or False

    def _run_action_ai_agent_multi(self, eval_context=None):
        """Start the agent's sessions, one per record or one for all, each in its own queue job.

        Returns a notification for whoever fired the action: how many sessions started, and why
        some or all did not.
        """
        eval_context = eval_context or {}
        if not self.aia_agent_id or self._is_recompute():
            return False
        if not turn.agents_enabled(self.env):
            _logger.warning("server action %s: AI agents are disabled, no session started", self.id)
            return self._aia_notification(
                self.env._("AI agents are temporarily unavailable: no AI session started."), "warning"
            )
        model = self.env[self.model_id.model]
        records = eval_context.get("records") or eval_context.get("record") or model
        from_source = not records
        if from_source:
            records = record_source.source_records(self, eval_context)
        if self.aia_max_records:
            records = records[: self.aia_max_records]
        if not records:
            if from_source and self.aia_source_error:
                message = self.env._(
                    "No AI session started: the record source failed: %(error)s", error=self.aia_source_error
                )
            else:
                message = self.env._("No AI session started: the record source selected no record.")
            return self._aia_notification(message, "warning")
        sessions, stopped = self._aia_fire(records)
        if not stopped:
            return self._aia_notification(
                self.env._("%(count)s AI sessions started: they run in the background.", count=len(sessions))
            )
        reasons = list(dict.fromkeys(stopped.values()))
        reasons = " ".join(reasons[:3]) + (" …" if len(reasons) > 3 else "")
        if not sessions:
            message = self.env._(
                "No AI session started: the action did not continue the chains at their caps. %(reasons)s",
                reasons=reasons,
            )
        else:
            message = self.env._(
                "%(count)s AI sessions started: they run in the background. %(stopped)s not started, "
                "their chains are at their caps: %(reasons)s",
                count=len(sessions),
                stopped=len(stopped),
                reasons=reasons,
            )
        return self._aia_notification(message, "warning")

    # === BUSINESS METHODS === #

    def _aia_run_blockers(self):
        """The action's warnings that keep it from running: all of them but the record source's."""
        self.ensure_one()
        source = set(self._aia_source_warnings())
        return [warning for warning in self._get_warning_messages() if warning not in source]

    def _aia_skip_run(self, records, reasons):
        """Skip a run the action's warnings forbid, without failing what triggered it.

        The records it was given get a note saying why in their chatter; whoever fired the action
        by hand gets the same in a notification. The warnings stay on the action for its
        administrator.
        """
        self.ensure_one()
        if self._is_recompute():
            return False
        # Only saved records (an onchange gives new ones), and no more than a run would take.
        records = records.filtered(lambda record: isinstance(record.id, int))
        if self.aia_max_records > 0:
            records = records[: self.aia_max_records]
        _logger.warning(
            "server action %s has warnings: AI run skipped on %s record(s) of %s",
            self.id,
            len(records),
            self.model_id.model,
        )
        head = self.env._("AI run skipped: %(action)s has warnings to fix first.", action=self.name)
        if records and hasattr(records, "_message_log_batch"):
            body = Markup("%s<br/>%s") % (head, Markup("<br/>").join(reasons))
            records.sudo()._message_log_batch(
                dict.fromkeys(records.ids, body), author_id=self.env.ref("base.partner_root").id
            )
        return self._aia_notification(f"{head} {' '.join(reasons)}", "warning")

    def _aia_notification(self, message, kind="info"):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": kind, "message": message},
        }

    def _aia_blocking_warnings(self):
        """Configuration problems of this action that keep it from running."""
        self.ensure_one()
        warnings = []
        if not self.aia_agent_id:
            warnings.append(self.env._("Choose the agent this action runs."))
        elif not self.aia_agent_id.active:
            warnings.append(self.env._("The agent %(agent)s is archived.", agent=self.aia_agent_id.name))
        if self.model_id.transient:
            warnings.append(self.env._("An AI agent cannot run on a transient model."))
        if not (self.aia_prompt or "").strip():
            warnings.append(self.env._("Write the prompt the agent receives."))
        numbers = (
            self.aia_max_records,
            self.aia_max_resumes,
            self.aia_max_lifetime_hours,
            self.aia_max_tokens,
            self.aia_max_cost,
        )
        if any(number < 0 for number in numbers):
            warnings.append(self.env._("Limits and caps cannot be negative (0 means none or the default)."))
        user = self._aia_run_as()[0]
        if not user.has_group("ai_core.group_aia_user"):
            warnings.append(
                self.env._(
                    "Sessions of this action run as %(user)s, who is not in the AI User group.",
                    user=user.name,
                )
            )
        return warnings

    def _aia_source_warnings(self):
        """Problems of the record source: it then selects no record, the action still runs."""
        self.ensure_one()
        error = record_source.source_error(self)
        warnings = [error] if error else []
        if self.aia_source_error:
            warnings.append(
                self.env._(
                    "The record source failed on its last run and selected no record: %(error)s",
                    error=self.aia_source_error,
                )
            )
        return warnings

    def _aia_run_as(self):
        """The user the sessions run as: the action's creator, the administrator when archived.

        Returns:
            (user, note): ``note`` says why the administrator stands in, False otherwise.
        """
        creator = self.sudo().create_uid
        if creator.active:
            return creator, False
        admin = self.env.ref("base.user_admin").sudo()
        return admin, self.env._(
            "%(creator)s, who created the action %(action)s, is archived: this session runs as %(admin)s.",
            creator=creator.name,
            action=self.name,
            admin=admin.name,
        )

    def _aia_caps(self):
        """The action's caps, its zeros replaced by the Settings' defaults: a chain is always capped."""
        self.ensure_one()
        params = self.env["ir.config_parameter"].sudo()

        def cap(name, value, cast):
            if value > 0:
                return cast(value)
            try:
                default = cast(params.get_param(CAP_PARAMS[name]) or 0)
            except (ValueError, ArithmeticError):
                default = 0
            return default if default > 0 else cast(DEFAULT_CAPS[name])

        return Caps(
            max_resumes=cap("max_resumes", self.aia_max_resumes, int),
            max_lifetime_hours=cap("max_lifetime_hours", self.aia_max_lifetime_hours, int),
            max_tokens=cap("max_tokens", self.aia_max_tokens, int),
            max_cost=cap("max_cost", self.aia_max_cost, lambda value: Decimal(str(value))),
        )

    def _aia_fire(self, records):
        """Start the sessions of one run on ``records`` (not empty): see :mod:`..dispatch`.

        Returns:
            (sessions, stopped): the sessions started, and {latest session of a chain not
            continued: why} for the chains at their caps.
        """
        return dispatch.fire(self, records)
