from datetime import datetime

from odoo import Command

from odoo.addons.ai_core.tests.common import AiaCase

MARCH = "2026-03-01"


def at(text):
    """A naive UTC datetime from 'YYYY-MM-DD HH:MM:SS'."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


class BillingCase(AiaCase):
    """AiaCase plus a plan in USD on both companies, a second agent and an AI manager."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.usd = cls.env.ref("base.USD")
        cls.usd.active = True
        cls.plan = cls.env["aia.billing.plan"].create({"name": "Standard", "currency_id": cls.usd.id})
        cls.version = cls.env["aia.billing.plan.version"].create(
            {
                "plan_id": cls.plan.id,
                "date_from": "2026-01-01",
                "price_input": 1,
                "price_output": 2,
                "price_cache_read": 0.1,
                "price_cache_write": 1.25,
                "price_tool_call": 0.002,
                "price_kb_query": 0.0015,
                "price_ids": [
                    Command.create(
                        {
                            "model_name": "claude-test",
                            "price_input": 3,
                            "price_output": 15,
                            "price_cache_read": 0.3,
                            "price_cache_write": 3.75,
                        }
                    )
                ],
            }
        )
        (cls.company | cls.other_company).aia_billing_plan_id = cls.plan
        cls.analyst = cls.env["aia.agent"].create(
            {"code": "analyst", "name": "Analyst", "system_prompt": "You analyse.", "model_id": cls.llm.id}
        )
        cls.manager = cls.make_user("aia_billing_manager", "ai_core.group_aia_manager")

    @classmethod
    def event(cls, date, kind="provider_call", company=None, agent=None, user=None, **values):
        """Append one row to the usage ledger (as the platform does, through the ORM)."""
        if kind == "provider_call":
            values.setdefault("model_name", "claude-test")
        tokens = sum(
            values.get(name, 0)
            for name in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
        )
        return cls.env["aia.usage.event"].create(
            {
                "date": date,
                "kind": kind,
                "company_id": (company or cls.company).id,
                "agent_id": (agent or cls.agent).id,
                "user_id": (user or cls.user).id,
                "total_tokens": tokens,
                **values,
            }
        )

    def statement(self, period=MARCH, company=None):
        Statement = self.env["aia.billing.statement"]
        return Statement._aia_get_or_create(company or self.company, at(f"{period} 00:00:00"))

    @staticmethod
    def lines(statement):
        """The statement's lines as comparable tuples, in their order."""
        return [
            (line.agent_id.code or False, line.model_name, line.kind)
            + (line.quantity, line.unit_price, line.amount)
            for line in statement.line_ids
        ]

    def march_ledger(self):
        """The hand-built ledger of the exact-amount tests, with noise around it."""
        # Agent "assistant" on claude-test (its own prices: 3 / 15 / 0.3 / 3.75 per 1M).
        self.event(
            at("2026-03-01 00:00:00"),
            input_tokens=1_000_000,
            output_tokens=200_000,
            cache_read_tokens=500_000,
            cache_write_tokens=10_000,
        )
        self.event(at("2026-03-31 23:59:59"), input_tokens=234_567, output_tokens=1_001)
        for _ in range(3):
            self.event(at("2026-03-10 08:00:00"), kind="tool_call", tool_name="orm.count")
        # Agent "analyst" on a model without prices of its own: the version's defaults (1 / 2 / 0.1 / 1.25).
        self.event(
            at("2026-03-15 12:00:00"),
            agent=self.analyst,
            model_name="other-model",
            input_tokens=1_005_000,
            cache_write_tokens=20_000,
        )
        for _ in range(2):
            self.event(at("2026-03-20 09:30:00"), kind="kb_query", agent=self.analyst)
        # Outside the month, or another company's: never on this statement.
        self.event(at("2026-02-28 23:59:59"), input_tokens=1_000_000)
        self.event(at("2026-04-01 00:00:00"), input_tokens=1_000_000)
        self.event(
            at("2026-03-12 10:00:00"), company=self.other_company, user=self.user_b, input_tokens=7_000_000
        )
