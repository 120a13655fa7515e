from odoo.tests import HttpCase, freeze_time, tagged

from odoo.addons.ai_core.ai_engine.testing import reply

from .common import BillingCase, at


@tagged("post_install", "-at_install")
class TestBudgetApi(BillingCase, HttpCase):
    def test_the_api_answers_a_spent_budget_with_its_message_and_calls_no_provider(self):
        key = self.api_key(self.user, "billing test")
        model = self.script(reply("never sent"))
        with freeze_time("2026-05-20 12:00:00"):
            self.env["aia.billing.budget"].create({"company_id": self.company.id, "amount": 5})
            self.event(at("2026-05-02 00:00:00"), input_tokens=2_000_000)  # 6.00 of 5.00
            response = self.call_api("/aia/v1/agents/assistant/chat", {"message": "Hello"}, key)
        # The API answers a refused turn with 403 "refused" and the reason.
        self.assertEqual(response.status_code, 403, response.text)
        error = response.json()["error"]
        self.assertEqual(error["code"], "refused")
        self.assertIn(f"monthly AI budget of {self.company.name} is spent", error["message"])
        self.assertEqual(model.requests, [])
        self.assertFalse(self.env["aia.session"].search([("user_id", "=", self.user.id)]))
