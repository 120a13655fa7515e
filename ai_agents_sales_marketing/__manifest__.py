{
    "name": "AI Agents: Sales and Marketing",
    "summary": "Sales and Marketing agents: fourteen read tools over CRM, sales orders and mailings; "
    "quotations, follow-up activities, lost leads and draft mailings as write tools",
    "version": "19.0.1.2.0",
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
    "demo": ["demo/sales_manager_demo.xml"],
    "installable": True,
}
