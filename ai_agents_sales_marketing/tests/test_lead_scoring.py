from odoo import Command
from odoo.tests import new_test_user, tagged

from odoo.addons.ai_core.ai_engine import ToolDenied

from ..tools import scoring
from .common import SalesMarketingCase

TOOL = "marketing.get_lead_scoring"


def factor(value, weight, **details):
    return {"value": value, "weight": weight, "points": round(value * weight, 2), **details}


@tagged("post_install", "-at_install")
class TestLeadScoring(SalesMarketingCase):
    """Open leads of company A, dated from the transaction's now (the tools' now):

    - S1 "Big fit" (Alice), opportunity for John (Acme): predictive 80 %, created 20 days ago, last
      stage change 10 days ago, an email received 5 days ago, a note logged 3 days ago, a meeting 2
      days ago; complete (contact, email, phone, company, 5 000 expected, closing date).
    - S2 "Cold" (nobody's), lead: predictive 90 %, created and last changed 90 days ago, only a
      contact name.
    - S3 "Warm" (Bob), lead: predictive 40 %, created 6 days ago, emails received 12, 30 and 100
      days ago; contact, email, phone and company name, no revenue, no closing date.

    Never scored: a won and a lost opportunity (99 %), company B's lead (99 %).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s1 = cls.lead(
            "Big fit",
            cls.direct,
            cls.alice,
            partner_id=cls.john.id,
            expected_revenue=5000,
            date_deadline="2030-01-31",
        )
        cls.s2 = cls.lead("Cold", cls.direct, type="lead", contact_name="Carl Cold")
        cls.s3 = cls.lead(
            "Warm",
            cls.direct,
            cls.bob,
            type="lead",
            contact_name="Wendy Warm",
            partner_name="Warm Co",
            email_from="wendy@warm.example",
            phone="+32 2 555 02",
        )
        won = cls.lead("Won deal", cls.direct, cls.alice)
        won.action_set_won()
        lost = cls.lead("Lost deal", cls.direct, cls.alice)
        lost.action_set_lost()
        lead_b = cls.lead("B lead", cls.team_b, cls.manager)
        for lead, predictive in ((cls.s1, 80), (cls.s2, 90), (cls.s3, 40), (won + lost + lead_b, 99)):
            cls.sql_write(lead, automated_probability=predictive, probability=predictive)
        cls.sql_write(cls.s1, create_date=cls.at(20), date_last_stage_update=cls.at(10))
        cls.sql_write(cls.s2, create_date=cls.at(90), date_last_stage_update=cls.at(90))
        cls.sql_write(cls.s3, create_date=cls.at(6), date_last_stage_update=cls.at(6))
        cls.message(cls.s1, "email", 5)
        cls.message(cls.s1, "comment", 3)
        cls.env["calendar.event"].create(
            {
                "name": "Demo",
                "start": cls.at(2),
                "stop": cls.at(2),
                "opportunity_id": cls.s1.id,
                "user_id": cls.alice.id,
                "privacy": "public",
            }
        )
        for days in (12, 30, 100):
            cls.message(cls.s3, "email", days)

    @classmethod
    def message(cls, lead, message_type, days_ago):
        message = lead.message_post(body=f"{message_type} {days_ago}", message_type=message_type)
        cls.sql_write(message, date=cls.at(days_ago))

    def expected_s1(self):
        return {
            "lead": "Big fit",
            "lead_id": self.s1.id,
            "type": "opportunity",
            "customer": self.john.display_name,
            "stage": "New",
            "salesperson": "Alice Seller",
            "team": "Direct",
            "expected_revenue": 5000.0,
            "probability": 80.0,
            # 0.5 x 80 + 0.2 x 95 + 0.15 x 50 + 0.15 x 100
            "score": 81.5,
            "factors": {
                "predictive_probability": factor(80.0, 0.5),
                "recency": factor(95.0, 0.2, days_since_last_interaction=3.0),
                "engagement": factor(50.0, 0.15, emails_received=1, meetings=1),
                "completeness": factor(100.0, 0.15, missing=[]),
            },
        }

    def test_top_leads_with_their_factors_values_and_weights(self):
        self.maxDiff = None
        result = self.call(TOOL, user=self.marketer)
        self.assertIn("score = 0.5 x predictive_probability + 0.2 x recency", result["formula"])
        self.assertEqual([lead["lead"] for lead in result["leads"]], ["Big fit", "Warm", "Cold"])
        self.assertEqual(result["leads"][0], self.expected_s1())
        warm, cold = result["leads"][1:]
        # 0.5 x 40 + 0.2 x 90 (last change 6 days ago) + 0.15 x 50 (2 emails in 90 days) + 0.15 x 66.7
        self.assertEqual(warm["score"], 55.51)
        self.assertEqual(
            warm["factors"],
            {
                "predictive_probability": factor(40.0, 0.5),
                "recency": factor(90.0, 0.2, days_since_last_interaction=6.0),
                "engagement": factor(50.0, 0.15, emails_received=2, meetings=0),
                "completeness": {
                    "value": 66.7,
                    "weight": 0.15,
                    "points": 10.01,
                    "missing": ["expected_revenue", "expected_closing"],
                },
            },
        )
        # 0.5 x 90 + 0 (90 days without news) + 0 + 0.15 x 16.7
        self.assertEqual(cold["score"], 47.5)
        self.assertEqual(cold["factors"]["recency"], factor(0.0, 0.2, days_since_last_interaction=90.0))
        self.assertEqual(
            cold["factors"]["completeness"]["missing"],
            ["email", "phone", "company", "expected_revenue", "expected_closing"],
        )
        self.assertEqual((result["leads_scored"], result["open_leads"]), (3, 3))

    def test_type_filter_and_limit(self):
        result = self.call(TOOL, {"type": "lead", "limit": 1}, user=self.marketer)
        self.assertEqual([lead["lead"] for lead in result["leads"]], ["Warm"])
        self.assertEqual(result["filters"], {"type": "lead"})

    def test_reading_stops_when_no_lead_left_can_enter_the_top(self):
        # Batches of one lead, by decreasing predictive probability: Cold (90), Big fit (80), Warm (40).
        # Once Big fit scores 81.5, Warm can reach at most 0.5 x 40 + 50 = 70: it is not read.
        self.patch(scoring, "BATCH", 1)
        result = self.call(TOOL, {"limit": 1}, user=self.marketer)
        self.assertEqual(result["leads"], [self.expected_s1()])
        self.assertEqual(result["leads_scored"], 2)

    def test_a_salesperson_scores_the_leads_they_may_read(self):
        result = self.call(TOOL, user=self.bob)
        self.assertEqual([lead["lead"] for lead in result["leads"]], ["Warm", "Cold"])

    def test_company_b_and_access(self):
        result = self.call(TOOL, user=self.manager, company=self.company_b)
        self.assertEqual([lead["lead"] for lead in result["leads"]], ["B lead"])
        with self.assertRaises(ToolDenied):
            self.call(TOOL, user=self.user)

    def test_meetings_counted_as_the_leads_meetings_button_counts_them(self):
        """Bob's private meeting and a meeting organised by a portal user (no calendar access) are
        hidden from a grouped read of the events by lead, but the lead's Meetings button (its
        ``meeting_display_*`` fields, computed from every event of the lead) counts them."""
        # A portal user has no calendar of their own (no calendar settings, none of its privacy).
        portal = new_test_user(self.env, "sm_portal", groups="base.group_portal", name="Pat Portal")
        lead = self.lead("Meetings", self.direct, self.alice, contact_name="Mo Meeting")
        self.sql_write(lead, automated_probability=95, probability=95)
        Event = self.env["calendar.event"]
        private = Event.create(
            {
                "name": "Private",
                "start": self.at(-3),
                "stop": self.at(-3),
                "opportunity_id": lead.id,
                "user_id": self.bob.id,
                "partner_ids": [Command.set(self.bob.partner_id.ids)],
                "privacy": "private",
            }
        )
        Event.create(
            {
                "name": "Portal",
                "start": self.at(-5),
                "stop": self.at(-5),
                "opportunity_id": lead.id,
                "user_id": portal.id,
                "partner_ids": [Command.set(portal.partner_id.ids)],
            }
        )
        Event.create(
            {
                "name": "Public",
                "start": self.at(1),
                "stop": self.at(1),
                "opportunity_id": lead.id,
                "user_id": self.alice.id,
                "privacy": "public",
            }
        )
        # As the marketer: both meetings are hidden from calendar's grouped read...
        hidden = Event.with_user(self.marketer)._read_group(
            [("opportunity_id", "=", lead.id)], ["opportunity_id"], ["__count"]
        )
        self.assertEqual([count for _lead, count in hidden], [1])
        # ... not from the lead's Meetings button: its next meeting is Bob's private one.
        as_marketer = lead.with_user(self.marketer)
        self.assertEqual(as_marketer.meeting_display_label, "Next Meeting")
        self.assertEqual(as_marketer.meeting_display_date, private.start.date())
        # The events the button's compute groups (the same read group, all in the window).
        [(_lead, starts)] = Event.sudo()._read_group(
            [("opportunity_id", "=", lead.id)], ["opportunity_id"], ["start:array_agg"]
        )
        self.assertEqual(len(starts), 3)

        result = self.call(TOOL, user=self.marketer)
        [row] = [row for row in result["leads"] if row["lead_id"] == lead.id]
        self.assertEqual(row["factors"]["engagement"]["meetings"], len(starts))
        self.assertEqual(row["factors"]["engagement"]["value"], 75.0)

    def test_points_are_the_shown_value_times_the_weight_and_add_up_to_the_score(self):
        """A lead whose factors are not round: predictive 37.46 %, last news 2.26 days ago, an email
        received, five of the six completeness items."""
        lead = self.lead(
            "Uneven",
            self.direct,
            self.alice,
            partner_id=self.john.id,
            expected_revenue=1000,
        )
        self.sql_write(lead, automated_probability=37.46, probability=37.46, create_date=self.at(30))
        self.sql_write(lead, date_last_stage_update=self.at(2.26))
        self.message(lead, "email", 20)
        result = self.call(TOOL, {"limit": 50}, user=self.marketer)
        [row] = [row for row in result["leads"] if row["lead_id"] == lead.id]
        factors = row["factors"]
        # The values shown are Odoo's figures, to one decimal.
        self.assertEqual(factors["predictive_probability"]["value"], round(lead.automated_probability, 1))
        self.assertEqual(factors["recency"]["days_since_last_interaction"], 2.3)
        self.assertEqual(factors["completeness"]["missing"], ["expected_closing"])
        for name, shown in factors.items():
            with self.subTest(factor=name):
                self.assertAlmostEqual(shown["points"], shown["value"] * shown["weight"], delta=0.005 + 1e-9)
        self.assertAlmostEqual(row["score"], sum(shown["points"] for shown in factors.values()), places=9)
