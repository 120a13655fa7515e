from datetime import timedelta
from decimal import Decimal

from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine.testing import reply, tool_calls
from odoo.addons.ai_core.tests.common import perform_jobs
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import AutomationCase


@tagged("post_install", "-at_install")
class TestChainsAndCaps(AutomationCase):
    def chained_action(self, **values):
        return self.new_action(aia_dispatch="per_record", aia_chain="per_record", **values)

    def test_a_new_session_continues_the_latest_one_of_the_same_record(self):
        self.script(
            tool_calls(("orm_count", {"model": "res.partner", "domain": [["name", "=like", "Zq Auto %"]]})),
            reply("3 of them."),
            reply("again"),
        )
        action = self.chained_action(
            aia_prompt="{{ previous_session and previous_session.last_text or 'first' }}|"
            "{{ previous_session and previous_session.tool_log[0]['name'] or '' }}"
        )
        self.fire(action, self.partners[0], perform=True)
        first = self.started
        self.assertEqual(self.user_text(first), "first|")
        self.fire(action, self.partners[0])
        second = self.started
        self.assertEqual(second.previous_session_id, first)
        self.assertEqual(second.aia_chain_root_id, first)
        self.assertEqual(self.user_text(second), "3 of them.|orm.count")
        self.fire(action, self.partners[0])
        self.assertEqual(self.started.previous_session_id, second)
        self.assertEqual(self.started.aia_chain_root_id, first)
        # Another record, another chain; without chaining, no link.
        self.fire(action, self.partners[1])
        self.assertFalse(self.started.previous_session_id)
        action.aia_chain = "none"
        self.fire(action, self.partners[0])
        self.assertFalse(self.started.previous_session_id)

    def test_a_chain_at_its_resumes_cap_is_not_fired_again_and_says_why(self):
        self.script()
        action = self.chained_action(aia_max_resumes=1)
        self.fire(action, self.partners[0])
        self.fire(action, self.partners[0])
        last = self.started
        self.assertTrue(last)
        self.fire(action, self.partners[:2])
        # Only the other record's chain started a session.
        self.assertEqual(self.started.mapped("res_id"), [self.partners[1].id])
        self.assertIn("maximum of 1 resumes", last.aia_stop_reason)
        self.assertIn("did not continue this chain", last.message_ids[:1].body)
        # Said once, not at every run.
        self.fire(action, self.partners[0])
        self.assertEqual(len(last.message_ids.filtered(lambda m: "did not continue" in m.body)), 1)

    def test_a_chain_past_its_lifetime_is_not_fired_again(self):
        self.script()
        action = self.chained_action(aia_max_lifetime_hours=2)
        self.fire(action, self.partners[0])
        first = self.started
        self.env.cr.execute(
            "UPDATE aia_session SET create_date = %s WHERE id = %s",
            [first.create_date - timedelta(hours=3), first.id],
        )
        self.env.invalidate_all()
        self.fire(action, self.partners[0])
        self.assertFalse(self.started)
        self.assertIn("passed its lifetime of 2 hours", first.aia_stop_reason)

    def test_a_chain_past_its_tokens_or_cost_is_not_fired_again(self):
        self.script()
        action = self.chained_action(aia_max_tokens=500, aia_max_cost=1.0)
        self.fire(action, self.partners[:2])
        first, other = self.started
        first.total_tokens = 500
        other.total_cost = 1.0
        self.fire(action, self.partners[:2])
        self.assertFalse(self.started)
        self.assertIn("used 500 tokens", first.aia_stop_reason)
        self.assertIn("cost 1.00", other.aia_stop_reason)

    def test_the_engine_budget_is_what_is_left_of_the_caps(self):
        action = self.chained_action(aia_max_tokens=110, aia_max_cost=3.0, aia_max_lifetime_hours=1)
        self.script()
        self.fire(action, self.partners[0])
        first = self.started
        first.write({"total_tokens": 100, "total_cost": 2.5})
        self.fire(action, self.partners[0])
        second = self.started
        limits = second._aia_limits()
        self.assertEqual(limits.max_session_tokens, 10)
        self.assertEqual(limits.max_session_cost, Decimal("0.5"))
        self.assertLessEqual(limits.turn_deadline, 60)
        self.env.cr.execute(
            "UPDATE aia_session SET create_date = %s WHERE id = %s",
            [self.env.cr.now() - timedelta(minutes=59, seconds=30), first.id],
        )
        self.env.invalidate_all()
        self.assertLessEqual(second._aia_limits().turn_deadline, 30)

    def test_caps_stop_a_turn_before_the_provider_call_that_would_pass_them(self):
        action = self.chained_action(aia_max_tokens=110)
        self.script()
        self.fire(action, self.partners[0])
        self.started.total_tokens = 100
        model = self.script(tool_calls(("orm_count", {"model": "res.partner"})), reply("never sent"))
        self.fire(action, self.partners[0], perform=True)
        second = self.started
        # The first request used 15 tokens: the chain is at 115 of 110, the next call is not made.
        self.assertEqual(len(model.requests), 1)
        self.assertEqual(model.remaining, 1)
        self.assertIn("budget of 10 tokens", second.last_text)
        self.assertEqual(second.total_tokens, 15)

    def test_a_turn_of_a_chain_past_a_cap_does_not_start(self):
        model = self.script(reply("never sent"))
        action = self.chained_action(aia_max_tokens=1000)
        with trap_jobs() as trap:
            action.with_context(active_model="res.partner", active_ids=self.partners[0].ids).run()
            session = self.env["aia.session"].search([("aia_action_id", "=", action.id)])
            # The chain used its tokens while this turn waited in the queue.
            session.total_tokens = 1000
            perform_jobs(self, trap)
        self.assertEqual(model.requests, [])
        self.assertEqual(session.state, "error")
        self.assertIn("used 1000 tokens", session.error_message)

    def test_decided_approvals_count_as_resumes(self):
        self.agent.write({"shadow_mode": False, "approval_mode": "write"})
        model = self.script(
            tool_calls(("orm_create", {"model": "res.partner", "values": {"name": "Zq New"}})),
        )
        action = self.chained_action(aia_max_resumes=1)
        self.fire(action, self.partners[0], perform=True)
        first = self.started
        self.assertEqual(first.state, "waiting_approval")
        model.then(reply("done"))
        with trap_jobs() as trap:
            first.approval_ids.with_user(self.manager).action_approve()
            perform_jobs(self, trap)
        self.assertEqual(first.state, "done")
        # One resume used by the approval: the chain is at its cap.
        self.fire(action, self.partners[0])
        self.assertFalse(self.started)
        self.assertIn("maximum of 1 resumes", first.aia_stop_reason)

    def test_caps_left_at_zero_use_the_settings(self):
        action = self.chained_action(
            aia_max_resumes=0, aia_max_lifetime_hours=0, aia_max_tokens=0, aia_max_cost=0
        )
        caps = action._aia_caps()
        self.assertEqual(
            (caps.max_resumes, caps.max_lifetime_hours, caps.max_tokens, caps.max_cost),
            (50, 720, 1_000_000, Decimal("5.0")),
        )
        settings = self.env["res.config.settings"].create(
            {
                "aia_automation_max_resumes": 3,
                "aia_automation_max_lifetime_hours": 4,
                "aia_automation_max_tokens": 5000,
                "aia_automation_max_cost": 0.25,
            }
        )
        settings.execute()
        caps = action._aia_caps()
        self.assertEqual(
            (caps.max_resumes, caps.max_lifetime_hours, caps.max_tokens, caps.max_cost),
            (3, 4, 5000, Decimal("0.25")),
        )
        action.aia_max_tokens = 70
        self.assertEqual(action._aia_caps().max_tokens, 70)
