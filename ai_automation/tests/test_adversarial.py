from odoo.tests import tagged

from odoo.addons.base.models.ir_actions import ServerActionWithWarningsError
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import AutomationCase


@tagged("post_install", "-at_install")
class TestAutomationNeverBlocks(AutomationCase):
    """An AI automation never blocks the business operation that triggered it: a misconfigured
    action skips its run and says why (its warnings, the record's chatter, whoever fired it)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Creates contacts, has no AI rights at all.
        cls.clerk = cls.make_user("zq_adv_clerk", "base.group_partner_manager")

    def create_as_clerk(self, name):
        with trap_jobs() as trap:
            partner = self.env["res.partner"].with_user(self.clerk).create({"name": name})
        self.assertEqual(trap.jobs_count(), 0, "a skipped run queues no turn")
        return partner

    def skip_notes(self, record):
        return record.message_ids.filtered(lambda message: "AI run skipped" in str(message.body))

    def assert_skipped(self, partner, action, reason):
        self.env.invalidate_all()
        self.assertTrue(partner.exists(), "the record is saved")
        sessions = self.env["aia.session"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", partner.id)]
        )
        self.assertFalse(sessions)
        note = self.skip_notes(partner)
        self.assertEqual(len(note), 1)
        self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"))
        self.assertEqual(note.author_id, self.env.ref("base.partner_root"))
        self.assertIn(action.name, note.body)
        self.assertIn(reason, note.body)
        # The administrator still sees the misconfiguration on the action.
        self.assertIn(reason, action.warning)

    # === AUTOMATION RULES === #

    def test_an_archived_agent_skips_the_rule_and_the_record_is_saved(self):
        self.script()
        action = self.new_rule().action_server_ids
        self.agent.active = False
        partner = self.create_as_clerk("Zq New lead")
        self.assert_skipped(partner, action, "The agent Assistant is archived.")
        # Each skipped run says so once on its record, not on the others.
        self.assertFalse(self.skip_notes(self.partners[0]))

    def test_a_creator_out_of_the_ai_user_group_skips_the_rule_and_the_record_is_saved(self):
        self.script()
        action = self.new_rule().action_server_ids
        self.manager.group_ids -= self.env.ref("ai_core.group_aia_manager")
        partner = self.create_as_clerk("Zq Other lead")
        self.assert_skipped(partner, action, "who is not in the AI User group")

    def test_an_archived_creator_with_no_ai_stand_in_skips_the_rule_and_the_record_is_saved(self):
        self.script()
        action = self.new_rule().action_server_ids
        # The administrator stands in for an archived creator, but has no AI rights here either.
        admin = self.env.ref("base.user_admin")
        admin.group_ids -= self.env.ref("ai_core.group_aia_manager")
        self.manager.active = False
        partner = self.create_as_clerk("Zq Third lead")
        self.assert_skipped(partner, action, f"run as {admin.name}, who is not in the AI User group")

    def test_a_scheduled_action_with_an_archived_agent_does_not_fail(self):
        cron = self.new_scheduled_action()
        self.agent.active = False
        # What ir.cron._callback does, as the scheduler user: a failure would be logged as an error
        # at every run and eventually deactivate the scheduled action.
        with trap_jobs() as trap:
            self.env["ir.actions.server"].with_user(cron.user_id).browse(cron.ir_actions_server_id.id).run()
        self.assertEqual(trap.jobs_count(), 0)
        self.assertIn("The agent Assistant is archived.", cron.warning)

    def test_other_server_actions_with_warnings_still_refuse_to_run(self):
        # Guard (passes before and after the fix): only "Run AI Agent" actions skip instead of failing.
        rule = self.new_rule()
        action = self.env["ir.actions.server"].create(
            {
                "name": "Mismatched code action",
                "model_id": self.env.ref("base.model_res_partner_category").id,
                "state": "code",
                "code": "pass",
                "base_automation_id": rule.id,
                "usage": "base_automation",
            }
        )
        self.assertIn("should match", action.warning)
        with self.assertRaises(ServerActionWithWarningsError):
            action.run()

    # === WHO FIRES BY HAND IS TOLD WHY NOTHING STARTED === #

    def run_on(self, action, records=None):
        context = {}
        if records is not None:
            context = {"active_model": records._name, "active_ids": records.ids, "active_id": records[:1].id}
        with trap_jobs() as trap:
            result = action.with_context(**context).run()
        return result, trap

    def assert_told(self, result, kind, *texts):
        self.assertEqual(result["tag"], "display_notification")
        self.assertEqual(result["params"]["type"], kind)
        for text in texts:
            self.assertIn(text, result["params"]["message"])
        self.assertNotIn("0 AI sessions started", result["params"]["message"])

    def test_a_manual_fire_at_the_caps_says_why_no_session_started(self):
        self.script()
        action = self.new_action(aia_dispatch="per_record", aia_chain="per_record", aia_max_resumes=1)
        self.fire(action, self.partners[0])
        self.fire(action, self.partners[0])
        result, trap = self.run_on(action, self.partners[0])
        self.assertEqual(trap.jobs_count(), 0)
        self.assert_told(result, "warning", "No AI session started", "maximum of 1 resumes")
        # Some started, some not: both are said.
        result, trap = self.run_on(action, self.partners[:2])
        self.assertEqual(trap.jobs_count(), 1)
        self.assert_told(result, "warning", "1 AI session", "1 not started", "maximum of 1 resumes")

    def test_a_manual_fire_of_a_misconfigured_action_says_why(self):
        self.script()
        action = self.new_action()
        self.agent.active = False
        result, trap = self.run_on(action, self.partners[0])
        self.assertEqual(trap.jobs_count(), 0)
        self.assert_told(result, "warning", "The agent Assistant is archived.")
        self.assertEqual(len(self.skip_notes(self.partners[0])), 1)

    def test_a_manual_fire_on_an_empty_or_failing_source_says_why(self):
        self.script()
        action = self.new_action(aia_domain="[('name', '=', 'Zq nobody')]")
        result, trap = self.run_on(action)
        self.assertEqual(trap.jobs_count(), 0)
        self.assert_told(result, "warning", "No AI session started", "selected no record")
        action.write({"aia_record_source": "code", "aia_code": "records = model.browse(1 // 0)"})
        result, _trap = self.run_on(action)
        self.assert_told(result, "warning", "No AI session started", "ZeroDivisionError")
        self.env["ir.config_parameter"].set_param("aia.agents_enabled", "False")
        result, _trap = self.run_on(action, self.partners[0])
        self.assert_told(result, "warning", "temporarily unavailable")
