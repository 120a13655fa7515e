{
    "name": "AI Agents: Warehouse Purchasing",
    "summary": "The Warehouse agent's write tools on replenishment: draft RFQs for reorder alerts, snoozing "
    "a reordering rule (purchase_stock)",
    "version": "19.0.1.0.0",
    "category": "Inventory/Purchase",
    "license": "LGPL-3",
    "author": "AI Agents Suite contributors",
    "depends": ["ai_agents_warehouse", "purchase_stock"],
    # Only the standard library and what Odoo itself requires.
    "external_dependencies": {"python": []},
    "data": [
        "security/ir.model.access.csv",
        "data/aia_tool_data.xml",
    ],
    "demo": ["demo/warehouse_purchase_demo.xml"],
    # The agent gets the tools and the paragraph of its prompt that says when to use them.
    "post_init_hook": "post_init_hook",
    # Glue between installed apps: it comes with Purchase on top of Inventory.
    "auto_install": True,
    "installable": True,
}
