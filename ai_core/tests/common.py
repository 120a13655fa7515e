import json

from odoo import Command
from odoo.tests import TransactionCase, new_test_user

from odoo.addons.queue_job.tests.common import trap_jobs

from ..ai_engine.testing import ScriptedModel
from ..models.aia_session import USER_CREATE_FIELDS
from ..turn import BUS_TYPE


def perform_jobs(case, trap):
    """Perform the jobs ``trap`` caught the way queue_job's runner does.

    A job function that may commit (turns, indexing, statements) runs on a cursor of its own
    (``Job.in_temporary_env``). In registry test mode that cursor joins the test transaction: it
    sees the test's records, and its commits and rollbacks are savepoints, so the production
    commit, rollback and bus paths run as they do under the job runner.
    """
    # The job's cursor does not share this environment's cache (HttpCase, already in registry
    # test mode, neither flushes nor invalidates it on entering).
    case.env.flush_all()
    with case.enter_registry_test_mode():
        trap.perform_enqueued_jobs()
    case.env.invalidate_all()


def make_user(env, login, groups="", company=None, companies=None, **values):
    """An internal user (``base.group_user``) also in ``groups`` (comma-separated xml ids), of
    ``companies`` with ``company`` theirs: by default the first of ``companies``, else the
    environment's company, alone. ``values`` are further fields of the user."""
    names = dict.fromkeys(["base.group_user", *filter(None, (name.strip() for name in groups.split(",")))])
    company = company or (companies[:1] if companies else env.company)
    return new_test_user(
        env,
        login,
        groups=",".join(names),
        company_id=company.id,
        company_ids=[Command.set((companies or company).ids)],
        **values,
    )


class AiaCase(TransactionCase):
    """Factories for agent tests. The provider is patched at its choke point to a scripted model,
    so everything between the chat and the provider SDK is the real code."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
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
        cls.user = cls.make_user("aia_user", "base.group_partner_manager,ai_core.group_aia_user")
        cls.user_b = cls.make_user("aia_user_b", "ai_core.group_aia_user", cls.other_company)
        cls.operator = cls.make_user("aia_operator", "ai_core.group_aia_operator")

    @classmethod
    def make_user(cls, login, groups="", company=None, companies=None, **values):
        """An internal user also in ``groups``, of ``companies`` (default: ``company`` alone),
        ``company`` theirs (default: the first of ``companies``, else the test company)."""
        if not (company or companies):
            company = cls.company
        return make_user(cls.env, login, groups, company, companies, **values)

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
        """A session created by ``user`` as the chat does; what only the suite sets (``channel``,
        ``state``, ...) is set afterwards as the suite would, with superuser rights."""
        user = user or self.user
        own = {name: value for name, value in values.items() if name in USER_CREATE_FIELDS}
        session = (
            self.env["aia.session"].with_user(user).create({"agent_id": (agent or self.agent).id, **own})
        )
        if values.keys() - own.keys():
            session.sudo().write({name: value for name, value in values.items() if name not in own})
        return session

    def pushed_events(self, session):
        """The events pushed to the browser of ``session``'s owner (its bus.bus rows), in order."""
        self.env.cr.precommit.run()  # what a commit does: write the pending bus.bus rows
        events = []
        for notification in self.env["bus.bus"].sudo().search([], order="id"):
            message = json.loads(notification.message)
            if message["type"] == BUS_TYPE and message["payload"]["session_id"] == session.id:
                events += message["payload"]["events"]
        return events

    def chat(self, session, text):
        """Post ``text`` as the session's user and run the queued turn; returns the job trap."""
        with trap_jobs() as trap:
            session.post_message(text)
            trap.assert_jobs_count(1)
            perform_jobs(self, trap)
        session.invalidate_recordset()
        return trap
