import datetime as dt

from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolDenied, ToolInputError

from .common import SalesMarketingCase

TOOL = "marketing.get_campaign_metrics"
MARCH = {"date_from": "2025-03-01", "date_to": "2025-03-31"}
SPRING_OFFER = {
    "recipients": 10,
    "sent": 8,
    "delivered": 7,
    "opened": 4,
    "clicked": 2,
    "replied": 1,
    "bounced": 1,
    "failed": 1,
    "canceled": 1,
    "delivered_pct": 77.8,  # 7 / 9 not canceled
    "opened_pct": 57.1,  # 4 / 7 not canceled, bounced or failed
    "clicked_pct": 28.6,
    "replied_pct": 14.3,
    "bounced_pct": 12.5,  # 1 / 8 not canceled or failed
}
SPRING_REMINDER = {
    "recipients": 4,
    "sent": 4,
    "delivered": 4,
    "opened": 2,
    "clicked": 1,
    "replied": 0,
    "bounced": 0,
    "failed": 0,
    "canceled": 0,
    "delivered_pct": 100.0,
    "opened_pct": 50.0,
    "clicked_pct": 25.0,
    "replied_pct": 0.0,
    "bounced_pct": 0.0,
}
SPRING_LAUNCH = {
    "recipients": 14,
    "sent": 12,
    "delivered": 11,
    "opened": 6,
    "clicked": 3,
    "replied": 1,
    "bounced": 1,
    "failed": 1,
    "canceled": 1,
    "delivered_pct": 84.6,
    "opened_pct": 54.5,
    "clicked_pct": 27.3,
    "replied_pct": 9.1,
    "bounced_pct": 8.3,
}
# The campaign's row: Odoo's campaign ratios, all over the 13 recipients not canceled, to 0.01.
SPRING_LAUNCH_CAMPAIGN = {
    **SPRING_LAUNCH,
    "received": 11,  # 12 sent - 1 bounced
    "received_pct": 84.62,
    "opened_pct": 46.15,
    "clicked_pct": 23.08,
    "replied_pct": 7.69,
    "bounced_pct": 7.69,
}
del SPRING_LAUNCH_CAMPAIGN["delivered_pct"]


class CampaignCase(SalesMarketingCase):
    """Builders of mailings and their traces."""

    @classmethod
    def mailing(cls, subject, campaign, sent):
        mailing = cls.env["mailing.mailing"].create(
            {
                "subject": subject,
                "body_html": "<p>Hello</p>",
                "campaign_id": campaign.id if campaign else False,
                "mailing_model_id": cls.env.ref("base.model_res_partner").id,
            }
        )
        mailing.write({"state": "done", "sent_date": sent})
        return mailing

    @classmethod
    def traces(cls, mailing, rows, partner=None, **values):
        cls.env["mailing.trace"].create(
            [
                {
                    "mass_mailing_id": mailing.id,
                    "model": "res.partner",
                    "res_id": (partner or cls.acme).id,
                    "email": f"r{index}@example.com",
                    "trace_status": status,
                    "sent_datetime": sent,
                    "links_click_datetime": clicked,
                    **values,
                }
                for index, (status, sent, clicked) in enumerate(rows)
            ]
        )


