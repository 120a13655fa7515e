{
    "name": "AI Agents Teams",
    "summary": "Agents that delegate tasks to other agents, within the parent's budgets, depth and rights",
    "version": "19.0.1.0.0",
    "category": "Productivity/AI",
    "license": "LGPL-3",
    "author": "AI Agents Suite contributors",
    "depends": ["ai_core"],
    "external_dependencies": {"python": []},
    "data": [
        "data/ir_config_parameter.xml",
        "views/aia_agent_views.xml",
        "views/aia_session_views.xml",
    ],
    "installable": True,
}
