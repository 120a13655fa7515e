from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolInputError

from .common import SalesWriteCase

TOOL = "sales.schedule_followup"
CALL = ("sales_schedule_followup", {"all_mine": True})


@tagged("post_install", "-at_install")
class TestScheduleFollowup(SalesWriteCase):
    """The pipeline of _build_pipeline; Alice's open opportunities are P1, P2 (which has a call
    planned) and P9 (Qualified): P1 and P9 have no activity."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_pipeline()
        cls.p9 = cls.lead("P9", cls.direct, cls.alice, stage_id=cls.stage_qualified.id, expected_revenue=500)
        cls.planned = cls.p2.activity_schedule(
            "mail.mail_activity_data_call", summary="Call back", user_id=cls.alice.id
        )
        cls.tool_user = cls.alice
        cls.today = fields.Date.context_today(cls.alice)
        cls.todo = cls.env.ref("mail.mail_activity_data_todo")

    def expected_preview(self, days=2):
        return (
            f"Schedule a To-Do activity due {self.today + timedelta(days=days)} on 2 lead(s) in "
            f"{self.company_a.name}:\n"
            "- P1 (New), assigned to Alice Seller\n"
            "- P9 (Qualified), assigned to Alice Seller"
        )

    def activities(self, leads=None):
        leads = leads or (self.p1 | self.p9)
        return self.env["mail.activity"].search(
            [("res_model", "=", "crm.lead"), ("res_id", "in", leads.ids)], order="res_id"
        )

    def assertScheduled(self, output, days=2):
        activities = self.activities()
        self.assertEqual(activities.mapped("res_id"), (self.p1 | self.p9).ids)
        deadline = self.today + timedelta(days=days)
        for activity in activities:
            self.assertEqual(
                (activity.activity_type_id, activity.date_deadline, activity.user_id, activity.create_uid),
                (self.todo, deadline, self.alice, self.alice),
            )
        self.assertEqual(
            output["created"],
            [
                {
                    "id": activity.id,
                    "lead": {
                        "id": lead.id,
                        "name": lead.name,
                        "type": "opportunity",
                        "stage": stage,
                        "salesperson": "Alice Seller",
                        "assigned_to": "Alice Seller",
                    },
                    "activity_type": "To-Do",
                    "summary": activity.summary or None,
                    "deadline": str(deadline),
                    "assigned_to": "Alice Seller",
                }
                for activity, lead, stage in zip(
                    activities, (self.p1, self.p9), ("New", "Qualified"), strict=True
                )
            ],
        )
        # CRM's own notion: none of Alice's open opportunities is left without an activity.
        self.assertFalse(
            self.user_env(self.alice)["crm.lead"].search(
                [
                    ("user_id", "=", self.alice.id),
                    ("type", "=", "opportunity"),
                    ("won_status", "=", "pending"),
                    ("activity_state", "=", False),
                ]
            )
        )

    # === THE THREE MODES, THROUGH THE SALES AGENT === #

    def test_shadow_mode_previews_the_leads_and_schedules_nothing(self):
        _model, session = self.run_turn("Plan a follow-up on my deals.", CALL, "I would plan two.")
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "shadowed")
        self.assertEqual(execution.preview, self.expected_preview())
        self.assertFalse(self.activities())

    def test_approval_mode_schedules_once_approved(self):
        self.needs_approval()
        model, session = self.run_turn("Plan a follow-up on my deals.", CALL, "unused")
        self.assertEqual(session.approval_ids.preview, self.expected_preview())
        self.assertFalse(self.activities())
        self.decide(session, model, approve=True)
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "ok")
        self.assertScheduled(execution.output)

    def test_approval_mode_rejected_schedules_nothing(self):
        self.needs_approval()
        model, session = self.run_turn("Plan a follow-up on my deals.", CALL, "unused")
        self.decide(session, model, approve=False, answer="Nothing planned.")
        self.assertEqual(session.execution_ids.status, "denied")
        self.assertFalse(self.activities())

    def test_trusted_mode_schedules_and_the_audit_row_names_the_activities(self):
        self.trusted()
        _model, session = self.run_turn(
            "Plan a follow-up in 5 days on my deals.",
            ("sales_schedule_followup", {"all_mine": True, "days": 5}),
            "Planned.",
        )
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "ok")
        self.assertScheduled(execution.output, days=5)

    # === ONE LEAD, TYPES, BOUNDS === #

    def test_one_unassigned_lead_goes_to_the_user_with_the_type_asked(self):
        output = self.call(
            TOOL, {"lead": "P5", "activity_type": "call", "days": 3, "summary": "Qualify"}, user=self.manager
        )
        [activity] = self.activities(self.p5)
        self.assertEqual(
            (activity.activity_type_id, activity.user_id, activity.summary, activity.date_deadline),
            (
                self.env.ref("mail.mail_activity_data_call"),
                self.manager,
                "Qualify",
                fields.Date.context_today(self.manager) + timedelta(days=3),
            ),
        )
        self.assertEqual(output["created"][0]["assigned_to"], "Mia Manager")
        # The lead now has an activity: asking again is refused, nothing twice.
        with self.assertRaisesRegex(ToolInputError, "already has a planned activity"):
            self.call(TOOL, {"lead": "P5"}, user=self.manager)
        self.assertEqual(len(self.activities(self.p5)), 1)

    def test_a_second_call_schedules_nothing_twice(self):
        self.assertEqual(len(self.call(TOOL, {"all_mine": True})["created"]), 2)
        self.assertEqual(self.call(TOOL, {"all_mine": True})["created"], [])
        self.assertEqual(len(self.activities()), 2)

    def test_a_call_run_again_after_its_worker_died_schedules_once(self):
        self.trusted()
        session = self.run_twice("Plan a follow-up on my deals.", CALL)
        self.assertEqual(len(self.activities()), 2)
        self.assertEqual(session.execution_ids.mapped("status"), ["ok"])

    def test_a_bounded_batch_says_there_are_more(self):
        output = self.call(TOOL, {"all_mine": True, "limit": 1})
        self.assertEqual(
            ([row["lead"]["name"] for row in output["created"]], output["truncated"]), (["P1"], True)
        )

    def test_invalid_calls_are_refused(self):
        self.assertInputErrors(
            TOOL,
            [
                ({}, "give either lead or all_mine"),
                ({"lead": "P1", "all_mine": True}, "give either lead or all_mine"),
                ({"lead": "P2"}, "already has a planned activity (Call"),
                ({"lead": "P6"}, "P6 is won"),
                ({"lead": "P1", "activity_type": "lunch"}, "is not one of"),
                ({"lead": "P1", "days": 400}, "maximum"),
                ({"lead": "Nope"}, "unknown lead"),
            ],
        )
        self.assertEqual(len(self.activities(self.p1 | self.p2 | self.p9)), 1)

    # === RIGHTS AND COMPANIES === #

    def test_a_user_without_sales_rights_is_refused(self):
        self.assertIn("Sales", self.assertDenied(TOOL, {"all_mine": True}))
        self.trusted()
        self.assertDeniedTurn("Plan follow-ups.", CALL, "You need Sales rights.")
        self.assertFalse(self.activities())

    def test_a_salesperson_cannot_schedule_on_a_colleagues_lead(self):
        # Odoo's "own documents only": Bob's lead is not one Alice may name.
        with self.assertRaisesRegex(ToolInputError, "unknown lead id"):
            self.call(TOOL, {"lead": self.p3.id})
        self.assertFalse(self.activities(self.p3))

    def test_a_company_b_lead_is_refused_in_a_company_a_session(self):
        with self.assertRaisesRegex(ToolInputError, "unknown lead id"):
            self.call(TOOL, {"lead": self.p_b.id}, user=self.manager)
        self.assertFalse(self.activities(self.p_b))
        self.call(TOOL, {"lead": self.p_b.id}, user=self.manager, company=self.company_b)
        self.assertEqual(len(self.activities(self.p_b)), 1)
