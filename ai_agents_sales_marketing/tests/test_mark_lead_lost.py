from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolInputError

from .common import SalesWriteCase

TOOL = "sales.mark_lead_lost"
ARGS = {"lead": "P2", "reason": "Price too high", "feedback": "Went with a cheaper vendor"}
CALL = ("sales_mark_lead_lost", ARGS)


@tagged("post_install", "-at_install")
class TestMarkLeadLost(SalesWriteCase):
    """The pipeline of _build_pipeline: P2 is Alice's, Qualified, 20 000 expected at 30%."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_pipeline()
        cls.price = cls.env["crm.lost.reason"].create({"name": "Price too high"})
        cls.tool_user = cls.alice

    def expected_preview(self):
        return (
            f"Mark opportunity P2 ({self.company_a.name}) lost: stage Qualified, expected revenue "
            "20,000.00 USD, salesperson Alice Seller; lost reason Price too high. "
            "Closing note: 'Went with a cheaper vendor'."
        )

    def assertLost(self, output):
        lead = self.p2
        self.assertEqual(
            (lead.active, lead.probability, lead.won_status, lead.lost_reason_id),
            (False, 0.0, "lost", self.price),
        )
        self.assertEqual(lead.write_uid, self.alice)
        self.assertEqual(
            output,
            {
                "lead": {
                    "id": lead.id,
                    "name": "P2",
                    "type": "opportunity",
                    "expected_revenue": 20000.0,
                    "salesperson": "Alice Seller",
                },
                "before": {
                    "stage": "Qualified",
                    "active": True,
                    "probability": 30.0,
                    "won_status": "pending",
                    "lost_reason": None,
                },
                "after": {
                    "stage": "Qualified",
                    "active": False,
                    "probability": 0.0,
                    "won_status": "lost",
                    "lost_reason": "Price too high",
                },
            },
        )
        # The closing note, in the chatter as the wizard logs it.
        self.flush_tracking()
        self.assertIn("Went with a cheaper vendor", "".join(lead.message_ids.mapped("body")))

    # === THE THREE MODES, THROUGH THE SALES AGENT === #

    def test_shadow_mode_previews_the_lead_and_reason_and_changes_nothing(self):
        _model, session = self.run_turn("P2 is lost: too expensive.", CALL, "I would mark it lost.")
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "shadowed")
        self.assertEqual(execution.preview, self.expected_preview())
        self.assertEqual((self.p2.active, self.p2.won_status), (True, "pending"))

    def test_approval_mode_marks_lost_once_approved(self):
        self.needs_approval()
        model, session = self.run_turn("P2 is lost: too expensive.", CALL, "unused")
        self.assertEqual(session.approval_ids.preview, self.expected_preview())
        self.assertTrue(self.p2.active)
        self.decide(session, model, approve=True)
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "ok")
        self.assertLost(execution.output)

    def test_approval_mode_rejected_changes_nothing(self):
        self.needs_approval()
        model, session = self.run_turn("P2 is lost: too expensive.", CALL, "unused")
        self.decide(session, model, approve=False, answer="Left open.")
        self.assertEqual(session.execution_ids.status, "denied")
        self.assertEqual((self.p2.active, self.p2.won_status, self.p2.probability), (True, "pending", 30.0))

    def test_trusted_mode_marks_lost_and_the_audit_row_has_before_and_after(self):
        self.trusted()
        _model, session = self.run_turn("P2 is lost: too expensive.", CALL, "Marked lost.")
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "ok")
        self.assertLost(execution.output)

    # === ODOO'S LOST WIZARD === #

    def test_the_lead_ends_as_the_lost_wizard_leaves_it(self):
        wizard = self.env["crm.lead.lost"].create(
            {"lead_ids": self.p4.ids, "lost_reason_id": self.price.id, "lost_feedback": "<p>Too late</p>"}
        )
        wizard.action_lost_reason_apply()
        self.call(TOOL, {"lead": "P1", "reason": self.price.id, "feedback": "Too late"}, user=self.alice)
        fnames = [
            "active",
            "probability",
            "automated_probability",
            "won_status",
            "lost_reason_id",
            "stage_id",
        ]
        self.assertEqual(
            {fname: self.p1[fname] for fname in fnames if fname != "stage_id"},
            {fname: self.p4[fname] for fname in fnames if fname != "stage_id"},
        )
        self.flush_tracking()
        self.assertIn("Too late", "".join(self.p1.message_ids.mapped("body")))
        # Odoo's CRM now counts it among the lost of the reason.
        lost = (
            self.user_env(self.manager)["crm.lead"]
            .with_context(active_test=False)
            ._read_group(
                [("won_status", "=", "lost"), ("lost_reason_id", "=", self.price.id)], [], ["__count"]
            )
        )
        self.assertEqual(lost, [(2,)])

    def test_a_hostile_closing_note_is_logged_as_text(self):
        self.call(
            TOOL, {"lead": "P1", "reason": "Price too high", "feedback": "<script>alert(1)</script><b>x</b>"}
        )
        self.flush_tracking()
        bodies = "".join(self.p1.message_ids.mapped("body"))
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;", bodies)
        self.assertNotIn("<script", bodies)

    def test_invalid_calls_are_refused(self):
        self.assertInputErrors(
            TOOL,
            [
                ({"lead": "P2", "reason": "Weather"}, "unknown lost reason 'Weather'; known:"),
                ({"lead": "P2"}, "'reason' is a required property"),
                ({"lead": "P6", "reason": "Price too high"}, "P6 is already won"),
                ({"lead": "Nope", "reason": "Price too high"}, "unknown lead"),
                ({"lead": "P2", "reason": "Price too high", "stage": "Won"}, "Additional properties"),
            ],
        )
        self.assertTrue(self.p2.active)

    def test_a_lead_lost_already_is_not_lost_twice(self):
        self.call(TOOL, ARGS)
        with self.assertRaisesRegex(ToolInputError, "P2 is already lost"):
            self.call(TOOL, ARGS)

    def test_a_call_run_again_after_its_worker_died_runs_once(self):
        self.trusted()
        session = self.run_twice("P2 is lost: too expensive.", CALL)
        self.assertEqual(session.execution_ids.mapped("status"), ["ok"])
        self.assertEqual((self.p2.won_status, self.p2.lost_reason_id), ("lost", self.price))
        self.flush_tracking()
        notes = self.p2.message_ids.filtered(
            lambda message: "Went with a cheaper vendor" in str(message.body)
        )
        self.assertEqual(len(notes), 1)

    # === RIGHTS AND COMPANIES === #

    def test_a_user_without_sales_rights_is_refused(self):
        self.assertIn("Sales", self.assertDenied(TOOL, ARGS))
        self.trusted()
        self.assertDeniedTurn("P2 is lost.", CALL, "You need Sales rights.")
        self.assertTrue(self.p2.active)

    def test_a_salesperson_cannot_mark_a_colleagues_lead_lost(self):
        with self.assertRaisesRegex(ToolInputError, "unknown lead id"):
            self.call(TOOL, {"lead": self.p3.id, "reason": "Price too high"})
        self.assertTrue(self.p3.active)

    def test_a_company_b_lead_is_refused_in_a_company_a_session(self):
        with self.assertRaisesRegex(ToolInputError, "unknown lead id"):
            self.call(TOOL, {"lead": self.p_b.id, "reason": "Price too high"}, user=self.manager)
        self.assertTrue(self.p_b.active)
        self.call(
            TOOL, {"lead": self.p_b.id, "reason": "Price too high"}, user=self.manager, company=self.company_b
        )
        self.assertEqual(self.p_b.won_status, "lost")
