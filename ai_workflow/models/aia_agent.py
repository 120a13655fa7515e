from odoo import fields, models

from ..launch import workflow_spec


class AiaAgent(models.Model):
    _inherit = "aia.agent"

    workflow_ids = fields.Many2many(
        "aia.workflow",
        string="Workflows it may run",
        help="Each is offered to the agent as a tool workflow.<code>: the agent starts a run on a "
        "question, as the session's user, and answers with the run's result.",
    )

    def _aia_versioned_fields(self):
        return [*super()._aia_versioned_fields(), "workflow_ids"]

    def _aia_tool_registry(self):
        registry = super()._aia_tool_registry()
        for workflow in self.sudo().workflow_ids.filtered("active"):
            registry.register(workflow_spec(workflow))
        return registry
