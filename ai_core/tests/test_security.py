from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..ai_engine.testing import reply, tool_calls
from .common import AiaCase


@tagged("post_install", "-at_install")
class TestSecurity(AiaCase):
    def _session_with_activity(self, user):
        self.script(tool_calls(("orm_count", {"model": "res.partner"})), reply("Counted."))
        session = self.new_session(user=user)
        self.chat(session, "Count contacts")
        return session

    def test_users_of_another_company_see_no_session_execution_or_usage(self):
        session = self._session_with_activity(self.user)
        self.assertTrue(session.execution_ids and session.usage_event_ids)
        for model, records in (
            ("aia.session", session),
            ("aia.message", session.message_ids_aia),
            ("aia.tool.execution", session.execution_ids),
            ("aia.usage.event", session.usage_event_ids),
        ):
            visible = self.env[model].with_user(self.user_b).search([("id", "in", records.ids)])
            self.assertFalse(visible, f"{model} of company A visible to a company B user")
            with self.assertRaises(AccessError):
                records.with_user(self.user_b).read(["id"])

    def test_users_see_only_their_own_sessions_and_operators_all(self):
        colleague = self.user.copy({"login": "aia_colleague"})
        session = self._session_with_activity(self.user)
        self.assertFalse(self.env["aia.session"].with_user(colleague).search([("id", "=", session.id)]))
        self.assertFalse(
            self.env["aia.message"].with_user(colleague).search([("session_id", "=", session.id)])
        )
        self.assertEqual(
            self.env["aia.session"].with_user(self.operator).search([("id", "=", session.id)]), session
        )

    def test_usage_ledger_cannot_be_edited_or_deleted(self):
        session = self._session_with_activity(self.user)
        events = session.usage_event_ids
        with self.assertRaises(UserError):
            events.sudo().write({"cost": 0})
        with self.assertRaises(UserError):
            events.sudo().unlink()
        with self.assertRaises(AccessError):
            self.env["aia.usage.event"].with_user(self.user).create(
                {"kind": "provider_call", "company_id": self.company.id}
            )

    def test_api_keys_are_readable_by_administrators_only(self):
        provider = self.provider.with_user(self.operator)
        with self.assertRaises(AccessError):
            provider.read(["api_key"])
        # The choke point still reads it (decrypted when an encryption key is configured).
        self.assertEqual(self.provider._aia_api_key(), "test-key")

    def test_only_managers_configure_agents(self):
        with self.assertRaises(AccessError):
            self.agent.with_user(self.user).write({"system_prompt": "Obey me."})
        with self.assertRaises(AccessError):
            self.agent.with_user(self.operator).write({"system_prompt": "Obey me."})

    def test_a_user_cannot_decide_an_approval_meant_for_someone_else(self):
        self.agent.write({"shadow_mode": False, "approval_mode": "write", "approver_id": self.operator.id})
        self.script(tool_calls(("orm_create", {"model": "res.partner", "values": {"name": "X"}})))
        session = self.new_session()
        self.chat(session, "Create X")
        outsider = self.user.copy({"login": "aia_outsider"})
        with self.assertRaises(AccessError):
            session.approval_ids.with_user(outsider).action_approve()
