import datetime as dt

from odoo import Command
from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolDenied, ToolInputError

from .common import SalesMarketingCase

TOOL = "marketing.get_conversion_rates"
JAN_FEB = {"date_from": "2025-01-01", "date_to": "2025-02-28"}


def funnel(created, opportunities, won, with_order, rates):
    keys = ("opportunity_rate", "win_rate", "order_rate", "overall_win_rate")
    return {
        "created": created,
        "opportunities": opportunities,
        "won": won,
        "with_order": with_order,
        **dict(zip(keys, rates, strict=True)),
    }


@tagged("post_install", "-at_install")
class TestConversionRates(SalesMarketingCase):
    """Company A's leads by creation month and source, and what became of them:

    ====  ========  ===========  ==============================================
    name  created   source       outcome
    ====  ========  ===========  ==============================================
    C1    Jan 2025  Webinar      still a lead
    C2    Jan 2025  Webinar      converted to an opportunity, open
    C3    Jan 2025  Webinar      opportunity won, two confirmed orders
    C4    Jan 2025  Fair         opportunity won, no order
    C5    Jan 2025  Fair         lead lost
    C6    Feb 2025  Webinar      opportunity with a confirmed order, not won
    C7    Feb 2025  Webinar      opportunity with a quotation only
    C8    Feb 2025  -            still a lead
    ====  ========  ===========  ==============================================

    Outside: a Webinar lead of December 2024, and company B's Webinar lead of January 2025.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.webinar, cls.fair = cls.utm("source", "Webinar", "Fair")
        product = env["product.product"].create({"name": "Consulting", "type": "service", "list_price": 100})

        def lead(name, created, source, lead_type="lead", team=cls.direct, user=cls.alice):
            record = cls.lead(name, team, user, type=lead_type, source_id=source.id if source else False)
            cls.sql_write(record, create_date=dt.datetime.fromisoformat(created))
            return record

        def order(opportunity, confirm=True):
            record = env["sale.order"].create(
                {
                    "partner_id": cls.acme.id,
                    "opportunity_id": opportunity.id,
                    "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1})],
                }
            )
            if confirm:
                record.action_confirm()
            return record

        lead("C1", "2025-01-03 10:00", cls.webinar)
        c2 = lead("C2", "2025-01-10 10:00", cls.webinar)
        c2.convert_opportunity(cls.acme)
        cls.c3 = lead("C3", "2025-01-15 10:00", cls.webinar, "opportunity")
        cls.c3.action_set_won()
        order(cls.c3)
        order(cls.c3)
        lead("C4", "2025-01-20 10:00", cls.fair, "opportunity").action_set_won()
        lead("C5", "2025-01-31 23:30", cls.fair).action_set_lost()
        order(lead("C6", "2025-02-02 10:00", cls.webinar, "opportunity"))
        order(lead("C7", "2025-02-10 10:00", cls.webinar, "opportunity"), confirm=False)
        lead("C8", "2025-02-20 10:00", None)
        lead("Dec", "2024-12-31 10:00", cls.webinar)
        lead("B", "2025-01-10 10:00", cls.webinar, team=cls.team_b, user=cls.manager)

    def test_funnel_per_month_and_source(self):
        result = self.call(TOOL, JAN_FEB, user=self.marketer)
        self.assertEqual(result["granularity"], "month")
        self.assertEqual(result["totals"], funnel(8, 5, 2, 2, (62.5, 40.0, 40.0, 25.0)))
        self.assertEqual(
            result["by_period"],
            [
                {"period": "2025-01", **funnel(5, 3, 2, 1, (60.0, 66.7, 33.3, 40.0))},
                {"period": "2025-02", **funnel(3, 2, 0, 1, (66.7, 0.0, 50.0, 0.0))},
            ],
        )
        self.assertEqual(
            result["by_source"],
            [
                {"source": "Webinar", **funnel(5, 4, 1, 2, (80.0, 25.0, 50.0, 20.0))},
                {"source": "Fair", **funnel(2, 1, 1, 0, (50.0, 100.0, 0.0, 50.0))},
                {"source": "No source", **funnel(1, 0, 0, 0, (0.0, None, None, 0.0))},
            ],
        )
        self.assertEqual(
            [(row["period"], row["source"], row["created"]) for row in result["by_period_and_source"]],
            [
                ("2025-01", "Webinar", 3),
                ("2025-01", "Fair", 2),
                ("2025-02", "Webinar", 2),
                ("2025-02", "No source", 1),
            ],
        )
        self.assertFalse(result["truncated"])

    def test_quarters_months_in_the_user_time_zone_and_filters(self):
        result = self.call(TOOL, {**JAN_FEB, "granularity": "quarter"}, user=self.marketer)
        self.assertEqual(result["by_period"], [{"period": "2025-Q1", **result["totals"]}])
        result = self.call(TOOL, {**JAN_FEB, "source": "Fair"}, user=self.marketer)
        self.assertEqual(result["totals"], funnel(2, 1, 1, 0, (50.0, 100.0, 0.0, 50.0)))
        # C5 was created on 31 January at 23:30 UTC: 1 February in Brussels.
        self.marketer.tz = "Europe/Brussels"
        result = self.call(TOOL, JAN_FEB, user=self.marketer)
        self.assertEqual([row["created"] for row in result["by_period"]], [4, 4])

    def test_company_b_bad_input_and_access(self):
        result = self.call(TOOL, JAN_FEB, user=self.manager, company=self.company_b)
        self.assertEqual(result["totals"], funnel(1, 0, 0, 0, (0.0, None, None, 0.0)))
        with self.assertRaisesRegex(ToolInputError, "the period is reversed"):
            self.call(TOOL, {"date_from": "2025-03-01", "date_to": "2025-01-01"}, user=self.marketer)
        with self.assertRaisesRegex(ToolInputError, "37 months is too many periods"):
            self.call(TOOL, {"date_from": "2022-01-01", "date_to": "2025-01-31"}, user=self.marketer)
        with self.assertRaises(ToolDenied):
            self.call(TOOL, JAN_FEB, user=self.user)
