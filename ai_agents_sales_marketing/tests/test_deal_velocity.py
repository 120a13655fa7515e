import datetime as dt

from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.ai_core.ai_engine import ToolDenied, ToolInputError

from .common import SalesMarketingCase

TOOL = "sales.get_deal_velocity"


def stage(name, visits, days):
    return {"stage": name, "visits": visits, "avg_days": days}


@tagged("post_install", "-at_install")
class TestDealVelocity(SalesMarketingCase):
    """Stage histories written through the ORM (so Odoo tracks them), then dated:

    - V1 (Direct): created 2025-01-01 00:00 in New; Qualified 2025-01-11 00:00; Proposition
      2025-01-16 00:00; Won 2025-01-20 00:00 (New 10 days, Qualified 5, Proposition 4, won in 19).
    - V2 (Partners): created 2025-01-05 00:00 in New; Qualified 2025-01-07 12:00 (New 2.5 days);
      lost 2025-01-27 00:00 (22 days), still in Qualified.
    - V3 (Direct): created 2025-01-02 00:00 in New; Qualified 2025-01-05 00:00 (3 days); back to
      New 2025-01-06 00:00 (Qualified 1 day); Qualified 2025-01-09 00:00 (New 3 days); open.
    - company B: VB created 2025-01-01, Qualified 2025-01-03 (never counted in company A).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        new = cls.stage_new.id
        cls.v1 = cls.lead("V1", cls.direct, cls.alice, stage_id=new)
        cls.v2 = cls.lead("V2", cls.partners_team, cls.bob, stage_id=new)
        cls.v3 = cls.lead("V3", cls.direct, cls.bob, stage_id=new)
        cls.vb = cls.lead("VB", cls.team_b, cls.manager, stage_id=new)
        cls.flush_tracking()
        moves = [
            (cls.v1, cls.stage_qualified),
            (cls.v1, cls.stage_proposition),
            (cls.v1, cls.stage_won),
            (cls.v2, cls.stage_qualified),
            (cls.v3, cls.stage_qualified),
            (cls.v3, cls.stage_new),
            (cls.v3, cls.stage_qualified),
            (cls.vb, cls.stage_qualified),
        ]
        for lead, new_stage in moves:
            lead.stage_id = new_stage
            cls.flush_tracking()
        cls.v2.action_set_lost()
        cls.flush_tracking()
        cls.date_history(
            cls.v1, "2025-01-01", ["2025-01-11", "2025-01-16", "2025-01-20"], closed="2025-01-20"
        )
        cls.date_history(cls.v2, "2025-01-05", ["2025-01-07 12:00"], closed="2025-01-27")
        cls.date_history(cls.v3, "2025-01-02", ["2025-01-05", "2025-01-06", "2025-01-09"])
        cls.date_history(cls.vb, "2025-01-01", ["2025-01-03"])

    @classmethod
    def date_history(cls, lead, created, changes, closed=None):
        """Date the lead's creation, its tracked stage changes (in their order) and its closing."""
        cls.sql_write(lead, create_date=dt.datetime.fromisoformat(created))
        if closed:
            cls.sql_write(lead, date_closed=dt.datetime.fromisoformat(closed))
        field_id = cls.env["ir.model.fields"]._get_ids("crm.lead")["stage_id"]
        trackings = cls.env["mail.tracking.value"].search(
            [("field_id", "=", field_id), ("mail_message_id.res_id", "=", lead.id)], order="id"
        )
        if len(trackings) != len(changes):
            raise AssertionError(f"{lead.name}: {len(trackings)} tracked stage changes, {len(changes)} dates")
        for tracking, when in zip(trackings, changes, strict=True):
            cls.sql_write(tracking, create_date=dt.datetime.fromisoformat(when))

    def test_days_in_stage_and_to_won_or_lost_for_all_teams_and_per_team(self):
        result = self.call(TOOL, {"date_from": "2025-01-01", "date_to": "2025-01-31"})
        self.assertEqual(result["period"], {"from": "2025-01-01", "to": "2025-01-31"})
        self.assertEqual(
            result["all_teams"],
            {
                "team": "All teams",
                # New: 10 (V1), 2.5 (V2), 3 and 3 (V3's two stays) -> 18.5 / 4.
                "stages": [stage("New", 4, 4.6), stage("Qualified", 2, 3.0), stage("Proposition", 1, 4.0)],
                "to_won": {"deals": 1, "avg_days": 19.0},
                "to_lost": {"deals": 1, "avg_days": 22.0},
            },
        )
        self.assertEqual(
            result["per_team"],
            [
                {
                    "team": "Direct",
                    "stages": [
                        stage("New", 3, 5.3),
                        stage("Qualified", 2, 3.0),
                        stage("Proposition", 1, 4.0),
                    ],
                    "to_won": {"deals": 1, "avg_days": 19.0},
                    "to_lost": {"deals": 0, "avg_days": None},
                },
                {
                    "team": "Partners",
                    "stages": [stage("New", 1, 2.5)],
                    "to_won": {"deals": 0, "avg_days": None},
                    "to_lost": {"deals": 1, "avg_days": 22.0},
                },
            ],
        )

    def test_only_stays_that_ended_in_the_period_count(self):
        result = self.call(TOOL, {"date_from": "2025-01-10", "date_to": "2025-01-19"})
        # V1 left New on the 11th and Qualified on the 16th; it was won on the 20th.
        self.assertEqual(result["all_teams"]["stages"], [stage("New", 1, 10.0), stage("Qualified", 1, 5.0)])
        self.assertEqual(result["all_teams"]["to_won"], {"deals": 0, "avg_days": None})

    def test_team_filter(self):
        result = self.call(TOOL, {"date_from": "2025-01-01", "date_to": "2025-01-31", "team": "Partners"})
        self.assertEqual(result["filters"], {"team": "Partners"})
        self.assertEqual(result["all_teams"]["stages"], [stage("New", 1, 2.5)])
        self.assertEqual([block["team"] for block in result["per_team"]], ["Partners"])

    def test_salesperson_sees_the_history_of_the_leads_they_may_read(self):
        result = self.call(TOOL, {"date_from": "2025-01-01", "date_to": "2025-01-31"}, user=self.bob)
        # V2 and V3 are Bob's; V1 is Alice's.
        self.assertEqual(result["all_teams"]["stages"], [stage("New", 3, 2.8), stage("Qualified", 1, 1.0)])
        self.assertEqual(result["all_teams"]["to_won"]["deals"], 0)

    def test_company_b_session(self):
        result = self.call(TOOL, {"date_from": "2025-01-01", "date_to": "2025-01-31"}, company=self.company_b)
        self.assertEqual(result["all_teams"]["stages"], [stage("New", 1, 2.0)])
        self.assertEqual([block["team"] for block in result["per_team"]], ["Team B"])

    def test_time_in_stage_comes_from_the_tracking(self):
        # Without the tracked changes there is no stay to measure: only the closings remain.
        self.env.cr.execute(
            SQL(
                "DELETE FROM mail_tracking_value WHERE field_id = %s",
                self.env["ir.model.fields"]._get_ids("crm.lead")["stage_id"],
            )
        )
        result = self.call(TOOL, {"date_from": "2025-01-01", "date_to": "2025-01-31"})
        self.assertEqual(result["all_teams"]["stages"], [])
        self.assertEqual(result["all_teams"]["to_lost"], {"deals": 1, "avg_days": 22.0})

    def test_bad_input_and_no_rights(self):
        with self.assertRaisesRegex(ToolInputError, "the period is reversed"):
            self.call(TOOL, {"date_from": "2025-02-01", "date_to": "2025-01-01"})
        with self.assertRaises(ToolDenied):
            self.call(TOOL, user=self.user)
