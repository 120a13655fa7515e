from odoo.tests import TransactionCase, new_test_user

from odoo.addons.queue_job.tests.common import trap_jobs

from ..ai_engine.testing import ScriptedModel


class AiaCase(TransactionCase):
    """Factories for agent tests. The provider is patched at its choke point to a scripted model,
    so everything between the chat and the provider SDK is the real code."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # trap_jobs performs jobs inside the test transaction, but queue_job runs a job that may
        # commit on a cursor of its own, which would not see the test's records.
        for xmlid in ("ai_core.job_function_run_turn", "ai_core.job_function_resume"):
            cls.env.ref(xmlid).allow_commit = False
        cls.addClassCleanup(cls.registry.clear_cache)
        cls.company = cls.env.company
        cls.other_company = cls.env["res.company"].create({"name": "Company B"})
        cls.provider = cls.env["aia.provider"].create({"name": "Test provider", "api_key": "test-key"})
        cls.llm = cls.env["aia.model"].create(
            {
                "name": "claude-test",
                "provider_id": cls.provider.id,
                "price_input": 3,
                "price_output": 15,
                "currency_id": cls.env.ref("base.USD").id,
            }
        )
        orm_tools = cls.env["aia.tool"].search([("name", "=like", "orm.%")])
        cls.agent = cls.env["aia.agent"].create(
            {
                "code": "assistant",
                "name": "Assistant",
                "system_prompt": "You help with contacts.",
                "rules": "Never invent records.",
                "model_id": cls.llm.id,
                "tool_ids": [(6, 0, orm_tools.ids)],
                "allowed_model_ids": [
                    (
                        6,
                        0,
                        [
                            cls.env.ref("base.model_res_partner").id,
                            cls.env.ref("base.model_ir_config_parameter").id,
                        ],
                    )
                ],
            }
        )
        cls.user = new_test_user(
            cls.env,
            "aia_user",
            groups="base.group_user,base.group_partner_manager,ai_core.group_aia_user",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )
        cls.user_b = new_test_user(
            cls.env,
            "aia_user_b",
            groups="base.group_user,ai_core.group_aia_user",
            company_id=cls.other_company.id,
            company_ids=[(6, 0, cls.other_company.ids)],
        )
        cls.operator = new_test_user(
            cls.env, "aia_operator", groups="base.group_user,ai_core.group_aia_operator"
        )

    def setUp(self):
        super().setUp()
        self.env["aia.provider"]._aia_reset_breakers()
        self.addCleanup(self.env["aia.provider"]._aia_reset_breakers)

    def script(self, *steps):
        """Make every provider of this test answer with ``steps``; returns the scripted model."""
        model = ScriptedModel(list(steps))
        self.patch(type(self.env["aia.provider"]), "_aia_build_model_adapter", lambda provider: model)
        return model

    def new_session(self, user=None, agent=None, **values):
        user = user or self.user
        return (
            self.env["aia.session"].with_user(user).create({"agent_id": (agent or self.agent).id, **values})
        )

    def chat(self, session, text):
        """Post ``text`` as the session's user and run the queued turn; returns the job trap."""
        with trap_jobs() as trap:
            session.post_message(text)
            trap.assert_jobs_count(1)
            # A turn job may commit, so queue_job runs it on a cursor of its own: in registry test
            # mode that cursor joins the test transaction and sees the test's records.
            with self.enter_registry_test_mode():
                trap.perform_enqueued_jobs()
        session.invalidate_recordset()
        return trap
