from odoo.tests import Form, tagged

from odoo.addons.ai_core.ai_engine.testing import reply, tool_calls
from odoo.addons.ai_core.tests.common import perform_jobs
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import AutomationCase


@tagged("post_install", "-at_install")
class TestFire(AutomationCase):
    def test_per_record_mode_queues_one_linked_session_per_record(self):
        model = self.script(reply("ok"), reply("ok"), reply("ok"))
        action = self.new_action(aia_dispatch="per_record")
        trap = self.fire(action, self.partners)
        sessions = self.started
        self.assertEqual(len(sessions), 3)
        # Nothing reached the provider in the transaction that fired the action.
        self.assertEqual(model.requests, [])
        self.assertEqual(sessions.mapped("res_model"), ["res.partner"] * 3)
        self.assertEqual(sessions.mapped("res_id"), self.partners.ids)
        self.assertEqual(set(sessions.mapped("channel")), {"automation"})
        self.assertEqual(set(sessions.mapped("state")), {"running"})
        self.assertEqual(sessions.user_id, self.manager)
        self.assertEqual(sessions.aia_action_id, action)
        self.assertEqual(sessions[0].name, f"Check contact: {self.partners[0].name}")
        self.assertEqual(self.user_text(sessions[1]), f"Check {self.partners[1].name}")
        self.assertEqual(trap.jobs_count(), 3)
        self.assertEqual({call.properties["channel"] for call in trap.calls}, {"root.aia.automation"})
        perform_jobs(self, trap)
        self.assertEqual(len(model.requests), 3)
        sessions.invalidate_recordset()
        self.assertEqual(set(sessions.mapped("state")), {"done"})
        self.assertEqual(set(sessions.mapped("last_text")), {"ok"})

    def test_the_sessions_button_lists_the_actions_sessions_of_every_user(self):
        action = self.new_action(aia_dispatch="per_record")
        self.fire(action, self.partners)
        other = self.new_session(user=self.user)
        opened = action.action_aia_open_sessions()
        self.assertEqual(opened["res_model"], "aia.session")
        listed = self.env["aia.session"].search(opened["domain"])
        self.assertEqual(listed, self.started)
        self.assertNotIn(other, listed)
        # Not the menu's "My sessions": the action runs as its creator, not whoever opens it.
        self.assertFalse(opened["context"])

    def test_single_mode_runs_one_session_over_the_whole_recordset(self):
        self.script(reply("3 contacts checked"))
        action = self.new_action(
            aia_dispatch="single",
            aia_prompt="{{ len(records) }} contacts: {{ ', '.join(records.mapped('name')) }}",
        )
        self.fire(action, self.partners, perform=True)
        session = self.started
        self.assertEqual(len(session), 1)
        self.assertEqual(self.user_text(session), "3 contacts: " + ", ".join(self.partners.mapped("name")))
        # Over several records the session is not linked to one of them.
        self.assertEqual((session.res_model, session.res_id), ("res.partner", 0))
        self.assertEqual(session.last_text, "3 contacts checked")

    def test_single_mode_on_one_record_links_it(self):
        self.script()
        self.fire(self.new_action(aia_dispatch="single"), self.partners[0])
        self.assertEqual(self.started.res_id, self.partners[0].id)

    def test_domain_source_when_no_records_are_given(self):
        self.script()
        action = self.new_action(
            aia_dispatch="per_record", aia_domain="[('name', '=like', 'Zq Auto %')]", aia_max_records=2
        )
        self.fire(action)
        self.assertEqual(self.started.mapped("res_id"), self.partners[:2].ids)
        action.aia_max_records = 0
        self.fire(action)
        self.assertEqual(len(self.started), 3)

    def test_code_source_when_no_records_are_given(self):
        self.script()
        action = self.new_action(
            aia_dispatch="per_record",
            aia_record_source="code",
            aia_code="records = model.search([('name', '=like', 'Zq Auto %')], order='id desc', limit=2)",
        )
        self.assertFalse(action.warning)
        self.fire(action)
        self.assertEqual(sorted(self.started.mapped("res_id")), self.partners[1:].ids)

    def test_records_in_the_context_come_before_the_source(self):
        self.script()
        action = self.new_action(
            aia_dispatch="per_record", aia_domain=f"[('id', '=', {self.partners[0].id})]"
        )
        self.fire(action, self.partners[2])
        self.assertEqual(self.started.mapped("res_id"), [self.partners[2].id])
        # The cap applies to the records given too.
        action.aia_max_records = 2
        self.fire(action, self.partners)
        self.assertEqual(self.started.mapped("res_id"), self.partners[:2].ids)

    def test_an_invalid_domain_is_a_warning_and_selects_nothing(self):
        self.script()
        action = self.new_action(aia_domain="[('no_such_field', '=', 1)]")
        self.assertIn("The domain is invalid", action.warning)
        self.fire(action)
        self.assertFalse(self.started)
        # Records given to the action still run: the source is not needed.
        self.fire(action, self.partners[0])
        self.assertEqual(len(self.started), 1)

    def test_invalid_code_is_a_warning_and_selects_nothing(self):
        self.script()
        action = self.new_action(aia_record_source="code", aia_code="records = (")
        self.assertIn("The records code is invalid", action.warning)
        self.fire(action)
        self.assertFalse(self.started)
        action.aia_code = "partners = model.search([])"
        self.assertIn("never assigns `records`", action.warning)
        self.fire(action)
        self.assertFalse(self.started)

    def test_code_failing_at_run_time_is_recorded_as_a_warning(self):
        self.script()
        action = self.new_action(aia_record_source="code", aia_code="records = model.browse(1 // 0)")
        self.assertFalse(action.warning)
        self.fire(action)
        self.assertFalse(self.started)
        self.assertIn("ZeroDivisionError", action.aia_source_error)
        self.assertIn("failed on its last run", action.warning)
        action.aia_code = "records = 42"
        self.assertFalse(action.aia_source_error, "editing the source clears the last error")
        self.fire(action)
        self.assertIn("must assign a recordset of res.partner", action.aia_source_error)
        action.aia_code = "records = model.search([('name', '=like', 'Zq Auto %')])"
        self.fire(action)
        self.assertEqual(len(self.started), 1)
        self.assertFalse(action.aia_source_error)

    def test_configuration_problems_are_warnings(self):
        action = self.new_action(aia_agent_id=False, aia_prompt=False)
        self.assertIn("Choose the agent", action.warning)
        self.assertIn("Write the prompt", action.warning)
        # As for Odoo's own actions, an action with such warnings does not run; it does not fail
        # either (an AI run never blocks what fired it): it says why.
        result = action.with_context(active_model="res.partner", active_ids=self.partners.ids).run()
        self.assertEqual(result["params"]["type"], "warning")
        self.assertIn("Choose the agent", result["params"]["message"])
        action.write({"aia_agent_id": self.agent.id, "aia_prompt": "hi", "aia_max_cost": -1})
        self.assertIn("cannot be negative", action.warning)
        action.write({"aia_max_cost": 5})
        self.assertFalse(action.warning)
        self.manager.group_ids -= self.env.ref("ai_core.group_aia_manager")
        action.invalidate_recordset(["warning"])
        self.assertIn("not in the AI User group", action.warning)

    def test_the_action_form(self):
        form = Form(self.env["ir.actions.server"].with_user(self.manager))
        form.name = "Review"
        form.model_id = self.partner_model
        form.state = "ai_agent"
        form.aia_agent_id = self.agent
        form.aia_prompt = "Review {{ record.name }}"
        form.aia_dispatch = "per_record"
        action = form.save()
        self.assertEqual(
            (action.state, action.aia_max_records, action.aia_max_tokens), ("ai_agent", 100, 1_000_000)
        )
        self.assertFalse(action.warning)

    def test_prompt_template_variables(self):
        self.script()
        previous_text = "{{ previous_session and previous_session.last_text or 'none' }}"
        action = self.new_action(
            aia_prompt=(
                "{{ record.email }}|{{ user.login }}|{{ company.name }}|{{ today }}|"
                "{{ env['res.partner'].browse(record.id).name }}|{{ ctx.get('lang') }}|" + previous_text
            )
        )
        self.fire(action, self.partners[0])
        session = self.started
        today = session.create_date.date().isoformat()
        self.assertEqual(
            self.user_text(session),
            f"zq0@example.com|aia_auto_manager|{self.company.name}|{today}|Zq Auto 0|en_US|none",
        )

    def test_a_prompt_that_fails_to_render_is_sent_as_written(self):
        self.script()
        prompt = "Check {{ record.no_such_field }}"
        self.fire(self.new_action(aia_prompt=prompt), self.partners[0])
        session = self.started
        self.assertEqual(self.user_text(session), prompt)
        event = session.message_ids.filtered(
            lambda message: message.subtype_id == self.env.ref("ai_automation.mt_prompt_render_error")
        )
        self.assertEqual(len(event), 1)
        self.assertIn("no_such_field", event.body)

    def test_an_archived_creator_is_replaced_by_the_administrator(self):
        self.script()
        action = self.new_action()
        self.manager.active = False
        self.fire(action, self.partners[0])
        session = self.started
        self.assertEqual(session.user_id, self.env.ref("base.user_admin"))
        self.assertIn("is archived: this session runs as", session.message_ids[:1].body)

    def test_a_session_that_fails_to_start_lands_in_error(self):
        self.script()
        self.provider.active = False
        self.fire(self.new_action(), self.partners[0], perform=True)
        self.assertEqual(self.started.state, "error")
        self.assertIn("has no active model", self.started.error_message)

    def test_the_kill_switch_starts_nothing(self):
        self.script()
        self.env["ir.config_parameter"].set_param("aia.agents_enabled", "False")
        self.fire(self.new_action(), self.partners[0])
        self.assertFalse(self.started)

    def test_linked_records_get_a_chatter_note_back_to_the_session(self):
        self.script()
        self.fire(self.new_action(aia_dispatch="per_record"), self.partners[:2])
        for partner, session in zip(self.partners[:2], self.started, strict=True):
            note = partner.message_ids[:1]
            self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"))
            self.assertIn(f'data-oe-model="aia.session" data-oe-id="{session.id}"', str(note.body))
            self.assertIn("AI session started by Check contact", note.body)

    def test_records_without_a_chatter_are_skipped_silently(self):
        self.script()
        category = self.env["res.partner.category"].create({"name": "Zq tag"})
        action = self.new_action(
            model_id=self.env.ref("base.model_res_partner_category").id, aia_prompt="Tag"
        )
        self.fire(action, category)
        self.assertEqual((self.started.res_model, self.started.res_id), ("res.partner.category", category.id))

    def test_shadow_mode_records_what_would_have_been_written(self):
        self.script(
            tool_calls(
                (
                    "orm_write",
                    {"model": "res.partner", "ids": [self.partners[0].id], "values": {"email": "x@y.z"}},
                )
            ),
            reply("Would fix the email."),
        )
        self.fire(self.new_action(), self.partners[0], perform=True)
        execution = self.started.execution_ids
        self.assertEqual(execution.status, "shadowed")
        self.assertIn("x@y.z", execution.preview)
        self.assertEqual(self.partners[0].email, "zq0@example.com")

    def test_approval_mode_asks_the_approver_and_resumes_in_a_job(self):
        self.agent.write({"shadow_mode": False, "approval_mode": "write", "approver_id": self.operator.id})
        model = self.script(
            tool_calls(
                (
                    "orm_write",
                    {"model": "res.partner", "ids": [self.partners[0].id], "values": {"email": "ok@y.z"}},
                )
            )
        )
        self.fire(self.new_action(), self.partners[0], perform=True)
        session = self.started
        self.assertEqual(session.state, "waiting_approval")
        approval = session.approval_ids
        self.assertEqual(approval.with_user(self.operator).activity_ids.user_id, self.operator)
        self.assertEqual(self.partners[0].email, "zq0@example.com")
        model.then(reply("Email fixed."))
        with trap_jobs() as trap:
            approval.with_user(self.operator).action_approve()
            trap.assert_jobs_count(1, only=session._aia_job_resume)
            self.assertEqual(trap.calls[0].properties["channel"], "root.aia.automation")
            perform_jobs(self, trap)
        session.invalidate_recordset()
        self.assertEqual(session.state, "done")
        self.assertEqual(self.partners[0].email, "ok@y.z")
        # The write ran as the session's user, the action's creator.
        self.assertEqual(self.partners[0].write_uid, self.manager)

    def test_server_actions_created_without_this_module_loaded_still_insert(self):
        # On an upgrade, modules loaded before this one (ai_core's scheduled actions) insert server
        # actions with no value for these columns: they must not be NOT NULL in the database.
        self.env.cr.execute(
            """
            SELECT column_name FROM information_schema.columns
             WHERE table_name = 'ir_act_server' AND column_name LIKE 'aia\\_%' AND is_nullable = 'NO'
            """
        )
        self.assertEqual(self.env.cr.fetchall(), [])
        self.env.cr.execute(
            "INSERT INTO ir_act_server (name, type, usage, model_id, state, binding_type) "
            "VALUES ('{\"en_US\": \"raw\"}', 'ir.actions.server', 'ir_actions_server', %s, 'code', 'action') "
            "RETURNING id",
            [self.partner_model.id],
        )
        self.assertTrue(self.env.cr.fetchone())

    def test_a_run_stores_its_jobs_as_queue_job_stores_one(self):
        # Stored, not trapped: the run writes its jobs in one batch; each row must be the row
        # with_delay() would have written for the same turn.
        self.script()
        action = self.new_action(aia_dispatch="per_record")
        before = self.env["queue.job"].search([]).ids
        action.with_context(active_model="res.partner", active_ids=self.partners.ids).run()
        sessions = self.env["aia.session"].search([("aia_action_id", "=", action.id)], order="id")
        jobs = self.env["queue.job"].search([("id", "not in", before)], order="id")
        self.assertEqual(len(jobs), 3)
        single = (
            sessions[0]
            .with_delay(channel="root.aia.automation", description=f"AI turn: {sessions[0].name}")
            ._aia_job_run_turn(sessions[0].message_ids_aia.id)
        )
        reference = self.env["queue.job"].search([("uuid", "=", single.uuid)])
        fields = [
            "channel",
            "method_name",
            "model_name",
            "state",
            "priority",
            "max_retries",
            "job_function_id",
            "user_id",
            "company_id",
            "graph_uuid",
            "identity_key",
        ]
        for job, session in zip(jobs, sessions, strict=True):
            self.assertEqual(job.records, session)
            self.assertEqual(job.args, [session.message_ids_aia.id])
            self.assertEqual(job.name, f"AI turn: {session.name}")
            self.assertEqual(job.read(fields)[0] | {"id": 0}, reference.read(fields)[0] | {"id": 0})
        self.assertEqual(len(set(jobs.mapped("uuid"))), 3)
