{
    "name": "AI Agents: Warehouse Stock Valuation",
    "summary": "The Warehouse agent's stock valuation tool, on Odoo's Inventory Valuation (stock_account)",
    "version": "19.0.1.0.0",
    "category": "Inventory/Inventory",
    "license": "LGPL-3",
    "author": "AI Agents Suite contributors",
    "depends": ["ai_agents_warehouse", "stock_account"],
    # Only the standard library and what Odoo itself requires.
    "external_dependencies": {"python": []},
    "data": [
        "security/ir.model.access.csv",
        "data/aia_tool_data.xml",
        "data/aia_agent_data.xml",
    ],
    # Glue between installed apps: it comes with Inventory valuation.
    "auto_install": True,
    "installable": True,
}
