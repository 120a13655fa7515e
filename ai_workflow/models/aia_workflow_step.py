from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .aia_workflow import AGENT_KINDS


class AiaWorkflowStep(models.Model):
    _name = "aia.workflow.step"
    _description = "AI Workflow Step"
    # Runs read the steps through the setup cache (aia.workflow._aia_read_steps).
    _inherit = ["aia.setup.mixin"]
    _order = "workflow_id, sequence, id"
    _check_company_auto = True

    workflow_id = fields.Many2one("aia.workflow", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="workflow_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, translate=True)
    kind = fields.Selection(
        [
            ("plan", "Plan"),
            ("execute", "Execute"),
            ("review", "Review"),
            ("synthesize", "Synthesize"),
            ("approval", "Approval"),
        ],
        required=True,
        default="execute",
        help="Plan: an agent returns a JSON plan of tasks for agents. Execute: the planned tasks (or "
        "this step's own task) run, independent ones at the same time. Review: an agent checks the "
        "results and may send tasks back. Synthesize: an agent writes the final answer. Approval: "
        "a person decides before the run goes on.",
    )
    agent_id = fields.Many2one(
        "aia.agent",
        check_company=True,
        help="Who plans, reviews or synthesizes; for an execute step without a plan, who does it.",
    )
    agent_ids = fields.Many2many(
        "aia.agent", string="Agents the plan may use", check_company=True, help="Execute step after a plan."
    )
    instructions = fields.Text(
        translate=True,
        help="Said to the step's agent with the question (an execute step without a plan: its task).",
    )
    parallel = fields.Boolean(default=True, help="Execute: independent planned tasks run at the same time.")
    max_rounds = fields.Integer(
        "Send-backs",
        default=1,
        help="Review: how many times the reviewer may send tasks back to be done again.",
    )
    approver_id = fields.Many2one("res.users", help="Approval: who decides; empty: whoever started the run.")

    @api.constrains("kind", "agent_id", "agent_ids")
    def _check_agents(self):
        for step in self:
            if step.kind in AGENT_KINDS and not (
                step.agent_id or (step.kind == "execute" and step.agent_ids)
            ):
                raise ValidationError(self.env._("The step %(step)s needs an agent.", step=step.name))
            if step.max_rounds < 0:
                raise ValidationError(self.env._("Send-backs cannot be negative."))
