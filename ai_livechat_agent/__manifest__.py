{
    "name": "AI Agents in Live Chat",
    "summary": "An AI agent answers website visitors first in Live Chat and hands over to a human operator",
    "version": "19.0.1.0.0",
    "category": "Productivity/AI",
    "license": "LGPL-3",
    "author": "AI Agents Suite contributors",
    "depends": ["ai_discuss", "im_livechat"],
    "external_dependencies": {"python": []},
    "data": [
        "data/aia_tool_data.xml",
        "views/im_livechat_channel_views.xml",
    ],
    "installable": True,
}
