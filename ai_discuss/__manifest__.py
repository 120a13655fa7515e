{
    "name": "AI Agents in Discuss",
    "summary": "Chat with AI agents in Discuss, add them to channels, @mention them in any chatter",
    "version": "19.0.1.0.0",
    "category": "Productivity/AI",
    "license": "LGPL-3",
    "author": "AI Agents Suite contributors",
    "depends": ["ai_core", "mail"],
    "external_dependencies": {"python": []},
    "data": [
        "views/aia_agent_views.xml",
        "views/aia_session_views.xml",
    ],
    "assets": {
        "web.assets_tests": ["ai_discuss/static/tests/tours/**/*"],
    },
    "installable": True,
}
