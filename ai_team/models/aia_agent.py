from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..delegation import DELEGABLE_CODE, delegation_spec


class AiaAgent(models.Model):
    _inherit = "aia.agent"

    delegate_agent_ids = fields.Many2many(
        "aia.agent",
        "aia_agent_delegate_rel",
        "agent_id",
        "delegate_id",
        string="Delegates to",
        check_company=True,
        domain="[('id', '!=', id)]",
        help="Agents this agent may hand a task to, each offered to it as a tool agent.<code>. The "
        "delegated agent works in a session of its own, as the same user in the same company, "
        "with its own tools and safety settings, within what is left of this agent's budgets.",
    )

    @api.constrains("delegate_agent_ids", "code")
    def _check_delegable_codes(self):
        """A delegate's code names its tool: it must give a valid provider tool name."""
        delegators = self.search([("delegate_agent_ids", "in", self.ids)])
        for agent in self.delegate_agent_ids | (self & delegators.delegate_agent_ids):
            if not DELEGABLE_CODE.match(agent.code or ""):
                raise ValidationError(
                    self.env._(
                        "Agent %(name)s is offered as a tool to the agents that delegate to it: its "
                        "code may hold only letters, digits, '_' and '-', 58 at most.",
                        name=agent.name,
                    )
                )

    def _aia_versioned_fields(self):
        return [*super()._aia_versioned_fields(), "delegate_agent_ids"]

    def _aia_tool_registry(self):
        registry = super()._aia_tool_registry()
        for delegate in self.delegate_agent_ids.filtered("active"):
            registry.register(delegation_spec(delegate))
        return registry
