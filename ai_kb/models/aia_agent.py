from odoo import fields, models

from odoo.addons.ai_core.tools import CATALOGUE


class AiaAgent(models.Model):
    _inherit = "aia.agent"

    knowledge_base_ids = fields.Many2many(
        "aia.knowledge.base",
        "aia_agent_knowledge_base_rel",
        "agent_id",
        "knowledge_base_id",
        string="Knowledge bases",
        help="Only the bases of the session's company are searched.",
    )
    knowledge_mode = fields.Selection(
        [("auto", "Before each answer"), ("tool", "When the agent asks (kb.search tool)")],
        default="auto",
        required=True,
        help="Before each answer: the user's message is searched in the knowledge bases and the passages "
        "are given to the model. When the agent asks: the agent gets the kb.search tool instead.",
    )

    def _aia_versioned_fields(self):
        return (*super()._aia_versioned_fields(), "knowledge_base_ids", "knowledge_mode")

    def _aia_setup_values(self):
        # The active bases of the setup's company: a session searches only its company's.
        bases = self.knowledge_base_ids.filtered(
            lambda base: base.active and base.company_id == self.env.company
        )
        return {
            **super()._aia_setup_values(),
            "knowledge_base_ids": tuple(bases.ids),
            "knowledge_mode": self.knowledge_mode,
        }

    def _aia_tool_registry(self):
        registry = super()._aia_tool_registry()
        if self.knowledge_base_ids and self.knowledge_mode == "tool":
            spec = CATALOGUE.get("kb.search")
            if spec is not None and spec.name not in registry:
                registry.register(spec)
        return registry
