{
    "name": "AI Agents Workflows",
    "summary": "Multi-agent workflows: plan, execute (fan-out), review, synthesize and human approval steps, "
    "each a queue job, capped as a whole run",
    "version": "19.0.1.0.1",
    "category": "Productivity/AI",
    "license": "LGPL-3",
    "author": "AI Agents Suite contributors",
    "depends": ["ai_core"],
    "external_dependencies": {"python": ["jsonschema"]},
    "data": [
        "security/ai_workflow_security.xml",
        "security/ir.model.access.csv",
        "data/queue_job_data.xml",
        "views/aia_workflow_views.xml",
        "views/aia_workflow_run_views.xml",
        "views/aia_session_views.xml",
        "views/aia_agent_views.xml",
        "views/ai_workflow_menus.xml",
    ],
    "assets": {
        "web.assets_backend": ["ai_workflow/static/src/**/*"],
        "web.assets_unit_tests": [
            "ai_workflow/static/tests/**/*",
            ("remove", "ai_workflow/static/tests/tours/**/*"),
        ],
        "web.assets_tests": ["ai_workflow/static/tests/tours/**/*"],
    },
    "installable": True,
}
