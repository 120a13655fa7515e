import json
import logging
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo import Command
from odoo.tests import TransactionCase, new_test_user
from odoo.tools import config

from odoo.addons.queue_job.tests.common import trap_jobs

from .. import secret_box
from ..ai_engine.testing import ScriptedModel, reply, tool_calls
from ..models.aia_session import USER_CREATE_FIELDS
from ..turn import BUS_TYPE

# A server key (configuration option aia_secret_key) for the tests of secrets at rest.
KEY = "a-long-random-server-key-for-tests"


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
    for job in trap.enqueued_jobs:
        # A job queued by another job holds that job's closed cursor; the runner loads it anew.
        job._env = job.env(cr=case.env.cr)
    with case.enter_registry_test_mode():
        trap.perform_enqueued_jobs()
    case.env.invalidate_all()


def pushed_events(env, session):
    """The events pushed to the browser of ``session``'s owner (its bus.bus rows), in order."""
    env.cr.precommit.run()  # what a commit does: write the pending bus.bus rows
    events = []
    for notification in env["bus.bus"].sudo().search([], order="id"):
        message = json.loads(notification.message)
        if message["type"] == BUS_TYPE and message["payload"]["session_id"] == session.id:
            events += message["payload"]["events"]
    return events


def read_partner(partner, *fields):
    """The honest call: read a contact's notes (or ``fields``)."""
    return (
        "orm_search_read",
        {"model": "res.partner", "domain": [["id", "=", partner.id]], "fields": list(fields or ["comment"])},
    )


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

    @classmethod
    def api_key(cls, user, name="aia test"):
        """An API key of ``user`` (scope ``rpc``) valid for an hour."""
        expiration = datetime.now() + timedelta(hours=1)
        return cls.env["res.users.apikeys"].with_user(user)._generate("rpc", name, expiration)

    def call_api(self, path, body=None, key=None, header="Authorization", headers=None, method=None):
        """(In an HttpCase) Send ``body`` as JSON to ``path`` (a GET without one), with ``key`` in
        ``header`` (``Authorization: Bearer``, or e.g. ``X-API-Key``); returns the response."""
        headers = dict(headers or {})
        if key and header == "Authorization":
            headers["Authorization"] = f"Bearer {key}"
        elif key:
            headers[header] = key
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        return self.url_open(path, data=data, headers=headers, method=method or ("POST" if data else "GET"))

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

    def run_turn(self, question, call, answer, **session_values):
        """A session (``user``, ``agent``... as :meth:`new_session` takes them) and one turn of
        ``question`` in which the model calls ``call`` (wire name, arguments), then answers
        ``answer``; returns the scripted model and the session."""
        model = self.script(tool_calls(call), reply(answer))
        session = self.new_session(**session_values)
        self.chat(session, question)
        return model, session

    def pushed_events(self, session):
        """The events pushed to the browser of ``session``'s owner, in order."""
        return pushed_events(self.env, session)

    def chat(self, session, text):
        """Post ``text`` as the session's user and run the queued turn; returns the job trap."""
        with trap_jobs() as trap:
            session.post_message(text)
            trap.assert_jobs_count(1)
            perform_jobs(self, trap)
        session.invalidate_recordset()
        return trap


class _Records(logging.Handler):
    """Collects what reaches a logger's handlers (after the logger's filters)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def text(self):
        return "\n".join(logging.Formatter("%(message)s").format(record) for record in self.records)


class OperationsCase(AiaCase):
    """AiaCase plus what operations tests look at: the server key, raw columns, log records,
    creation dates."""

    def server_key(self, value):
        """Give the server configuration an ``aia_secret_key`` (an empty string: none)."""
        self.enterContext(patch.dict(config._runtime_options, {secret_box.CONFIG_KEY: value}))

    def raw(self, table, column, record_id):
        self.env.flush_all()
        self.env.cr.execute(f"SELECT {column}::text FROM {table} WHERE id = %s", [record_id])
        return self.env.cr.fetchone()[0]

    def capture(self, logger_name):
        """Records of ``logger_name``, kept out of the server's log."""
        handler = _Records()
        logger = logging.getLogger(logger_name)
        logger.addHandler(handler)
        self.addCleanup(logger.removeHandler, handler)
        self.addCleanup(setattr, logger, "propagate", logger.propagate)
        logger.propagate = False
        return handler

    def set_dates(self, records, when):
        self.env.flush_all()
        self.env.cr.execute(
            f"UPDATE {records._table} SET create_date = %s WHERE id IN %s",
            [when, tuple(records.ids)],
        )
        records.invalidate_recordset(["create_date"])
