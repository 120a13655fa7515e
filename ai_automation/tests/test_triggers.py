from datetime import timedelta

from odoo import Command
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.ai_core.ai_engine.testing import reply
from odoo.addons.ai_core.tests.common import perform_jobs
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import AutomationCase


@tagged("post_install", "-at_install")
class TestTriggers(AutomationCase):
    """Automation rules and scheduled actions reach the agent through the same server action."""

    def test_on_create_rule_starts_a_session_linked_to_the_new_record(self):
        self.script(reply("Looks complete."))
        self.new_rule("on_create")
        clerk = self.make_user("zq_clerk", "base.group_partner_manager")
        with trap_jobs() as trap:
            # A user with no AI rights fires it: the session runs as the action's creator.
            partner = self.env["res.partner"].with_user(clerk).create({"name": "Zq Created"})
            self.assertEqual(trap.jobs_count(), 1)
            perform_jobs(self, trap)
        session = self.env["aia.session"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", partner.id)]
        )
        self.assertEqual((session.user_id, session.state), (self.manager, "done"))
        self.assertEqual(self.user_text(session), "Check Zq Created")
        self.assertEqual(session.last_text, "Looks complete.")

    def test_on_write_rule_fires_on_its_trigger_fields(self):
        self.script()
        self.new_rule(
            "on_create_or_write",
            trigger_field_ids=[Command.set(self.env.ref("base.field_res_partner__email").ids)],
        )
        with trap_jobs() as trap:
            self.partners[0].name = "Zq Renamed"
            self.assertEqual(trap.jobs_count(), 0)
            self.partners[0].email = "new@example.com"
            self.assertEqual(trap.jobs_count(), 1)
        session = self.env["aia.session"].search(
            [("res_id", "=", self.partners[0].id), ("channel", "=", "automation")]
        )
        self.assertEqual(len(session), 1)

    def test_on_unlink_rule_renders_the_prompt_before_the_record_goes(self):
        self.script(reply("Noted."))
        self.new_rule("on_unlink")
        partner = self.env["res.partner"].create({"name": "Zq Leaving"})
        with trap_jobs() as trap:
            partner.unlink()
            perform_jobs(self, trap)
        session = self.env["aia.session"].search(
            [("res_id", "=", partner.id), ("channel", "=", "automation")]
        )
        self.assertEqual(self.user_text(session), "Check Zq Leaving")
        self.assertEqual(session.state, "done")

    def test_time_based_rule_fires_on_the_records_past_their_date(self):
        self.script()
        rule = self.new_rule("on_time_created", trg_date_range=0)
        # What base_automation's scheduled action does for each time-based rule (it commits), a
        # minute after the records were created.
        later = self.env.cr.now() + timedelta(minutes=1)
        with trap_jobs() as trap:
            for record in rule._search_time_based_automation_records(until=later):
                rule._process(record)
            self.assertEqual(trap.jobs_count(), 3)
        sessions = self.env["aia.session"].search([("aia_action_id", "=", rule.action_server_ids.id)])
        self.assertEqual(sorted(sessions.mapped("res_id")), self.partners.ids)

    def test_scheduled_action_runs_on_its_record_source(self):
        self.script(reply("Three contacts, all with an email."))
        cron = self.new_scheduled_action()
        self.assertEqual(cron.state, "ai_agent")
        self.assertFalse(cron.warning)
        # What ir.cron._callback does, as the scheduler user (it commits, tests may not).
        with trap_jobs() as trap:
            self.env["ir.actions.server"].with_user(cron.user_id).browse(cron.ir_actions_server_id.id).run()
            perform_jobs(self, trap)
        session = self.env["aia.session"].search([("aia_action_id", "=", cron.ir_actions_server_id.id)])
        self.assertEqual(self.user_text(session), "Review 3 contacts")
        self.assertEqual((session.user_id, session.state), (self.manager, "done"))
        action = self.env.ref("ai_automation.aia_scheduled_action_action")
        self.assertIn(cron, self.env["ir.cron"].search(safe_eval(action.domain)))

    def test_menus_list_the_ai_rules_and_crons_for_ai_managers(self):
        rule = self.new_rule("on_create")
        other = self.env["base.automation"].create(
            {"name": "Not AI", "model_id": self.partner_model.id, "trigger": "on_create"}
        )
        action = self.env.ref("ai_automation.aia_automation_rule_action")
        listed = self.env["base.automation"].search(safe_eval(action.domain))
        self.assertIn(rule, listed)
        self.assertNotIn(other, listed)
        menu = self.env.ref("ai_automation.menu_aia_automation_rules")
        Menu = self.env["ir.ui.menu"]
        self.assertIn(menu.id, Menu.with_user(self.manager)._visible_menu_ids())
        self.assertNotIn(menu.id, Menu.with_user(self.user)._visible_menu_ids())
        self.assertNotIn(menu.id, Menu.with_user(self.operator)._visible_menu_ids())
