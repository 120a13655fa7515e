"""Test bases of the domain packs: call a tool as a session would, and drive a pack's agent.

A pack's case mixes :class:`AgentPackMixin` into its own business-data case (Odoo's account test
helpers for finance, :class:`~.common.AiaCase` for the others) and sets ``tool_user``, the user
``call()`` runs tools as by default; :class:`AgentPackCase` is that mix over ``AiaCase``.
"""

from odoo import Command

from ..ai_engine import ToolDenied, ToolInputError
from ..tools import CATALOGUE, OdooToolContext
from .common import AiaCase, make_user


def call_tool(env, name, arguments=None, *, user, company=None):
    """Call catalogue tool ``name`` as a session would: the arguments checked against its schema
    (an invalid call is the ``ToolInputError`` the model would be told), then the handler through
    ai_core's tool context, as ``user`` with ``company`` (default: theirs) first among the allowed
    companies, the session's company."""
    spec = CATALOGUE.get(name)
    if spec is None:
        raise AssertionError(f"no tool {name!r} in the catalogue")
    arguments = arguments or {}
    invalid = spec.input_error(arguments)
    if invalid:
        raise ToolInputError(invalid)
    company = company or user.company_id
    allowed = [company.id, *(cid for cid in user.company_ids.ids if cid != company.id)]
    tool_env = env(user=user, context=dict(env.context, allowed_company_ids=allowed))
    return OdooToolContext(tool_env).invoke(spec.handler, arguments, timeout=spec.timeout)


class AgentPackMixin:
    """Tool calls and agent runs for a pack's tests; the agent-side factories are ai_core's own."""

    tool_user = None  # set in setUpClass: the user call() runs tools as by default

    script = AiaCase.script
    new_session = AiaCase.new_session
    chat = AiaCase.chat
    run_turn = AiaCase.run_turn

    @classmethod
    def new_user(cls, login, groups, companies, **values):
        """An internal user of ``companies`` (the first one theirs) also in ``groups``
        (comma-separated xml ids)."""
        return make_user(cls.env, login, groups, companies=companies, **values)

    def setUp(self):
        super().setUp()
        self.env["aia.provider"]._aia_reset_breakers()
        self.addCleanup(self.env["aia.provider"]._aia_reset_breakers)

    def call(self, name, arguments=None, user=None, company=None):
        return call_tool(self.env, name, arguments, user=user or self.tool_user, company=company)

    def assertDenied(self, name, arguments=None, user=None):
        """The tool refuses ``user`` (default: ai_core's user without business rights); returns
        what the model is told."""
        with self.assertRaises(ToolDenied) as caught:
            self.call(name, arguments, user=user or self.user)
        return str(caught.exception)

    def assertShipsInShadowMode(self, agent, tools):
        """``agent`` ships in shadow mode, on the company's model, with exactly ``tools`` ({name:
        label}), read tools whose handlers are installed."""
        agent = agent.sudo()  # agents are AI configuration, whoever the test's user is
        self.assertTrue(agent.shadow_mode)
        self.assertFalse(agent.model_id)
        self.assertEqual({tool.name: tool.label for tool in agent.tool_ids}, tools)
        self.assertEqual(set(agent.tool_ids.mapped("mode")), {"read"})
        self.assertTrue(all(agent.tool_ids.mapped("is_available")))
        self.assertEqual({spec.name: spec.display_name for spec in agent._aia_tool_registry()}, tools)

    def ask(self, agent, user, question):
        """A session of ``agent`` opened by ``user`` in company A, and one turn of ``question``."""
        session = self.new_session(user=user, agent=agent)
        self.chat(session, question)
        self.assertEqual(session.company_id, self.company_a)
        return session

    def give_orm_tools(self, agent, tool_names, models, **values):
        """What an administrator might do: give ``agent`` generic ORM tools on ``models``."""
        tools = self.env["aia.tool"].sudo().search([("name", "in", tool_names)])
        agent.sudo().write(
            {
                "tool_ids": [Command.link(tool.id) for tool in tools],
                "allowed_model_ids": [Command.set([self.env["ir.model"]._get_id(name) for name in models])],
                **values,
            }
        )


class AgentPackCase(AgentPackMixin, AiaCase):
    """A pack's case over ai_core's factories (company A is ``cls.company``)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.company
        cls.company_b = cls.other_company
