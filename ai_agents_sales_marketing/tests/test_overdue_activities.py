import datetime as dt
from collections import defaultdict

from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolDenied, ToolInputError

from .common import SalesMarketingCase

TOOL = "sales.get_overdue_activities"
TODO = "mail.mail_activity_data_todo"


@tagged("post_install", "-at_install")
class TestOverdueActivities(SalesMarketingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_pipeline()
        today = dt.date.today()

        def activity(record, user, days, summary=None):
            return record.activity_schedule(
                TODO, date_deadline=today + dt.timedelta(days=days), user_id=user.id, summary=summary
            )

        # Odoo judges "overdue" by the assignee's calendar: the marketer lives where the date is not
        # UTC's right now (tomorrow at UTC+14 after 10:00 UTC, yesterday at UTC-11 before), so the
        # same deadline is late for them and not for a UTC user, or the other way round.
        if cls.env.cr.now().hour >= 10:
            cls.marketer.tz, marketer_days, cls.marketer_late = "Pacific/Kiritimati", 0, True
        else:
            cls.marketer.tz, marketer_days, cls.marketer_late = "Pacific/Pago_Pago", -1, False
        Order = cls.env["sale.order"]
        direct = {"team_id": cls.direct.id}
        cls.bob_order = Order.create({"partner_id": cls.acme.id, "user_id": cls.bob.id, **direct})
        cls.alice_order = Order.create({"partner_id": cls.beta.id, "user_id": cls.alice.id, **direct})
        cls.order_b = Order.with_company(cls.company_b).create(
            {"partner_id": cls.acme.id, "company_id": cls.company_b.id, "user_id": cls.manager.id}
        )
        cls.overdue = {
            "alice_p1": activity(cls.p1, cls.alice, -3, "Call back"),
            "alice_p2": activity(cls.p2, cls.alice, -10, "Send the proposal"),
            "alice_order": activity(cls.alice_order, cls.alice, -1),
            "bob_p3": activity(cls.p3, cls.bob, -1),
            "bob_order": activity(cls.bob_order, cls.bob, -20, "Chase the signature"),
            "bob_p5": activity(cls.p5, cls.bob, -2),  # an unassigned lead: Bob may read it
        }
        cls.not_overdue = {
            "alice_today": activity(cls.p1, cls.alice, 0),
            "bob_next_week": activity(cls.p4, cls.bob, 7),
            "company_b": activity(cls.p_b, cls.manager, -30),
            "order_b": activity(cls.order_b, cls.manager, -30),
            "partner": activity(cls.acme, cls.alice, -30),  # not a lead or an order
        }
        cls.marketer_activity = activity(cls.p4, cls.marketer, marketer_days)
        (cls.overdue if cls.marketer_late else cls.not_overdue)["marketer"] = cls.marketer_activity

    def odoo_overdue(self, user, company=None):
        """The activities Odoo shows ``user`` as overdue (the activity view's state) on the leads and
        orders of ``company`` (default: theirs): {assignee: [activities]}."""
        env = self.user_env(user, company)
        company = company or user.company_id
        activities = env["mail.activity"].search([("res_model", "in", ["crm.lead", "sale.order"])])
        per_user = defaultdict(list)
        for activity in activities:
            # Odoo shows its assignee an activity on a document of another company too: the
            # company is read as the test, not as the user.
            document = env[activity.res_model].sudo().browse(activity.res_id)
            if activity.state == "overdue" and document.company_id in (company, company.browse()):
                per_user[activity.user_id].append(activity)
        return per_user

    def test_overdue_per_salesperson_are_odoos_late_activities(self):
        result = self.call(TOOL, {})
        self.assertEqual(result["today"], str(dt.date.today()))
        odoo = self.odoo_overdue(self.manager)
        expected_ids = {a.id for activities in odoo.values() for a in activities}
        self.assertEqual(expected_ids, {a.id for a in self.overdue.values()}, "the class doc")
        self.assertEqual(
            {
                row["salesperson"]: (
                    row["overdue"],
                    row["on_leads"],
                    row["on_orders"],
                    row["oldest_deadline"],
                )
                for row in result["by_salesperson"]
            },
            {
                user.name: (
                    len(activities),
                    len([a for a in activities if a.res_model == "crm.lead"]),
                    len([a for a in activities if a.res_model == "sale.order"]),
                    str(min(a.date_deadline for a in activities)),
                )
                for user, activities in odoo.items()
            },
        )
        # As many each: the one with the latest activity first.
        self.assertEqual(
            [row["salesperson"] for row in result["by_salesperson"]][:2], ["Bob Seller", "Alice Seller"]
        )
        self.assertEqual(result["totals"]["overdue"], len(self.overdue))
        # The most overdue first, with the document each is on.
        self.assertEqual(
            [(row["document"], row["summary"], row["days_late"]) for row in result["most_overdue"][:3]],
            [
                (self.bob_order.name, "Chase the signature", 20),
                ("P2", "Send the proposal", 10),
                ("P1", "Call back", 3),
            ],
        )
        self.assertEqual(
            result["most_overdue"][0],
            {
                "activity_type": "To-Do",
                "summary": "Chase the signature",
                "document": self.bob_order.name,
                "document_type": "Sales Order",
                "document_id": self.bob_order.id,
                "salesperson": "Bob Seller",
                "deadline": str(dt.date.today() - dt.timedelta(days=20)),
                "days_late": 20,
            },
        )
        self.assertFalse(result["truncated"])

    def test_the_assignees_time_zone_decides(self):
        # Odoo's own verdict, in the marketer's calendar.
        self.assertEqual(self.marketer_activity.state, "overdue" if self.marketer_late else "today")
        result = self.call(TOOL, {"salesperson": self.marketer.id})
        self.assertEqual(result["filters"], {"salesperson": self.marketer.name})
        self.assertEqual(result["totals"]["overdue"], int(self.marketer_late))

    def test_team_and_salesperson_filters_and_limit(self):
        result = self.call(TOOL, {"team": "Partners"})
        late = int(self.marketer_late)
        self.assertEqual(
            result["totals"], {**result["totals"], "overdue": 1 + late, "on_leads": 1 + late, "on_orders": 0}
        )
        result = self.call(TOOL, {"salesperson": "Bob Seller", "limit": 1})
        self.assertEqual([row["salesperson"] for row in result["by_salesperson"]], ["Bob Seller"])
        self.assertEqual(result["totals"]["overdue"], 3)
        self.assertEqual([row["days_late"] for row in result["most_overdue"]], [20])
        self.assertTrue(result["truncated"])

    def test_a_salesperson_sees_activities_of_the_documents_they_may_read(self):
        result = self.call(TOOL, {}, user=self.bob)
        odoo = self.odoo_overdue(self.bob)
        # Bob reads his leads and orders and the unassigned leads, not Alice's: nor their activities.
        self.assertNotIn(self.alice, odoo)
        self.assertEqual(
            {row["salesperson"]: row["overdue"] for row in result["by_salesperson"]},
            {user.name: len(activities) for user, activities in odoo.items()},
        )
        self.assertEqual(result["totals"]["overdue"], 3 + self.marketer_late)
        self.assertNotIn("Send the proposal", str(result))

    def test_company_b_activities_only_in_a_company_b_session(self):
        result = self.call(TOOL, {}, company=self.company_b)
        odoo = self.odoo_overdue(self.manager, self.company_b)
        self.assertEqual(
            [(row["salesperson"], row["overdue"]) for row in result["by_salesperson"]],
            [(user.name, len(activities)) for user, activities in odoo.items()],
        )
        self.assertEqual(result["totals"]["overdue"], 2)
        with self.assertRaisesRegex(ToolInputError, "unknown sales team"):
            self.call(TOOL, {"team": self.team_b.id})
        result = self.call(TOOL, {"salesperson": self.manager.id})
        self.assertEqual(result["totals"]["overdue"], 0)
        with self.assertRaises(ToolDenied):
            self.call(TOOL, {}, user=self.user)
