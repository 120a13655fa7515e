{
    "name": "AI Agents: Sales and Marketing",
    "summary": "Sales and Marketing agents with eight read tools over the pipeline, orders and mailings",
    "version": "19.0.1.0.0",
    "category": "Sales/AI",
    "license": "LGPL-3",
    "author": "AI Agents Suite contributors",
    "depends": ["ai_core", "sale_crm", "mass_mailing"],
    # Only the standard library and what Odoo itself requires.
    "external_dependencies": {"python": []},
    "data": [
        "security/ir.model.access.csv",
        "data/aia_tool_data.xml",
        "data/aia_agent_data.xml",
    ],
    "installable": True,
}
