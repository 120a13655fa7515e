from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolInputError

from .common import PurchaseCase

TOOL = "warehouse.snooze_orderpoint"


@tagged("post_install", "-at_install")
class TestSnoozeOrderpoint(PurchaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Snoozing changes a reordering rule: Odoo lets Inventory administrators do that.
        cls.tool_user = cls.stock_admin
        cls.today = fields.Date.context_today(cls.env.user)
        cls.week_later = cls.today + timedelta(days=7)

    def call_for(self, args):
        return ("warehouse_snooze_orderpoint", {"orderpoint": self.op_bolt.id, **args})

    def expected_preview(self, before="not snoozed", after=None):
        return (
            f"Snooze reordering rule {self.op_bolt.name} ([BLT] Bolt at SOU/Stock, {self.company_a.name}): "
            f"snoozed until {before} -> {after or self.week_later}."
        )

    def alerts(self):
        return [row["product"] for row in self.call("warehouse.get_reorder_alerts")["rows"]]

    # === THE THREE MODES, THROUGH THE WAREHOUSE AGENT === #

    def test_shadow_mode_previews_the_rule_and_dates_and_changes_nothing(self):
        _model, session = self.run_turn(
            "Snooze the Bolt alert for a week.", self.call_for({"snooze_for": "week"}), "I would snooze it."
        )
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "shadowed")
        self.assertEqual(execution.preview, self.expected_preview())
        self.assertFalse(self.op_bolt.snoozed_until)

    def test_approval_mode_snoozes_once_approved(self):
        self.needs_approval()
        model, session = self.run_turn(
            "Snooze the Bolt alert for a week.", self.call_for({"days": 7}), "unused"
        )
        self.assertEqual(session.approval_ids.preview, self.expected_preview())
        self.assertFalse(self.op_bolt.snoozed_until)
        self.decide(session, model, approve=True)
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "ok")
        self.assertEqual(self.op_bolt.snoozed_until, self.week_later)
        self.assertEqual(self.op_bolt.write_uid, self.stock_admin)

    def test_approval_mode_rejected_changes_nothing(self):
        self.needs_approval()
        model, session = self.run_turn(
            "Snooze the Bolt alert for a week.", self.call_for({"days": 7}), "unused"
        )
        self.decide(session, model, approve=False, answer="Left as is.")
        self.assertEqual(session.execution_ids.status, "denied")
        self.assertFalse(self.op_bolt.snoozed_until)

    def test_trusted_mode_snoozes_and_the_audit_row_has_before_and_after(self):
        self.op_bolt.snoozed_until = self.today - timedelta(days=3)
        self.trusted()
        _model, session = self.run_turn(
            "Snooze the Bolt alert until the end of next week.",
            self.call_for({"until": str(self.today + timedelta(days=10))}),
            "Snoozed.",
        )
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "ok")
        until = self.today + timedelta(days=10)
        self.assertEqual(self.op_bolt.snoozed_until, until)
        self.assertEqual(
            execution.output,
            {
                "orderpoint": {
                    "id": self.op_bolt.id,
                    "name": self.op_bolt.name,
                    "product": "[BLT] Bolt",
                    "location": "SOU/Stock",
                    "warehouse": "South Depot",
                },
                "before": {"snoozed_until": str(self.today - timedelta(days=3))},
                "after": {"snoozed_until": str(until)},
            },
        )

    # === ODOO'S SNOOZE === #

    def test_the_durations_are_the_snooze_wizards(self):
        wizard = self.env["stock.orderpoint.snooze"].create({"orderpoint_ids": self.op_bolt.ids})
        for duration in ("day", "week", "month"):
            with self.subTest(duration=duration):
                wizard.predefined_date = duration
                wizard._onchange_predefined_date()
                output = self.call(TOOL, {"orderpoint": self.op_bolt.id, "snooze_for": duration})
                self.assertEqual(output["after"]["snoozed_until"], str(wizard.snoozed_until))
                self.assertEqual(self.op_bolt.snoozed_until, wizard.snoozed_until)

    def test_a_snoozed_rule_leaves_the_reorder_alerts(self):
        self.assertIn("[BLT] Bolt", self.alerts())
        self.call(TOOL, {"orderpoint": self.op_bolt.name, "days": 3})
        self.assertNotIn("[BLT] Bolt", self.alerts())

    def test_invalid_snoozes_are_refused(self):
        self.op_gadget.trigger = "auto"
        self.assertInputErrors(
            TOOL,
            [
                ({"orderpoint": self.op_bolt.id}, "exactly one of"),
                ({"orderpoint": self.op_bolt.id, "days": 3, "snooze_for": "week"}, "exactly one of"),
                ({"orderpoint": self.op_bolt.id, "until": str(self.today)}, "after today"),
                ({"orderpoint": self.op_gadget.id, "days": 3}, "Odoo snoozes only manual"),
                ({"orderpoint": self.op_bolt.id, "days": 0}, "minimum"),
                ({"orderpoint": "OP/nope", "days": 3}, "unknown reordering rule"),
            ],
        )
        self.assertEqual((self.op_bolt | self.op_gadget).mapped("snoozed_until"), [False, False])

    # === RIGHTS AND COMPANIES === #

    def test_a_user_who_may_not_change_reordering_rules_is_refused(self):
        for user in (self.keeper, self.buyer):
            with self.subTest(user=user.login):
                self.assertIn(
                    "Administrator", self.assertDenied(TOOL, {"orderpoint": self.op_bolt.id, "days": 3}, user)
                )
        self.assertFalse(self.op_bolt.snoozed_until)

    def test_a_company_b_rule_is_refused_in_a_company_a_session(self):
        admin_ab = self.new_user(
            "wh_admin_ab",
            "base.group_user,stock.group_stock_manager,ai_core.group_aia_user",
            self.company_a | self.company_b,
        )
        with self.assertRaisesRegex(ToolInputError, "unknown reordering rule id"):
            self.call(TOOL, {"orderpoint": self.op_beta.id, "days": 3}, user=admin_ab)
        self.assertFalse(self.op_beta.snoozed_until)
        # In company B's session it is company B's rule.
        self.call(TOOL, {"orderpoint": self.op_beta.id, "days": 3}, user=admin_ab, company=self.company_b)
        self.assertEqual(self.op_beta.snoozed_until, self.today + timedelta(days=3))
