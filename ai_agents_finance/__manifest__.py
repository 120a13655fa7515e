{
    "name": "AI Agents: Finance",
    "summary": "A Finance agent with thirteen read tools over the company's books (ledger, statements, "
    "receivables and payables, taxes, cash, bank, matching) and three write tools: payment reminders, "
    "draft vendor bills, reconciling a payment with an invoice",
    "version": "19.0.1.2.0",
    "category": "Accounting/AI",
    "license": "LGPL-3",
    "author": "AI Agents Suite contributors",
    "depends": ["ai_core", "account"],
    # Only the standard library and what Odoo itself requires.
    "external_dependencies": {"python": []},
    "data": [
        "security/ir.model.access.csv",
        "data/aia_tool_data.xml",
        "data/mail_template_data.xml",
        "data/aia_agent_data.xml",
    ],
    "demo": ["demo/aia_finance_demo.xml"],
    "installable": True,
}
