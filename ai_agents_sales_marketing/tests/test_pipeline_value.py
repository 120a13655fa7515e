from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolDenied, ToolInputError

from .common import SalesMarketingCase

TOOL = "sales.get_pipeline_value"


def row(key, label, count, expected, weighted):
    return {key: label, "opportunities": count, "expected_revenue": expected, "weighted_revenue": weighted}


@tagged("post_install", "-at_install")
class TestPipelineValue(SalesMarketingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_pipeline()

    def test_open_pipeline_per_stage_team_and_salesperson(self):
        result = self.call(TOOL)
        self.assertEqual((result["company"], result["currency"]), (self.company_a.name, "USD"))
        self.assertEqual(
            result["totals"],
            {
                "opportunities": 5,
                "expected_revenue": 45000.0,
                "weighted_revenue": 13000.0,
                "weighted_pct_of_expected": 28.9,
            },
        )
        # Stages in pipeline order, teams and salespeople by expected revenue.
        self.assertEqual(
            result["by_stage"],
            [
                row("stage", "New", 2, 12000.0, 2000.0),
                row("stage", "Qualified", 2, 28000.0, 8000.0),
                row("stage", "Proposition", 1, 5000.0, 3000.0),
            ],
        )
        self.assertEqual(
            result["by_team"],
            [row("team", "Direct", 3, 35000.0, 10000.0), row("team", "Partners", 2, 10000.0, 3000.0)],
        )
        self.assertEqual(
            result["by_salesperson"],
            [
                row("salesperson", "Alice Seller", 2, 30000.0, 7000.0),
                row("salesperson", "Bob Seller", 2, 13000.0, 5000.0),
                row("salesperson", "Unassigned", 1, 2000.0, 1000.0),
            ],
        )
        self.assertFalse(result["truncated"])

    def test_won_opportunities_on_request_lost_ones_never(self):
        result = self.call(TOOL, {"include_won": True})
        self.assertEqual(result["totals"]["expected_revenue"], 52000.0)
        self.assertEqual(result["totals"]["weighted_revenue"], 20000.0)
        self.assertEqual(result["by_stage"][-1], row("stage", "Won", 1, 7000.0, 7000.0))

    def test_filters_by_team_salesperson_stage_and_expected_closing(self):
        self.assertEqual(self.call(TOOL, {"team": "partners"})["totals"]["expected_revenue"], 10000.0)
        result = self.call(TOOL, {"salesperson": "sm_bob", "stage": "Qualified"})
        self.assertEqual(
            result["filters"], {"status": "open", "salesperson": "Bob Seller", "stage": "Qualified"}
        )
        self.assertEqual(result["totals"]["expected_revenue"], 8000.0)
        (self.p1 + self.p4).date_deadline = "2025-06-15"
        self.p2.date_deadline = "2025-07-01"
        result = self.call(TOOL, {"date_from": "2025-06-01", "date_to": "2025-06-30"})
        self.assertEqual(result["totals"]["expected_revenue"], 18000.0)
        self.assertEqual(self.call(TOOL, {"date_from": "2025-06-20"})["totals"]["expected_revenue"], 20000.0)

    def test_no_matching_opportunity_gives_zero_totals(self):
        result = self.call(TOOL, {"team": "Partners", "stage": "Proposition"})
        self.assertEqual(
            result["totals"],
            {
                "opportunities": 0,
                "expected_revenue": 0.0,
                "weighted_revenue": 0.0,
                "weighted_pct_of_expected": None,
            },
        )
        self.assertEqual((result["by_stage"], result["by_team"], result["truncated"]), ([], [], False))

    def test_limit_truncates_teams_and_salespeople_not_stages(self):
        result = self.call(TOOL, {"limit": 1})
        self.assertEqual([r["team"] for r in result["by_team"]], ["Direct"])
        self.assertEqual([r["salesperson"] for r in result["by_salesperson"]], ["Alice Seller"])
        self.assertEqual(len(result["by_stage"]), 3)
        self.assertTrue(result["truncated"])

    def test_a_salesperson_with_own_documents_sees_own_and_unassigned_opportunities(self):
        result = self.call(TOOL, user=self.alice)
        # Odoo's "Personal Leads" rule: P1, P2 (hers) and P5 (nobody's).
        self.assertEqual(result["totals"]["opportunities"], 3)
        self.assertEqual(result["totals"]["expected_revenue"], 32000.0)

    def test_a_company_b_session_sees_company_b_pipeline_only(self):
        result = self.call(TOOL, company=self.company_b)
        self.assertEqual(result["company"], "Company B")
        self.assertEqual(result["totals"]["expected_revenue"], 99000.0)
        self.assertEqual(result["by_team"], [row("team", "Team B", 1, 99000.0, 49500.0)])

    def test_unknown_stage_and_reversed_dates_are_input_errors(self):
        with self.assertRaisesRegex(ToolInputError, r"unknown stage 'Negotiation'; known: New, Qualified"):
            self.call(TOOL, {"stage": "Negotiation"})
        with self.assertRaisesRegex(ToolInputError, "the period is reversed: date_from 2025-07-01 is after"):
            self.call(TOOL, {"date_from": "2025-07-01", "date_to": "2025-06-01"})
        with self.assertRaisesRegex(ToolInputError, "unknown sales team 'Nobody'"):
            self.call(TOOL, {"team": "Nobody"})

    def test_a_user_without_crm_rights_is_denied(self):
        with self.assertRaises(ToolDenied):
            self.call(TOOL, user=self.user)
