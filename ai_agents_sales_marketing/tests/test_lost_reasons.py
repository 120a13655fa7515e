from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolDenied, ToolInputError

from .common import SalesMarketingCase

TOOL = "sales.get_lost_reasons"
APRIL = {"date_from": "2025-04-01", "date_to": "2025-04-30"}
LOST_IN_APRIL = [
    ("won_status", "=", "lost"),
    ("date_closed", ">=", "2025-04-01 00:00:00"),
    ("date_closed", "<", "2025-05-01 00:00:00"),
]


@tagged("post_install", "-at_install")
class TestLostReasons(SalesMarketingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Reason = cls.env["crm.lost.reason"]
        cls.price, cls.timing = Reason.create([{"name": "Zq Price"}, {"name": "Zq Timing"}])

        def lost(name, team, user, expected, reason, closed, **values):
            lead = cls.lead(name, team, user, expected_revenue=expected, **values)
            lead.action_set_lost(lost_reason_id=reason.id if reason else False)
            cls.sql_write(lead, date_closed=closed)
            return lead

        # Lost in April 2025 in company A: Price 10 000 + 5 000 + 1 000 (a lead), Timing 3 000,
        # no reason 2 000. Not in April: a Price loss in March; company B's Price loss in April.
        cls.l1 = lost("L1", cls.direct, cls.alice, 10000, cls.price, "2025-04-03 10:00:00")
        cls.l2 = lost("L2", cls.direct, cls.bob, 5000, cls.price, "2025-04-20 10:00:00")
        cls.l3 = lost("L3", cls.partners_team, cls.bob, 3000, cls.timing, "2025-04-30 23:00:00")
        cls.l4 = lost("L4", cls.direct, cls.alice, 2000, None, "2025-04-15 10:00:00")
        cls.l5 = lost("L5", cls.partners_team, None, 1000, cls.price, "2025-04-16 10:00:00", type="lead")
        cls.march = lost("LM", cls.direct, cls.alice, 50000, cls.price, "2025-03-31 23:00:00")
        cls.lost_b = lost("LB", cls.team_b, cls.manager, 99000, cls.price, "2025-04-10 10:00:00")
        # Won and open ones are not lost.
        cls.won = cls.lead("W", cls.direct, cls.alice, expected_revenue=7000)
        cls.won.action_set_won()
        cls.lead("O", cls.direct, cls.alice, expected_revenue=8000)

    def crm_groups(self, groupby, user=None, company=None):
        """Odoo's CRM grouped read of the leads lost in April, as ``user`` sees them."""
        leads = self.user_env(user or self.manager, company)["crm.lead"].with_context(active_test=False)
        groups = leads._read_group(
            LOST_IN_APRIL, [groupby] if groupby else [], ["__count", "expected_revenue:sum"]
        )
        return {group[0] if groupby else (): tuple(group[-2:]) for group in groups}

    def test_lost_per_reason_and_salesperson_are_odoos(self):
        result = self.call(TOOL, APRIL)
        self.assertEqual((result["company"], result["currency"]), (self.company_a.name, "USD"))
        # Lost: archived with a probability of 0, as "Mark as lost" leaves them.
        self.assertEqual(
            (self.l1.active, self.l1.probability, self.l1.lost_reason_id), (False, 0, self.price)
        )
        [(count, expected)] = self.crm_groups(None).values()
        self.assertEqual(result["totals"], {"lost": count, "expected_revenue": expected})
        self.assertEqual((count, expected), (5, 21000.0), "the class doc")
        per_reason = self.crm_groups("lost_reason_id")
        # Most lost first: Price (3), then Timing and no reason (1 each) by expected revenue.
        self.assertEqual(
            result["by_reason"],
            [
                {
                    "reason": name,
                    "lost": per_reason[reason][0],
                    "expected_revenue": per_reason[reason][1],
                    "share_pct": round(100 * per_reason[reason][0] / count, 1),
                }
                for reason, name in (
                    (self.price, "Zq Price"),
                    (self.timing, "Zq Timing"),
                    (self.price.browse(), "No reason"),
                )
            ],
        )
        self.assertEqual(len(per_reason), 3)
        per_user = self.crm_groups("user_id")
        self.assertEqual(
            {row["salesperson"]: (row["lost"], row["expected_revenue"]) for row in result["by_salesperson"]},
            {user.name if user else "Unassigned": figures for user, figures in per_user.items()},
        )
        self.assertFalse(result["truncated"])

    def test_team_filter_and_limit(self):
        result = self.call(TOOL, {**APRIL, "team": "Partners", "limit": 1})
        self.assertEqual(result["filters"], {"team": "Partners"})
        self.assertEqual(result["totals"], {"lost": 2, "expected_revenue": 4000.0})
        self.assertEqual(len(result["by_reason"]), 1)
        self.assertTrue(result["truncated"])

    def test_a_salesperson_sees_their_own_and_unassigned_leads(self):
        result = self.call(TOOL, APRIL, user=self.bob)
        # What Odoo's CRM shows Bob: his own leads and the unassigned ones.
        [(count, expected)] = self.crm_groups(None, user=self.bob).values()
        self.assertEqual(result["totals"], {"lost": count, "expected_revenue": expected})
        self.assertEqual((count, expected), (3, 9000.0))

    def test_company_b_losses_only_in_a_company_b_session(self):
        result = self.call(TOOL, APRIL, company=self.company_b)
        [(count, expected)] = self.crm_groups(None, company=self.company_b).values()
        self.assertEqual(result["totals"], {"lost": count, "expected_revenue": expected})
        self.assertEqual(expected, 99000.0)
        with self.assertRaisesRegex(ToolInputError, "unknown sales team"):
            self.call(TOOL, {**APRIL, "team": self.team_b.id})
        self.assertNotIn("99000", str(self.call(TOOL, {**APRIL, "salesperson": self.manager.id})))
        with self.assertRaises(ToolDenied):
            self.call(TOOL, APRIL, user=self.user)
