{
    "name": "AI Agents: Warehouse",
    "summary": "A Warehouse agent with read tools on stock levels, reordering, slow movers and receipts",
    "version": "19.0.1.1.0",
    "category": "Inventory/Inventory",
    "license": "LGPL-3",
    "author": "AI Agents Suite contributors",
    "depends": ["ai_core", "stock"],
    # Only the standard library and what Odoo itself requires.
    "external_dependencies": {"python": []},
    "data": [
        "security/ir.model.access.csv",
        "data/aia_tool_data.xml",
        "data/aia_agent_data.xml",
    ],
    "installable": True,
}
