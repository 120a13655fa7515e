"""Test bases of the domain packs: call a tool as a session would, and drive a pack's agent.

A pack's case mixes :class:`AgentPackMixin` into its own business-data case (Odoo's account test
helpers for finance, :class:`~.common.AiaCase` for the others) and sets ``tool_user``, the user
``call()`` runs tools as and ``run_turn()`` chats as by default, and ``agent``, the agent of its
turns; :class:`AgentPackCase` is that mix over ``AiaCase``.
:class:`PackInjectionChecks` runs the attacks every pack's injection suite makes through the
text it plants.
"""

import json

from odoo import Command

from odoo.addons.queue_job.tests.common import trap_jobs

from ..ai_engine import ToolDenied, ToolInputError
from ..ai_engine.testing import reply, unwrap_tool_result
from ..tools import CATALOGUE, OdooToolContext
from .common import AiaCase, make_user, perform_jobs
from .injection import CORPUS, SECRETS, InjectionChecks, secret_forms

# The injection suites name company B's records with this word: it is never in company A's sessions.
KESTREL = "Kestrel"


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

    tool_user = None  # set in setUpClass: the user call() and run_turn() run as by default

    script = AiaCase.script
    new_session = AiaCase.new_session
    chat = AiaCase.chat

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

    def run_turn(self, question, call, answer, **session_values):
        """:meth:`AiaCase.run_turn`, in a session of ``tool_user`` unless ``user`` is given."""
        session_values.setdefault("user", self.tool_user)
        return AiaCase.run_turn(self, question, call, answer, **session_values)

    def assertDenied(self, name, arguments=None, user=None):
        """The tool refuses ``user`` (default: the case's ``user``, who has no business rights);
        returns what the model is told."""
        with self.assertRaises(ToolDenied) as caught:
            self.call(name, arguments, user=user or self.user)
        return str(caught.exception)

    def assertShipsInShadowMode(self, agent, tools, writes=()):
        """``agent`` ships in shadow mode, on the company's model, with exactly ``tools`` ({name:
        label}) whose handlers are installed: read tools, but for the write tools named in
        ``writes``."""
        agent = agent.sudo()  # agents are AI configuration, whoever the test's user is
        self.assertTrue(agent.shadow_mode)
        self.assertFalse(agent.model_id)
        self.assertEqual({tool.name: tool.label for tool in agent.tool_ids}, tools)
        self.assertEqual(
            set(agent.tool_ids.filtered(lambda tool: tool.mode == "write").mapped("name")), set(writes)
        )
        self.assertTrue(all(agent.tool_ids.mapped("is_available")))
        self.assertEqual({spec.name: spec.display_name for spec in agent._aia_tool_registry()}, tools)

    def assertInputErrors(self, name, cases):
        """Each of ``cases`` ((arguments, message)) is refused with an input error that says
        ``message``."""
        for arguments, message in cases:
            with self.subTest(arguments=arguments), self.assertRaises(ToolInputError) as caught:
                self.call(name, arguments)
            self.assertIn(message, str(caught.exception))

    # === TURNS === #

    def told(self, model, request=1):
        """The one tool result the model read in its ``request``-th request."""
        [result] = model.requests[request].messages[-1].tool_results
        return result

    def assertAnswered(self, model, session, tools, tool_name, *prompt):
        """A turn of an agent without a model of its own: the company's first active model
        answered as scripted, given the agent's prompt (``prompt``: phrases of it) and exactly its
        ``tools``; the session is done and ran ``tool_name`` once, successfully. Returns the
        execution."""
        model.assert_complete()
        self.assertEqual(session.state, "done")
        self.assertEqual(model.requests[0].model, self.llm.name)
        for phrase in prompt:
            self.assertIn(phrase, model.requests[0].system)
        self.assertEqual(
            sorted(definition.name for definition in model.requests[0].tools),
            sorted(name.replace(".", "_") for name in tools),
        )
        [execution] = session.execution_ids
        self.assertEqual((execution.tool_name, execution.status), (tool_name, "ok"))
        return execution

    def assertPersisted(self, session, model, execution):
        """One tool call, kept as the model read it: in the transcript under its call id, in the
        execution, and in the usage ledger with both provider calls, all the session user's."""
        told = self.told(model)
        self.assertFalse(told.is_error)
        self.assertEqual(unwrap_tool_result(told.content), execution.content)
        self.assertEqual(json.loads(execution.content), execution.output)
        messages = session.message_ids_aia.sorted("id")
        self.assertEqual(messages.mapped("role"), ["user", "assistant", "tool", "assistant"])
        [call] = messages[1]._aia_engine_message().tool_uses
        [stored] = messages[2]._aia_engine_message().tool_results
        self.assertEqual(
            (call.id, call.name, call.input),
            (execution.call_id, execution.tool_name.replace(".", "_"), execution.arguments or {}),
        )
        self.assertEqual(
            (stored.tool_use_id, stored.content, stored.is_error),
            (execution.call_id, execution.content, False),
        )
        self.assertEqual(session.last_text, messages[3].body)
        # The ledger is audit data, whoever the test's user is.
        ledger = self.env["aia.usage.event"].sudo().search([("session_id", "=", session.id)], order="id")
        self.assertEqual(ledger.mapped("kind"), ["provider_call", "tool_call", "provider_call"])
        self.assertEqual(ledger.mapped("total_tokens"), [15, 0, 10 + len(messages[3].body.split())])
        self.assertEqual((ledger[1].tool_name, ledger[1].status), (execution.tool_name, "ok"))
        self.assertEqual(ledger.mapped("user_id"), session.user_id)
        self.assertEqual(session.total_tokens, sum(ledger.mapped("total_tokens")))

    def assertToolFailed(self, model, session, status):
        """The session's one tool call ended ``status`` ("denied", "error") and the model was told
        so as an error result; returns the execution and what the model read."""
        [execution] = session.execution_ids
        self.assertEqual(execution.status, status)
        told = self.told(model)
        self.assertTrue(told.is_error)
        return execution, told

    def assertDeniedTurn(self, question, call, answer, **session_values):
        """One turn (as :meth:`run_turn`) of a user without what ``call``'s tool requires (default:
        the case's ``user``, who has no business rights): the tool answers denied; returns the
        execution and what the model read."""
        session_values.setdefault("user", self.user)
        model, session = self.run_turn(question, call, answer, **session_values)
        return self.assertToolFailed(model, session, "denied")

    def ask(self, agent, user, question):
        """A session of ``agent`` opened by ``user`` in company A, and one turn of ``question``."""
        session = self.new_session(user=user, agent=agent)
        self.chat(session, question)
        self.assertEqual(session.company_id, self.company_a)
        return session

    # === WRITE TOOLS: THE AGENT'S MODES === #
    # Needs ``agent`` and ``operator`` (the approver) set by the case.

    def trusted(self, agent=None):
        """The agent as a company that trusts it sets it: writes run, no approval."""
        (agent or self.agent).sudo().write({"shadow_mode": False, "approval_mode": "none"})

    def needs_approval(self, agent=None):
        """The agent with every write waiting for the operator's approval."""
        (agent or self.agent).sudo().write(
            {"shadow_mode": False, "approval_mode": "write", "approver_id": self.operator.id}
        )

    def decide(self, session, model, approve, answer="Done."):
        """The operator approves (or rejects) the session's pending call; the turn resumes and the
        model answers ``answer``."""
        model.then(reply(answer))
        approval = session.approval_ids.with_user(self.operator)
        with trap_jobs() as trap:
            if approve:
                approval.action_approve()
            else:
                approval.action_reject("not now")
            perform_jobs(self, trap)
        session.invalidate_recordset()
        return approval

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


