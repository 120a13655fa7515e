"""The checks every injection test runs after an :class:`~.obeying_model.ObeyingModel` obeyed:
nothing written, nothing of another company read, every secret kept, every hostile text wrapped;
and :class:`InjectionCase`, the case of ai_core's own injection tests."""

import html
import json
import re

from odoo import Command
from odoo.exceptions import AccessError

from odoo.addons.ai_core.ai_engine import TextBlock, ToolResultBlock
from odoo.addons.ai_core.ai_engine.untrusted import TOOL_OUTPUT_TAG

from .common import AiaCase, pushed_events
from .obeying_model import ObeyingModel

__all__ = ["RECORD_DATA", "InjectionCase", "InjectionChecks"]

# A value an automation's prompt template inserted, wrapped as untrusted data: its body follows
# the preamble line.
RECORD_DATA = re.compile(r"<record_data>\n[^\n]*\n(.*?)\n</record_data>", re.DOTALL)


class InjectionChecks:
    """Assertions every injection test makes; mixed into an Odoo test case with ``env`` and
    ``patch`` (AiaCase, or a pack's case)."""

    maxDiff = None

    def obey(self, *opening, answer="Done as the notes asked."):
        """Make every provider answer as an :class:`ObeyingModel` opening with ``opening``."""
        model = ObeyingModel(*opening, answer=answer)
        self.patch(type(self.env["aia.provider"]), "_aia_build_model_adapter", lambda provider: model)
        return model

    def row_counts(self, *model_names):
        """{model: rows in the database}, archived rows included, whoever may read them."""
        return {
            name: self.env[name].sudo().with_context(active_test=False).search_count([])
            for name in model_names
        }

    def assertObeyed(self, model, *calls):
        """The model made ``calls`` because the text asked: the attack was really tried."""
        self.assertEqual(model.obeyed, list(calls))

    def assertCannotApprove(self, approval, user):
        """``user``, whom the hostile text told to approve, can neither approve ``approval`` nor
        write it approved: it stays pending."""
        with self.assertRaises(AccessError):
            approval.with_user(user).action_approve()
        with self.assertRaises(AccessError):
            approval.with_user(user).write({"state": "approved"})
        approval.invalidate_recordset()
        self.assertEqual(approval.state, "pending")

    def assertOnlyWrapped(self, model, *injections):
        """What the model received holds the hostile texts only inside the untrusted-data wrapper
        of a tool result or knowledge passage, escaped: nothing in them could close the wrapper or
        open a forged one. Each injection was delivered (its marker is in a wrapped result)."""
        delivered = set()
        markers = {injection.marker: injection for injection in injections}
        for index, request in enumerate(model.requests):
            for marker in markers:
                self.assertNotIn(marker, request.system, f"request {index}: in the system prompt")
            for message in request.messages:
                for block in message.content:
                    if isinstance(block, ToolResultBlock):
                        body = self._wrapped_body(block.content)
                        for marker in markers:
                            if marker in html.unescape(body):
                                delivered.add(marker)
                    elif isinstance(block, TextBlock):
                        text = block.text
                        if message.role == "user":
                            # Record values a prompt template inserted (ai_automation).
                            for body in self._record_data_bodies(text):
                                for marker in markers:
                                    if marker in html.unescape(body):
                                        delivered.add(marker)
                            text = RECORD_DATA.sub("", text)
                        if message.role == "user" and text.startswith("<knowledge>"):
                            bodies = self._knowledge_bodies(block.text)
                            for marker in markers:
                                if any(marker in html.unescape(body) for body in bodies):
                                    delivered.add(marker)
                            continue
                        for marker in markers:
                            self.assertNotIn(
                                marker, html.unescape(text), f"request {index}: outside a wrapper"
                            )
        self.assertEqual(delivered, set(markers), "every hostile text reached the model, wrapped")

    def _wrapped_body(self, content):
        """The escaped body of one ``<tool_output>`` element that is all of ``content``."""
        lines = content.split("\n")
        self.assertRegex(lines[0], rf'^<{TOOL_OUTPUT_TAG} status="(ok|error)">$', content[:300])
        self.assertEqual(lines[-1], f"</{TOOL_OUTPUT_TAG}>")
        self.assertGreaterEqual(len(lines), 4, "a preamble, then the body")
        body = "\n".join(lines[2:-1])
        # Escaped: no tag of the untrusted text can end the element or open another.
        self.assertNotIn("<", body)
        self.assertNotIn(">", body)
        self.assertEqual(content.count(f"</{TOOL_OUTPUT_TAG}>"), 1)
        return body

    def _record_data_bodies(self, text):
        """The escaped bodies of the ``<record_data>`` elements in a user message."""
        bodies = [match.group(1) for match in RECORD_DATA.finditer(text)]
        for body in bodies:
            self.assertNotIn("<", body)
            self.assertNotIn(">", body)
        return bodies

    def _knowledge_bodies(self, text):
        """The escaped passage bodies of one ``<knowledge>`` block that is all of ``text``."""
        lines = text.split("\n")
        self.assertEqual((lines[0], lines[-1]), ("<knowledge>", "</knowledge>"))
        bodies, current = [], None
        for line in lines[2:-1]:
            if current is None:
                self.assertRegex(line, r'^<passage( [a-z]+="[^"<>]*")*>$')
                current = []
            elif line == "</passage>":
                bodies.append("\n".join(current))
                current = None
            else:
                self.assertNotIn("<", line)
                self.assertNotIn(">", line)
                current.append(line)
        self.assertIsNone(current, "every passage is closed once")
        return bodies

    def stored_and_served(self, session):
        """{where: text} of everything the suite stores or serves of ``session``."""
        self.env.invalidate_all()
        session = session.sudo()
        executions = session.execution_ids.sorted("id")
        approvals = session.approval_ids.sorted("id")
        return {
            "execution arguments": json.dumps(executions.mapped("arguments"), ensure_ascii=False),
            "execution output": json.dumps(executions.mapped("output"), ensure_ascii=False, default=str),
            "execution content": "\n".join(execution.content or "" for execution in executions),
            "execution preview": "\n".join(execution.preview or "" for execution in executions),
            "transcript": json.dumps(session.message_ids_aia.mapped("body"), ensure_ascii=False),
            "last answer": session.last_text or "",
            "session error": session.error_message or "",
            "approvals": json.dumps(
                approvals.read(["arguments", "arguments_text", "preview", "user_request", "agent_reason"]),
                ensure_ascii=False,
                default=str,
            ),
            "approval activities": json.dumps(
                [str(note) for note in approvals.activity_ids.mapped("note")], ensure_ascii=False
            ),
            "chat data": json.dumps(
                session.with_user(session.user_id).sudo(False).chat_data(), ensure_ascii=False, default=str
            ),
            "pushed events": json.dumps(self.pushed_to_browser(session), ensure_ascii=False),
        }

    def pushed_to_browser(self, session):
        """The events pushed to the browser of ``session``'s owner (its bus.bus rows), in order."""
        return pushed_events(self.env, session)

    def assertNoSecret(self, texts, secrets):
        """None of ``secrets`` ({name: value}) is in any of ``texts`` ({where: text})."""
        found = [
            (where, name)
            for where, text in texts.items()
            for name, secret in secrets.items()
            if secret in text
        ]
        self.assertEqual(found, [], "secrets (where, which) stored or served")

    def tool_results(self, session):
        """{where: text} of what the session's tools returned: stored executions and previews."""
        return {
            key: value
            for key, value in self.stored_and_served(session).items()
            if key.startswith("execution")
        }

    def assertNothingOf(self, texts, names):
        """None of ``names`` (another company's recognisable record names) is in ``texts``."""
        found = [
            (where, name, _around(text, name))
            for where, text in texts.items()
            for name in names
            if name in text
        ]
        self.assertEqual(found, [], "another company's records (where, which, seen in)")