@tagged("post_install", "-at_install")
class TestCampaignMetrics(CampaignCase):
    """Mailings and their traces (the statuses Odoo's mailing engine sets):

    - "Spring offer" (campaign Spring Launch, sent 2025-03-10): 10 recipients: 3 delivered, 3 opened
      (one clicked), 1 replied (clicked), 1 bounced, 1 failed, 1 canceled; 8 with a sent time; plus
      a test send.
    - "Spring reminder" (Spring Launch, sent 2025-03-20): 2 delivered, 2 opened (one clicked).
    - "Autumn news" (no campaign, sent 2025-09-01): 2 opened.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.spring = cls.utm("campaign", "Spring Launch")
        cls.offer = cls.mailing("Spring offer", cls.spring, "2025-03-10 08:00")
        cls.reminder = cls.mailing("Spring reminder", cls.spring, "2025-03-20 08:00")
        cls.autumn = cls.mailing("Autumn news", None, "2025-09-01 08:00")
        sent_at = dt.datetime(2025, 3, 10, 8, 5)
        clicked_at = dt.datetime(2025, 3, 11, 9, 0)
        cls.traces(
            cls.offer,
            [("sent", sent_at, None)] * 3
            + [("open", sent_at, clicked_at)]
            + [("open", sent_at, None)] * 2
            + [("reply", sent_at, clicked_at), ("bounce", sent_at, None), ("error", None, None)]
            + [("cancel", None, None)],
        )
        cls.traces(cls.offer, [("open", sent_at, clicked_at)], is_test_trace=True)
        cls.traces(
            cls.reminder,
            [("sent", sent_at, None)] * 2 + [("open", sent_at, clicked_at), ("open", sent_at, None)],
        )
        cls.traces(cls.autumn, [("open", sent_at, None)] * 2)

    def test_per_mailing_per_campaign_and_totals_with_odoo_rates(self):
        result = self.call(TOOL, MARCH, user=self.marketer)
        self.assertEqual(
            result["mailings"],
            [
                {
                    "mailing": "Spring reminder",
                    "mailing_id": self.reminder.id,
                    "campaign": "Spring Launch",
                    "sent_date": "2025-03-20",
                    **SPRING_REMINDER,
                },
                {
                    "mailing": "Spring offer",
                    "mailing_id": self.offer.id,
                    "campaign": "Spring Launch",
                    "sent_date": "2025-03-10",
                    **SPRING_OFFER,
                },
            ],
        )
        self.assertEqual(result["campaigns"], [{"campaign": "Spring Launch", **SPRING_LAUNCH_CAMPAIGN}])
        self.assertEqual(result["totals"], {"mailings": 2, **SPRING_LAUNCH})
        self.assertFalse(result["truncated"])

    def test_the_figures_are_odoos_own_mailing_statistics(self):
        # Odoo counts the test send in its own statistics; leave it out to compare.
        self.env["mailing.trace"].search([("is_test_trace", "=", True)]).unlink()
        offer = self.offer.with_user(self.marketer)
        row = self.call(TOOL, {"mailing": "Spring offer"}, user=self.marketer)["mailings"][0]
        self.assertEqual(
            (row["recipients"], row["sent"], row["delivered"], row["opened"], row["clicked"], row["replied"]),
            (offer.expected, offer.sent, offer.delivered, offer.opened, offer.clicked, offer.replied),
        )
        self.assertEqual(
            (row["bounced"], row["failed"], row["canceled"]), (offer.bounced, offer.failed, offer.canceled)
        )
        self.assertEqual(
            (row["delivered_pct"], row["opened_pct"], row["replied_pct"], row["bounced_pct"]),
            tuple(
                round(ratio, 1)
                for ratio in (
                    offer.received_ratio,
                    offer.opened_ratio,
                    offer.replied_ratio,
                    offer.bounced_ratio,
                )
            ),
        )

    def test_filters_by_campaign_and_mailing_and_the_default_period(self):
        result = self.call(TOOL, {"date_from": "2025-01-01", "date_to": "2025-12-31"}, user=self.marketer)
        self.assertEqual(
            [row["mailing"] for row in result["mailings"]], ["Autumn news", "Spring reminder", "Spring offer"]
        )
        self.assertEqual([row["campaign"] for row in result["campaigns"]], ["Spring Launch", "No campaign"])
        self.assertEqual(result["totals"]["recipients"], 16)
        result = self.call(
            TOOL,
            {"date_from": "2025-01-01", "date_to": "2025-12-31", "campaign": "spring launch"},
            user=self.marketer,
        )
        self.assertEqual(result["totals"], {"mailings": 2, **SPRING_LAUNCH})
        result = self.call(TOOL, {"mailing": self.autumn.id, "limit": 1}, user=self.marketer)
        self.assertEqual(result["filters"], {"mailing": "Autumn news"})
        self.assertEqual((result["totals"]["opened"], result["totals"]["opened_pct"]), (2, 100.0))
        # By default the last 90 days: none of these mailings.
        self.assertEqual(self.call(TOOL, user=self.marketer)["totals"]["mailings"], 0)

    def test_bad_input_and_access(self):
        with self.assertRaisesRegex(ToolInputError, "unknown mailing 'Winter sale'"):
            self.call(TOOL, {"mailing": "Winter sale"}, user=self.marketer)
        with self.assertRaisesRegex(ToolInputError, "the period is reversed"):
            self.call(TOOL, {"date_from": "2025-04-01", "date_to": "2025-03-01"}, user=self.marketer)
        # Email Marketing rights are needed, CRM rights are not enough.
        for user in (self.user, self.manager):
            with self.subTest(user=user.login), self.assertRaises(ToolDenied):
                self.call(TOOL, MARCH, user=user)

    def test_the_campaign_rates_are_odoos_own_campaign_ratios(self):
        # Odoo's campaign counts the test send; leave it out to compare.
        self.env["mailing.trace"].search([("is_test_trace", "=", True)]).unlink()
        spring = self.spring.with_user(self.marketer)
        row = self.call(TOOL, MARCH, user=self.marketer)["campaigns"][0]
        self.assertEqual(
            tuple(row.get(key) for key in RATES),
            (spring.received_ratio, spring.opened_ratio, spring.replied_ratio, spring.bounced_ratio),
        )


RATES = ("received_pct", "opened_pct", "replied_pct", "bounced_pct")
NOT_SENT, SENT = None, dt.datetime(2025, 6, 10, 8, 5)
CLICKED = dt.datetime(2025, 6, 11, 9, 0)


@tagged("post_install", "-at_install")
class TestCampaignRatios(CampaignCase):
    """Campaigns whose traces give different sent, delivered and expected totals, to recipients of
    both companies, read by a marketer of both companies:

    - "Summer Sale": "Summer teaser" (sent 2025-05-20, company A's Acme): 2 delivered;
      "Summer A" (2025-06-10, Acme): 2 delivered, 2 opened (one clicked), 1 replied, 2 bounced,
      1 failed, 2 canceled, 2 not sent yet; "Summer B" (2025-06-20, company B's Bravo): 1 delivered,
      1 opened, 1 bounced, 1 failed, 1 canceled, 1 queued and 1 in process (not sent yet).
    - "Winter Sale": "Winter B" (2025-06-15, Bravo): 3 delivered, 1 bounced, 2 failed, 1 not sent.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.marketer_ab = cls.new_user(
            "sm_marketer_ab",
            "mass_mailing.group_mass_mailing_user,ai_core.group_aia_user",
            cls.company_a + cls.company_b,
            name="Mo Marketer",
            tz="UTC",
        )
        cls.bravo = cls.env["res.partner"].create({"name": "Bravo Co", "company_id": cls.company_b.id})
        cls.summer, cls.winter = cls.utm("campaign", "Summer Sale", "Winter Sale")
        teaser = cls.mailing("Summer teaser", cls.summer, "2025-05-20 08:00")
        cls.traces(teaser, [("sent", SENT, None)] * 2)
        summer_a = cls.mailing("Summer A", cls.summer, "2025-06-10 08:00")
        cls.traces(
            summer_a,
            [("sent", SENT, None)] * 2
            + [("open", SENT, CLICKED), ("open", SENT, None), ("reply", SENT, None)]
            + [("bounce", SENT, None)] * 2
            + [("error", NOT_SENT, None)]
            + [("cancel", NOT_SENT, None)] * 2
            + [("outgoing", NOT_SENT, None)] * 2,
        )
        summer_b = cls.mailing("Summer B", cls.summer, "2025-06-20 08:00")
        cls.traces(
            summer_b,
            [("sent", SENT, None), ("open", SENT, None), ("bounce", SENT, None), ("error", NOT_SENT, None)]
            + [("cancel", NOT_SENT, None), ("outgoing", NOT_SENT, None), ("process", NOT_SENT, None)],
            partner=cls.bravo,
        )
        winter_b = cls.mailing("Winter B", cls.winter, "2025-06-15 08:00")
        cls.traces(
            winter_b,
            [("sent", SENT, None)] * 3
            + [("bounce", SENT, None)]
            + [("error", NOT_SENT, None)] * 2
            + [("outgoing", NOT_SENT, None)],
            partner=cls.bravo,
        )

    def campaign_rows(self, period, company):
        result = self.call(TOOL, period, user=self.marketer_ab, company=company)
        return {row["campaign"]: row for row in result["campaigns"]}

    def test_campaign_rates_equal_odoos_campaign_ratios_in_both_companies(self):
        may_june = {"date_from": "2025-05-01", "date_to": "2025-06-30"}
        for company in (self.company_a, self.company_b):
            rows = self.campaign_rows(may_june, company)
            for campaign in (self.summer, self.winter):
                with self.subTest(company=company.name, campaign=campaign.name):
                    odoo = campaign.with_user(self.marketer_ab).with_company(company)
                    row = rows[campaign.name]
                    self.assertEqual(
                        tuple(row.get(key) for key in RATES),
                        (odoo.received_ratio, odoo.opened_ratio, odoo.replied_ratio, odoo.bounced_ratio),
                    )
                    # The recipients are the campaign's traces, as Odoo counts them.
                    [(count,)] = (
                        self.env["mailing.trace"]
                        .with_user(self.marketer_ab)
                        .with_company(company)
                        ._read_group([("campaign_id", "=", campaign.id)], [], ["__count"])
                    )
                    self.assertEqual(row["recipients"], count)

    def test_the_rates_differ_from_the_mailings_denominators(self):
        # Winter B alone: the mailing's rates leave failed traces out of their totals, the
        # campaign's do not; both as Odoo computes them.
        june = {"date_from": "2025-06-01", "date_to": "2025-06-30"}
        result = self.call(TOOL, june, user=self.marketer_ab, company=self.company_b)
        mailing = next(row for row in result["mailings"] if row["mailing"] == "Winter B")
        campaign = next(row for row in result["campaigns"] if row["campaign"] == "Winter Sale")
        winter_b = self.env["mailing.mailing"].browse(mailing["mailing_id"]).with_user(self.marketer_ab)
        winter = self.winter.with_user(self.marketer_ab)
        self.assertEqual(
            (mailing["bounced_pct"], campaign.get("bounced_pct")),
            (round(winter_b.bounced_ratio, 1), winter.bounced_ratio),
        )
        self.assertNotEqual(winter_b.bounced_ratio, winter.bounced_ratio)

    def test_a_period_counts_only_its_mailings(self):
        # June leaves the Summer teaser out: the campaign's rates are those of its June mailings
        # (Odoo's denominator, the recipients not canceled), not the ones Odoo's campaign shows for
        # all its mailings.
        row = self.campaign_rows({"date_from": "2025-06-01", "date_to": "2025-06-30"}, self.company_a)[
            "Summer Sale"
        ]
        self.assertEqual((row["recipients"], row["canceled"], row["sent"], row["bounced"]), (19, 3, 10, 3))
        self.assertEqual((row.get("received"), row.get("received_pct")), (7, 43.75))  # 10 - 3, over 16
        self.assertNotEqual(row["received_pct"], self.summer.with_user(self.marketer_ab).received_ratio)
