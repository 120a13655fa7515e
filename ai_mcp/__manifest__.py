{
    "name": "AI Agents MCP",
    "summary": "MCP server at /aia/mcp: the agents' tools, each agent and its knowledge for outside MCP "
    "clients, with the same rights, guardrails and ledger as the chat",
    "version": "19.0.1.0.0",
    "category": "Productivity/AI",
    "license": "LGPL-3",
    "author": "AI Agents Suite contributors",
    "depends": ["ai_core"],
    "external_dependencies": {"python": ["mcp"]},
    "data": [
        "security/ir.model.access.csv",
        "security/ai_mcp_security.xml",
        "views/aia_mcp_server_views.xml",
    ],
    "installable": True,
}
