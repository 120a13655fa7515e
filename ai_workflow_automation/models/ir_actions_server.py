import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.rendering_tools import parse_inline_template

from odoo.addons.ai_automation import prompt
from odoo.addons.ai_core import turn

_logger = logging.getLogger(__name__)


class IrActionsServer(models.Model):
    """A server action that starts a workflow run on each record it runs on (or one run when it
    runs on none), as the action's user, its question rendered from the record like the prompt
    of "Run AI Agent"."""

    _inherit = "ir.actions.server"

    state = fields.Selection(
        selection_add=[("ai_workflow", "Run AI Workflow")], ondelete={"ai_workflow": "cascade"}
    )
    aia_workflow_id = fields.Many2one("aia.workflow", string="Workflow", ondelete="restrict")

    @api.model
    def _warning_depends(self):
        return [*super()._warning_depends(), "aia_workflow_id", "aia_workflow_id.active"]

    def _get_warning_messages(self):
        self.ensure_one()
        warnings = super()._get_warning_messages()
        if self.state == "ai_workflow" and not (self.aia_workflow_id and self.aia_workflow_id.active):
            warnings.append(self.env._("Choose an active workflow for the action to run."))
        if self.state == "ai_workflow" and not (self.aia_prompt or "").strip():
            warnings.append(self.env._("Write the question the workflow works out."))
        return warnings

    def _generate_action_name(self):
        self.ensure_one()
        if self.state == "ai_workflow" and self.aia_workflow_id:
            return self.env._("Run %(workflow)s", workflow=self.aia_workflow_id.name)
        return super()._generate_action_name()

    def _name_depends(self):
        return [*super()._name_depends(), "aia_workflow_id"]

    def _run_action_ai_workflow_multi(self, eval_context=None):
        """Start one run per record (at most the action's max records), each a queue of jobs;
        returns a notification for whoever fired the action."""
        eval_context = eval_context or {}
        if not self.aia_workflow_id or self._is_recompute():
            return False
        if not turn.agents_enabled(self.env):
            return self._aia_notification(
                self.env._("AI agents are temporarily unavailable: no workflow run started."), "warning"
            )
        records = eval_context.get("records") or eval_context.get("record") or self.env[self.model_id.model]
        records = records.filtered(lambda record: isinstance(record.id, int))
        if self.aia_max_records:
            records = records[: self.aia_max_records]
        user, _note = self._aia_run_as()
        runs = self.env["aia.workflow.run"]
        for record in records or [records]:
            try:
                runs |= self._aia_start_workflow_run(user, record)
            except (AccessError, UserError) as exc:
                _logger.warning("server action %s: no workflow run started: %s", self.id, exc)
                return self._aia_notification(
                    self.env._("No workflow run started: %(error)s", error=prompt.error_text(exc)), "warning"
                )
        return self._aia_notification(
            self.env._("%(count)s workflow runs started: they run in the background.", count=len(runs))
        )

    def _aia_start_workflow_run(self, user, record):
        """A run of the action's workflow as ``user``, on ``record`` (maybe empty), in the
        record's company when it has one. A question that does not render is asked as written,
        and the run says why in its chatter."""
        company = user.company_id
        if "company_id" in record and record[:1].company_id:
            company = record[:1].company_id
        context = dict(self.env.context, lang=user.lang, allowed_company_ids=company.ids)
        env = self.env(user=user.id, su=False, context=context)
        self.aia_workflow_id.with_env(env)._aia_check_can_run()
        template = self.with_context(lang=user.lang).aia_prompt or ""
        try:
            question, error = (
                prompt.render_wrapped(
                    parse_inline_template(template), prompt.template_variables(env, record)
                ),
                None,
            )
        except Exception as exc:  # noqa: BLE001 - a broken template is asked as written, and said
            question, error = template, prompt.error_text(exc)
        run = env["aia.workflow.run"].create({"workflow_id": self.aia_workflow_id.id, "question": question})
        if record:
            run.sudo().write({"res_model": record._name, "res_id": record.id})
        if error:
            _logger.warning(
                "server action %s: the question of run %s did not render: %s", self.id, run.id, error
            )
            run.sudo().message_post(
                body=self.env._(
                    "The question did not render, it was asked as written: %(error)s", error=error
                )
            )
        run.action_start()
        return run