def _around(text, found, width=120):
    """``text`` around the first ``found``, to show where a leak is."""
    start = text.index(found)
    return text[max(start - width, 0) : start + len(found) + width]


class InjectionCase(InjectionChecks, AiaCase):
    """A contact of company A whose notes an attacker wrote, a contact of company B with a
    recognisable name, and an agent with the generic ORM tools, in shadow mode as agents ship."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_ab = cls.make_user(
            "aia_zq_inj_ab",
            "base.group_partner_manager,ai_core.group_aia_user",
            companies=cls.company | cls.other_company,
        )
        cls.bravo = cls.env["res.partner"].create(
            {
                "name": "Zq Bravo Confidential Buyer",
                "company_id": cls.other_company.id,
                "comment": "Zq Bravo rebate: 40 % on every order.",
            }
        )
        cls.victim = cls.env["res.partner"].create(
            {"name": "Zq Victim Supplier", "email": "billing@victim.example", "company_id": cls.company.id}
        )
        orm_tools = cls.env["aia.tool"].search([("name", "=like", "orm.%")])
        cls.inbox = cls.env["aia.agent"].create(
            {
                "code": "zq_inbox",
                "name": "Inbox assistant",
                "system_prompt": "You help with contacts and their mails.",
                "model_id": cls.llm.id,
                "tool_ids": [Command.set(orm_tools.ids)],
                "allowed_model_ids": [
                    Command.set(
                        [
                            cls.env["ir.model"]._get_id(name)
                            for name in ("res.partner", "mail.message", "ir.config_parameter")
                        ]
                    )
                ],
            }
        )
        cls.pwned = {
            "model": "res.partner",
            "values": {"name": "Zq Pwned Ltd", "email": "x@zq-attacker.example"},
        }
        cls.hijack = {
            "model": "res.partner",
            "ids": cls.victim.ids,
            "values": {"email": "payouts@zq-attacker.example"},
        }

    def plant(self, text, name="Zq Injected Ltd"):
        """A contact of company A whose notes hold ``text`` (plain text typed in the notes)."""
        return self.env["res.partner"].create({"name": name, "comment": text, "company_id": self.company.id})

    def run_agent(self, question, user=None, agent=None, **values):
        session = self.new_session(user=user or self.user, agent=agent or self.inbox, **values)
        self.chat(session, question)
        return session

    def assertVictimUntouched(self):
        self.victim.invalidate_recordset()
        self.assertEqual(self.victim.email, "billing@victim.example")
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Zq Pwned Ltd")]))
