from . import models


def uninstall_hook(env):
    """ "Run AI Agent" actions cannot run without this addon: Odoo deletes them (their state's
    ondelete), which a scheduled action running one would block; those go first."""
    actions = env["ir.actions.server"].with_context(active_test=False).search([("state", "=", "ai_agent")])
    env["ir.cron"].with_context(active_test=False).search(
        [("ir_actions_server_id", "in", actions.ids)]
    ).unlink()
    actions.unlink()
