import re

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, ValidationError

# Kinds of step that an agent does (the others: approval, a human's).
AGENT_KINDS = ("plan", "execute", "review", "synthesize")
# A code that names the tool workflow.<code> (a provider tool name: 64 characters at most) and a URL.
WORKFLOW_CODE = re.compile(r"^[a-zA-Z0-9_-]{1,55}$")


def columns(model):
    """The fields of ``model`` that a read fetches with its row."""
    return [f for f in model._fields.values() if f.store and f.column_type and f.prefetch is True]


class AiaWorkflow(models.Model):
    _name = "aia.workflow"
    _description = "AI Workflow"
    # Its code, name and description make the tool workflow.<code> of the agents that may run it.
    _inherit = ["aia.setup.mixin"]
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="How JSON-2 and the API name the workflow.")
    description = fields.Text(translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        default=lambda self: self.env.company,
        index=True,
        help="Empty: shared by every company (each run works in the company it is started in).",
    )
    step_ids = fields.One2many("aia.workflow.step", "workflow_id", string="Steps", copy=True)
    group_ids = fields.Many2many(
        "res.groups", string="Allowed groups", help="Who may run it; empty: every AI user of the company."
    )
    # Caps of a whole run, all its steps' sessions together (0: no cap).
    max_tokens = fields.Integer("Max tokens per run", default=1_000_000)
    max_cost = fields.Float("Max cost per run", digits=(16, 6), default=10.0, help="0: no cap")
    max_tasks = fields.Integer(
        "Max agent tasks per run", default=20, help="Plan, execute, review and synthesis tasks."
    )
    max_minutes = fields.Integer("Max minutes per run", default=30)
    run_ids = fields.One2many("aia.workflow.run", "workflow_id", string="Runs")
    run_count = fields.Integer(compute="_compute_run_count")

    _code_company_unique = models.Constraint(
        "unique(code, company_id)", "A workflow code is unique in its company."
    )

    @api.constrains("code")
    def _check_code(self):
        for workflow in self:
            if not WORKFLOW_CODE.match(workflow.code or ""):
                raise ValidationError(
                    self.env._("A workflow code holds only letters, digits, '_' and '-', 55 at most.")
                )

    @api.constrains("step_ids")
    def _check_steps(self):
        for workflow in self:
            kinds = workflow.step_ids.sorted("sequence").mapped("kind")
            if kinds.count("plan") > 1:
                raise ValidationError(self.env._("A workflow has at most one plan step."))
            if "plan" in kinds and "execute" not in kinds[kinds.index("plan") :]:
                raise ValidationError(self.env._("A plan step needs an execute step after it."))
            if "review" in kinds and "execute" not in kinds[: kinds.index("review")]:
                raise ValidationError(self.env._("A review step needs an execute step before it."))

    def _compute_run_count(self):
        counts = dict(
            self.env["aia.workflow.run"]._read_group(
                [("workflow_id", "in", self.ids)], ["workflow_id"], ["__count"]
            )
        )
        for workflow in self:
            workflow.run_count = counts.get(workflow, 0)

    # === ACTIONS === #

    def action_open_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ai_workflow.aia_workflow_run_action")
        return {
            **action,
            "domain": [("workflow_id", "=", self.id)],
            "context": {"default_workflow_id": self.id},
        }

    # === BUSINESS METHODS === #

    def _aia_read_steps(self):
        """Put this workflow's steps in the cache, with its ``step_ids``, from the process-wide
        setup cache (aia.setup.mixin: kept until a workflow, step or agent is written): a run
        enters each step without reading them again."""
        self.ensure_one()
        ids, values = self._aia_cached_steps(self.id, self.env.lang)
        steps = self.env["aia.workflow.step"].browse(ids)
        for name, column in values.items():
            steps._fields[name]._insert_cache(steps, column)
        self._fields["step_ids"]._insert_cache(self, [ids])

    @api.model
    @tools.ormcache("workflow_id", "lang")
    def _aia_cached_steps(self, workflow_id, lang):
        """(ids, {field: values in cache format}) of the workflow's steps, in their order."""
        Step = self.env["aia.workflow.step"].sudo().with_context(lang=lang)
        names = [field.name for field in columns(Step)] + ["agent_ids"]
        steps = Step.search_fetch([("workflow_id", "=", workflow_id)], names)
        return tuple(steps.ids), {
            name: tuple(map(Step._fields[name]._get_cache(steps.env).__getitem__, steps.ids))
            for name in names
        }

    def _aia_check_can_run(self):
        """Raise AccessError unless the current user may run this workflow."""
        self.ensure_one()
        self.check_access("read")
        if self.group_ids and not (self.group_ids & self.env.user.all_group_ids):
            raise AccessError(self.env._("You may not run the workflow %(name)s.", name=self.name))
