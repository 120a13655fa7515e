{
    "name": "AI Agents: Month-end Review Workflow",
    "summary": "A ready-made workflow: the Finance agent plans, Warehouse and Sales do their parts, "
    "Finance reviews the figures against the tools' results and writes the memo",
    "version": "19.0.1.0.0",
    "category": "Productivity/AI",
    "license": "LGPL-3",
    "author": "AI Agents Suite contributors",
    "depends": ["ai_workflow", "ai_agents_finance", "ai_agents_warehouse", "ai_agents_sales_marketing"],
    "external_dependencies": {"python": []},
    "data": ["data/aia_workflow_data.xml"],
    # Glue between installed apps: it comes with them.
    "auto_install": True,
    "installable": True,
}