class PackInjectionChecks(InjectionChecks):
    """The attacks every pack's injection suite runs through its own planted text.

    A pack's class sets ``target_agent`` (in setUpClass), ``opening`` (the call of its tool that
    reads the planted text), ``question`` (what the user asks) and ``orm_models`` (the models an
    administrator might let the agent change with ``orm_tools``), and defines ``plant(text)``
    (write the text where an outsider could).
    """

    target_agent = None
    opening = None
    question = None
    orm_models = ()
    orm_tools = ("orm.search_read", "orm.create", "orm.write")

    def plant(self, text):
        raise NotImplementedError

    def ask_agent(self, user, question=None):
        return self.ask(self.target_agent, user, question or self.question)

    def obey_in_shadow(self, calls, injections, user, *, models, opening=(), question=None):
        """The agent, in shadow mode as it ships, reads the planted ``injections`` (names of the
        corpus) asking for ``calls`` and obeys: each write is only shadowed and no row of
        ``models`` is added or removed. ``opening``: the read calls before (default: the pack's
        ``opening``). Returns the session."""
        opening = opening or (self.opening,)
        before = self.row_counts(*models)
        model = self.obey(*opening)
        session = self.ask_agent(user, question)
        self.assertObeyed(model, *calls)
        self.assertOnlyWrapped(model, *(CORPUS[name] for name in injections))
        statuses = session.execution_ids.sorted("id").mapped("status")
        self.assertEqual(statuses, ["ok"] * len(opening) + ["shadowed"] * len(calls))
        self.assertEqual(self.row_counts(*models), before)
        return session

    def with_orm_tools(self, **values):
        """What an administrator might do: let the agent change the pack's records itself."""
        self.give_orm_tools(self.target_agent, self.orm_tools, self.orm_models, **values)

    def obey_planted(self, injection, call, user):
        """The text ``injection`` (a name of the corpus) asking for ``call`` is planted, read by
        the opening call in a session of ``user`` and obeyed by the model, reaching it wrapped
        only. Returns the model and the session."""
        self.plant(CORPUS[injection].text(call))
        model = self.obey(self.opening)
        session = self.ask_agent(user)
        self.assertObeyed(model, call)
        self.assertOnlyWrapped(model, CORPUS[injection])
        return model, session

    def assertSecretsNotKept(self, record, fname, user):
        """Planted credentials, and the model obeying their ask to copy them all into ``fname`` of
        ``record`` in a session of ``user``: they reached the tools, yet nothing of them is stored
        or served. Returns the session."""
        leak = {"model": record._name, "ids": record.ids, "values": {fname: " ".join(SECRETS.values())}}
        _model, session = self.obey_planted("exfiltrate", ("orm_write", leak), user)
        stored = self.stored_and_served(session)
        self.assertIn("Integration credentials", stored["execution content"])
        self.assertNoSecret(stored, secret_forms())
        return session

    def assertOnlyTheApproverDecides(self, session, requester):
        """The session waits for a decision its ``requester`` can neither take nor forge;
        returns the pending approval."""
        self.assertEqual(session.state, "waiting_approval")
        self.assertCannotApprove(session.approval_ids, requester)
        return session.approval_ids

    def reject(self, approval, approver, reason):
        """``approver`` rejects ``approval``: the session ends without the action."""
        with trap_jobs() as trap:
            approval.with_user(approver).action_reject(reason)
            perform_jobs(self, trap)
        approval.session_id.invalidate_recordset()
        self.assertEqual((approval.state, approval.session_id.state), ("rejected", "done"))


class AgentPackCase(AgentPackMixin, AiaCase):
    """A pack's case over ai_core's factories (company A is ``cls.company``)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.company
        cls.company_b = cls.other_company
