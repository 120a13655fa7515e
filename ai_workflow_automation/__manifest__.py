{
    "name": "AI Agents: Workflows in Automation",
    "summary": 'Server-action state "Run AI Workflow": contextual actions, automation rules and '
    "scheduled actions start workflow runs on records",
    "version": "19.0.1.0.0",
    "category": "Productivity/AI",
    "license": "LGPL-3",
    "author": "AI Agents Suite contributors",
    "depends": ["ai_workflow", "ai_automation"],
    "external_dependencies": {"python": []},
    "data": ["views/ir_actions_server_views.xml"],
    # Glue between installed addons: it comes with them.
    "auto_install": True,
    "installable": True,
}
