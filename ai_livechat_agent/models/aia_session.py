import dataclasses

from odoo import fields, models

from odoo.addons.ai_core.tools.catalogue import CATALOGUE

from .. import livechat

HANDOVER_TOOL = "livechat.handover"


class AiaSession(models.Model):
    _inherit = "aia.session"

    # Written by the suite only: a visitor's session is read-only and may hand over.
    aia_livechat = fields.Boolean("Live chat", readonly=True)
    aia_handover_requested = fields.Boolean(readonly=True)

    def _aia_runner(self, recorder, resuming=False):
        """A live chat session: read-only whatever the agent's settings (write tools neither
        offered nor run), and the handover tool offered whatever its allowlist."""
        runner = super()._aia_runner(recorder, resuming=resuming)
        if self.aia_livechat:
            runner.config = dataclasses.replace(runner.config, read_only=True)
            registry = runner.registry.filtered((spec.name for spec in runner.registry), include_write=False)
            if HANDOVER_TOOL not in registry:
                registry.register(CATALOGUE.get(HANDOVER_TOOL))
            runner.registry = registry
        return runner

    def _aia_turn_ended(self):
        result = super()._aia_turn_ended()
        for session in self.filtered("aia_livechat"):
            livechat.turn_ended(session)
        return result
