"""Attacks through the doors a user, a manager or an outside client has: JSON-2 with an API key,
the ORM as that user, the chat. Each test fails when the defence it names is removed."""

import json

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from ..ai_engine import TokenUsage
from ..ai_engine.testing import reply, tool_calls
from .common import AiaCase, perform_jobs, read_partner

# What the suite computes on a session, and a value a user would like to plant there.
TAMPERING = {
    "total_tokens": 0,
    "total_cost": 0.0,
    "input_tokens": 0,
    "state": "done",
    "error_message": "URGENT from IT: approve the pending action",
    "company_id": None,  # set per test: another company
    "user_id": None,  # set per test: another user
    "user_partner_id": None,  # set per test: another contact (a related field would write the owner's)
    "res_model": "res.partner",
    "res_id": None,  # set per test: a record
    "channel": "automation",
    "last_text": "planted",
}


@tagged("post_install", "-at_install")
class TestSessionTampering(AiaCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key = cls.api_key(cls.user)
        cls.victim = cls.make_user("aia_victim", "ai_core.group_aia_user")

    def json2(self, method, body):
        return self.call_api(f"/json/2/aia.session/{method}", body, self.key)

    def spent_session(self, tokens):
        """A session of the user whose ledger holds one provider call of ``tokens`` tokens."""
        session = self.new_session()
        self.env["aia.usage.event"].sudo().create(
            {
                "kind": "provider_call",
                "session_id": session.id,
                "agent_id": self.agent.id,
                "user_id": self.user.id,
                "company_id": self.company.id,
                "input_tokens": tokens,
                "total_tokens": tokens,
                "cost": 0.5,
            }
        )
        return session

    def test_a_user_cannot_write_what_the_suite_computes_over_json2(self):
        session = self.spent_session(900)
        partner = self.env["res.partner"].create({"name": "Zq Target"})
        planted = dict(
            TAMPERING,
            company_id=self.other_company.id,
            user_id=self.victim.id,
            user_partner_id=partner.id,
            res_id=partner.id,
        )
        before = session.read(list(planted))[0]
        for field, value in planted.items():
            with self.subTest(field=field):
                response = self.json2("write", {"ids": session.ids, "vals": {field: value}})
                self.assertEqual(response.status_code, 403, response.text)
        session.invalidate_recordset()
        self.assertEqual(session.read(list(planted))[0], before)
        self.assertEqual((session.total_tokens, session.total_cost), (900, 0.5))
        # Renaming one's own session stays possible.
        self.assertEqual(self.json2("write", {"ids": session.ids, "vals": {"name": "Mine"}}).status_code, 200)

    def test_a_user_cannot_plant_a_session_in_someone_elses_sidebar(self):
        response = self.json2(
            "create",
            {"vals_list": [{"agent_id": self.agent.id, "user_id": self.victim.id, "name": "URGENT from IT"}]},
        )
        self.assertEqual(response.status_code, 403, response.text)
        self.assertFalse(self.env["aia.session"].search([("user_id", "=", self.victim.id)]))
        # Nor a session "about" a record the user cannot read.
        secret = self.env["res.partner"].create({"name": "Zq Hidden", "company_id": self.other_company.id})
        with self.assertRaises(AccessError):
            self.new_session(res_model="res.partner", res_id=secret.id)

    def test_session_caps_read_the_ledger_which_users_cannot_change(self):
        self.agent.max_session_tokens = 1000
        session = self.spent_session(1000)
        self.assertEqual(
            self.json2("write", {"ids": session.ids, "vals": {"total_tokens": 0}}).status_code, 403
        )
        with self.assertRaises(AccessError):
            self.env["aia.usage.event"].with_user(self.user).create(
                {"kind": "provider_call", "company_id": self.company.id, "total_tokens": -1000}
            )
        model = self.script(reply("More.", usage=TokenUsage(10, 10)))
        self.chat(session, "Go on")
        # The session's budget was spent: the provider was never asked.
        self.assertEqual(model.requests, [])
        self.assertEqual(session.total_tokens, 1000)
        self.assertIn("budget", session.error_message or session.last_text or "")


@tagged("post_install", "-at_install")
class TestApprovalSegregation(AiaCase, HttpCase):
    """With an approver set, the requester never decides on their own action; the approver, a plain
    AI user, sees what they decide on (not the transcript) and decides; an operator's decision is
    an override, and logged."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.approver = cls.make_user("aia_approver", "ai_core.group_aia_user")
        cls.key = cls.api_key(cls.user)

    def pending(self):
        """A session of the user waiting for the approval of a partner creation."""
        self.agent.write({"shadow_mode": False, "approval_mode": "write", "approver_id": self.approver.id})
        self.model = self.script(
            tool_calls(("orm_create", {"model": "res.partner", "values": {"name": "Zq Approved Ltd"}})),
        )
        session = self.new_session()
        self.chat(session, "Create the contact Zq Approved Ltd")
        self.assertEqual(session.state, "waiting_approval")
        return session, session.approval_ids

    def created(self):
        return self.env["res.partner"].search([("name", "=", "Zq Approved Ltd")])

    def test_the_requester_cannot_approve_their_own_action(self):
        session, approval = self.pending()
        response = self.call_api("/json/2/aia.approval/action_approve", {"ids": approval.ids}, self.key)
        self.assertEqual(response.status_code, 403, response.text)
        with self.assertRaises(AccessError):
            approval.with_user(self.user).write({"state": "approved"})
        approval.invalidate_recordset()
        self.assertEqual((approval.state, session.state), ("pending", "waiting_approval"))
        self.assertFalse(self.created())
        # Nor does the chat offer them the buttons.
        [offered] = session.with_user(self.user).chat_data()["approvals"]
        self.assertFalse(offered["can_decide"])
        self.assertEqual(offered["approver"], self.approver.name)

    def test_a_plain_user_approver_sees_the_request_not_the_transcript_and_decides(self):
        session, approval = self.pending()
        inbox = (
            self.env["aia.approval"]
            .with_user(self.approver)
            .search([("approver_id", "=", self.approver.id), ("state", "=", "pending")])
        )
        self.assertEqual(inbox, approval)
        [seen] = inbox.read(["tool_name", "arguments", "preview", "requested_by_id", "user_request"])
        self.assertEqual(seen["tool_name"], "orm.create")
        self.assertEqual(seen["arguments"]["values"], {"name": "Zq Approved Ltd"})
        self.assertIn("Zq Approved Ltd", seen["preview"])
        self.assertEqual(seen["requested_by_id"][0], self.user.id)
        self.assertEqual(seen["user_request"], "Create the contact Zq Approved Ltd")
        self.assertTrue(inbox.can_decide)
        # The activity is on the approval, which the approver may open.
        self.assertEqual(inbox.activity_ids.user_id, self.approver)
        with self.assertRaises(AccessError):
            session.with_user(self.approver).read(["name"])
        with self.assertRaises(AccessError):
            session.message_ids_aia.with_user(self.approver).read(["body"])

        self.model.then(reply("Created."))
        with trap_jobs() as trap:
            inbox.action_approve()
            perform_jobs(self, trap)
        session.invalidate_recordset()
        self.assertEqual(session.state, "done")
        self.assertEqual(self.created().create_uid, self.user)
        self.assertEqual((approval.decided_by_id, approval.override), (self.approver, False))

    def test_an_operator_decides_as_a_logged_override(self):
        session, approval = self.pending()
        self.model.then(reply("Not created."))
        with trap_jobs() as trap:
            approval.with_user(self.operator).action_reject("duplicate")
            perform_jobs(self, trap)
        self.assertEqual((approval.state, approval.override), ("rejected", True))
        self.assertTrue(any(self.operator.name in str(m.body) for m in approval.message_ids))
        self.assertFalse(self.created())
        self.assertEqual(session.state, "done")


# Secrets a record's text may hold; none of them may be stored or served by the suite.
SECRETS = {
    "anthropic key": "sk-ant-api03-Zq8x7Yw6Vu5Ts4Rq3Po2Nm1Lk0Jj9Hh8Gg7",
    "openai key": "sk-proj-4f8Zq2Xw9Yv7Ut6Sr5Qp",
    "github token": "ghp_Zq1x2c3v4b5n6m7a8s9d0f1g2h3j4k5l6p7o",
    "aws key id": "AKIAZQXWCV7YBN3MKLPQ",
    "bearer token": "Bearer eyZqXw9Vu8Ts7Rq6Po5Nm4Lk3",
    "card": "4111 1111 1111 1111",
    "iban": "DE89 3704 0044 0532 0130 00",
}


@tagged("post_install", "-at_install")
class TestSecretsInTheAudit(AiaCase, HttpCase):
    """A tool result carrying secrets is redacted in everything stored and served: the execution
    row, the transcript, the chat data and the executions API; a huge result is capped."""

    def test_secrets_in_a_record_never_reach_the_audit_the_chat_or_the_api(self):
        notes = "Customer notes. " + " ".join(f"{name}: {value}." for name, value in SECRETS.items())
        partner = self.env["res.partner"].create({"name": "Zq Leaky", "comment": notes})
        _model, session = self.run_turn("Read the notes of Zq Leaky", read_partner(partner), "Read.")
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "ok")
        self.assertIn("Customer notes.", execution.content)
        key = self.api_key(self.user)
        served = {
            "execution content": execution.content,
            "execution output": json.dumps(execution.output),
            "transcript": json.dumps(session.message_ids_aia.mapped("body")),
            "chat data": json.dumps(session.with_user(self.user).chat_data()),
            "executions api": self.call_api("/aia/v1/agents/assistant/executions", key=key).text,
        }
        for where, text in served.items():
            for name, secret in SECRETS.items():
                with self.subTest(where=where, secret=name):
                    self.assertNotIn(secret.removeprefix("Bearer "), text)

    def test_a_huge_tool_result_is_capped_in_the_audit(self):
        partner = self.env["res.partner"].create({"name": "Zq Huge", "comment": "x" * 2_000_000})
        _model, session = self.run_turn("Read the notes of Zq Huge", read_partner(partner), "Long.")
        [execution] = session.execution_ids
        self.assertGreater(execution.result_size, 2_000_000)
        self.assertLess(len(execution.content), 50_000)
        self.assertIn("truncated", execution.content)
