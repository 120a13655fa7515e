import datetime as dt

from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolDenied, ToolInputError

from .common import SalesMarketingCase

TOOL = "marketing.get_pipeline_overview"


def figures(leads=0, opportunities=0, expected=0.0, won=0, lost=0):
    return {
        "leads": leads,
        "opportunities": opportunities,
        "expected_revenue": expected,
        "won": won,
        "lost": lost,
    }


@tagged("post_install", "-at_install")
class TestPipelineOverview(SalesMarketingCase):
    """Company A's leads (sources: Webinar, Partner referral ("Referral"); media: Newsletter mail,
    Trade show; campaign: Spring Launch):

    ====  ===========  =========  ==========  ===============  =============  ========
    name  type         stage      source      medium           campaign       expected
    ====  ===========  =========  ==========  ===============  =============  ========
    L1    lead         New        Webinar     Newsletter mail  Spring Launch
    L2    lead         New        Webinar
    L3    lead         New        Referral    Trade show                      (Feb. 2025)
    O1    opportunity  New        Webinar     Newsletter mail  Spring Launch  10 000
    O2    opportunity  Qualified  Referral    Trade show                      4 000 (Feb. 2025)
    O3    opportunity  New                                                    1 000
    W1    won          Won        Webinar                      Spring Launch  6 000
    X1    lost opp.    Qualified  Referral    Trade show                      2 000
    X2    lost lead    New        Webinar
    ====  ===========  =========  ==========  ===============  =============  ========

    Never counted: an archived opportunity that was not marked lost (Webinar), company B's lead.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.webinar, cls.referral = cls.utm("source", "Webinar", "Partner referral")
        cls.newsletter, cls.trade_show = cls.utm("medium", "Newsletter mail", "Trade show")
        cls.spring = cls.utm("campaign", "Spring Launch")

        def lead(name, lead_type, source=None, medium=None, campaign=None, **values):
            return cls.lead(
                name,
                cls.direct,
                cls.alice,
                type=lead_type,
                source_id=source.id if source else False,
                medium_id=medium.id if medium else False,
                campaign_id=campaign.id if campaign else False,
                **values,
            )

        new, qualified = cls.stage_new.id, cls.stage_qualified.id
        lead("L1", "lead", cls.webinar, cls.newsletter, cls.spring)
        lead("L2", "lead", cls.webinar)
        cls.l3 = lead("L3", "lead", cls.referral, cls.trade_show)
        lead(
            "O1", "opportunity", cls.webinar, cls.newsletter, cls.spring, stage_id=new, expected_revenue=10000
        )
        cls.o2 = lead(
            "O2", "opportunity", cls.referral, cls.trade_show, stage_id=qualified, expected_revenue=4000
        )
        lead("O3", "opportunity", stage_id=new, expected_revenue=1000)
        lead(
            "W1", "opportunity", cls.webinar, None, cls.spring, stage_id=new, expected_revenue=6000
        ).action_set_won()
        lead(
            "X1", "opportunity", cls.referral, cls.trade_show, stage_id=qualified, expected_revenue=2000
        ).action_set_lost()
        lead("X2", "lead", cls.webinar).action_set_lost()
        lead(
            "A1", "opportunity", cls.webinar, stage_id=new, expected_revenue=500, probability=30
        ).action_archive()
        cls.lead("B1", cls.team_b, type="lead", source_id=cls.webinar.id)
        cls.sql_write(cls.l3 + cls.o2, create_date=dt.datetime(2025, 2, 10, 9, 0))

    def test_leads_and_opportunities_per_stage_source_medium_and_campaign(self):
        result = self.call(TOOL, user=self.marketer)
        self.assertEqual(result["currency"], "USD")
        self.assertEqual(result["totals"], figures(3, 3, 15000.0, 1, 2))
        self.assertEqual(
            result["by_stage"],
            [
                {"stage": "New", **figures(3, 2, 11000.0, 0, 1)},
                {"stage": "Qualified", **figures(0, 1, 4000.0, 0, 1)},
                {"stage": "Won", **figures(won=1)},
            ],
        )
        self.assertEqual(
            result["by_source"],
            [
                {"source": "Webinar", **figures(2, 1, 10000.0, 1, 1)},
                {"source": "Partner referral", **figures(1, 1, 4000.0, 0, 1)},
                {"source": "No source", **figures(0, 1, 1000.0)},
            ],
        )
        self.assertEqual(
            result["by_medium"],
            [
                {"medium": "No medium", **figures(1, 1, 1000.0, 1, 1)},
                {"medium": "Newsletter mail", **figures(1, 1, 10000.0)},
                {"medium": "Trade show", **figures(1, 1, 4000.0, 0, 1)},
            ],
        )
        self.assertEqual(
            result["by_campaign"],
            [
                {"campaign": "No campaign", **figures(2, 2, 5000.0, 0, 2)},
                {"campaign": "Spring Launch", **figures(1, 1, 10000.0, 1, 0)},
            ],
        )
        self.assertFalse(result["truncated"])

    def test_period_on_the_creation_date_and_filters(self):
        result = self.call(TOOL, {"date_from": "2025-02-01", "date_to": "2025-02-28"}, user=self.marketer)
        self.assertEqual(result["filters"], {"created": {"from": "2025-02-01", "to": "2025-02-28"}})
        self.assertEqual(result["totals"], figures(1, 1, 4000.0))
        result = self.call(TOOL, {"source": "webinar", "campaign": "Spring Launch"}, user=self.marketer)
        self.assertEqual(result["totals"], figures(1, 1, 10000.0, 1, 0))
        result = self.call(TOOL, {"medium": "Trade show"}, user=self.marketer)
        self.assertEqual(result["by_source"], [{"source": "Partner referral", **figures(1, 1, 4000.0, 0, 1)}])
        self.assertEqual([row["stage"] for row in result["by_stage"]], ["New", "Qualified"])
        result = self.call(TOOL, {"limit": 1}, user=self.marketer)
        self.assertEqual([row["source"] for row in result["by_source"]], ["Webinar"])
        self.assertTrue(result["truncated"])
        # Stages are few and in pipeline order: never cut.
        self.assertEqual([row["stage"] for row in result["by_stage"]], ["New", "Qualified", "Won"])

    def test_company_b_and_bad_input_and_access(self):
        result = self.call(TOOL, user=self.manager, company=self.company_b)
        self.assertEqual(result["totals"], figures(leads=1))
        self.assertEqual(result["by_source"], [{"source": "Webinar", **figures(leads=1)}])
        with self.assertRaisesRegex(ToolInputError, "unknown source 'Billboard'; known: .*Partner referral"):
            self.call(TOOL, {"source": "Billboard"}, user=self.marketer)
        with self.assertRaisesRegex(ToolInputError, "the period is reversed"):
            self.call(TOOL, {"date_from": "2025-03-01", "date_to": "2025-02-01"}, user=self.marketer)
        with self.assertRaises(ToolDenied):
            self.call(TOOL, user=self.user)
