import html

from odoo import Command

from odoo.addons.ai_core.tests.common import AiaCase, perform_jobs
from odoo.addons.ai_core.tests.injection_checks import RECORD_DATA
from odoo.addons.queue_job.tests.common import trap_jobs


class AutomationCase(AiaCase):
    """Agent actions on contacts, created by an AI manager who is also an administrator (only
    administrators edit server actions); the provider is the scripted model of AiaCase."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = cls.make_user(
            "aia_auto_manager", "base.group_system,base.group_partner_manager,ai_core.group_aia_manager"
        )
        cls.partner_model = cls.env.ref("base.model_res_partner")
        cls.partners = cls.env["res.partner"].create(
            [{"name": f"Zq Auto {index}", "email": f"zq{index}@example.com"} for index in range(3)]
        )

    def new_action(self, **values):
        return (
            self.env["ir.actions.server"]
            .with_user(self.manager)
            .create(
                {
                    "name": "Check contact",
                    "model_id": self.partner_model.id,
                    "state": "ai_agent",
                    "aia_agent_id": self.agent.id,
                    "aia_prompt": "Check {{ record.name }}",
                    **values,
                }
            )
            .with_user(self.env.user)
        )

    def new_rule(self, trigger="on_create", action_values=None, **values):
        """An automation rule (``trigger``, further fields in ``values``) on the contacts named
        Zq ..., whose one action runs the agent per record (``action_values``: more of its
        fields); returns the rule."""
        rule = self.env["base.automation"].create(
            {
                "name": "AI on new contacts",
                "model_id": self.partner_model.id,
                "trigger": trigger,
                "filter_domain": "[('name', '=like', 'Zq %')]",
                **values,
            }
        )
        action = self.new_action(
            aia_dispatch="per_record",
            base_automation_id=rule.id,
            usage="base_automation",
            **(action_values or {}),
        )
        rule.write({"action_server_ids": [Command.set(action.ids)]})
        return rule

    def new_scheduled_action(self):
        """A nightly scheduled action, created by the manager, running the agent on the contacts
        named Zq Auto ..."""
        return (
            self.env["ir.cron"]
            .with_user(self.manager)
            .with_context(default_state="ai_agent")
            .create(
                {
                    "name": "Nightly contact review",
                    "model_id": self.partner_model.id,
                    "aia_agent_id": self.agent.id,
                    "aia_prompt": "Review {{ len(records) }} contacts",
                    "aia_domain": "[('name', '=like', 'Zq Auto %')]",
                    "interval_number": 1,
                    "interval_type": "days",
                }
            )
        )

    def fire(self, action, records=None, perform=False):
        """Run ``action`` (on ``records`` as a contextual action would); returns the job trap.

        The sessions it started are in ``self.started`` (newest last).
        """
        before = self.env["aia.session"].search([]).ids
        context = {}
        if records is not None:
            context = {"active_model": records._name, "active_ids": records.ids, "active_id": records[:1].id}
        with trap_jobs() as trap:
            action.with_context(**context).run()
            if perform:
                perform_jobs(self, trap)
        self.env.invalidate_all()
        self.started = self.env["aia.session"].search([("id", "not in", before)], order="id")
        return trap

    def user_text(self, session):
        """The session's first user message as its template rendered it, each inserted value
        unwrapped (that values are wrapped is tested in test_adversarial_injection)."""
        body = session.message_ids_aia.filtered(lambda message: message.role == "user")[:1].body or ""
        return RECORD_DATA.sub(lambda match: html.unescape(match.group(1)), body)
