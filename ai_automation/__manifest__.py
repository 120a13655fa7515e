{
    "name": "AI Agents Automation",
    "summary": "Run AI agents from server actions, automation rules and scheduled actions",
    "version": "19.0.1.0.0",
    "category": "Productivity/AI",
    "license": "LGPL-3",
    "author": "AI Agents Suite contributors",
    "depends": ["ai_core", "base_automation"],
    "external_dependencies": {"python": []},
    "data": [
        "security/ir.model.access.csv",
        "data/mail_message_subtype_data.xml",
        "views/ir_actions_server_views.xml",
        "views/aia_session_views.xml",
        "views/res_config_settings_views.xml",
        "views/ai_automation_menus.xml",
    ],
    "assets": {
        "web.assets_backend": ["ai_automation/static/src/**/*"],
        "web.assets_unit_tests": ["ai_automation/static/tests/**/*"],
    },
    "uninstall_hook": "uninstall_hook",
    "installable": True,
}
