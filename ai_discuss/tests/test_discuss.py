from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ServerError
from odoo.addons.ai_core.ai_engine.testing import failure, reply, tool_calls
from odoo.addons.ai_core.tests.common import perform_jobs
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import DiscussCase


@tagged("post_install", "-at_install")
class TestDiscuss(DiscussCase):
    def test_an_agent_available_in_discuss_has_a_contact_without_user(self):
        self.assertTrue(self.bot)
        self.assertEqual(self.bot.name, "Assistant")
        self.assertFalse(self.bot.user_ids)
        self.assertTrue(self.bot.image_1920)
        other = self.env["aia.agent"].create({"code": "quiet", "name": "Quiet", "model_id": self.llm.id})
        self.assertFalse(other.partner_id)
        other.discuss_available = True
        self.assertTrue(other.partner_id)
        other.name = "Quieter"
        self.assertEqual(other.partner_id.name, "Quieter")

    def test_a_direct_chat_with_an_agent(self):
        model = self.script(reply("Hello, **I can help** with contacts."))
        action = self.agent.with_user(self.user).action_aia_discuss_chat()
        channel = self.env["discuss.channel"].browse(int(action["params"]["active_id"].split("_")[1]))
        self.assertEqual(channel.channel_type, "chat")
        self.assertEqual(channel.channel_member_ids.partner_id, self.user.partner_id | self.bot)
        self.post(channel, "<p>Hi, what can you do?</p>")
        model.assert_complete()
        # The user's words are the turn's message, as text.
        self.assertEqual(model.requests[0].messages[-1].text, "Hi, what can you do?")
        [answer] = self.agent_messages(channel)
        self.assertEqual(answer.message_type, "comment")
        self.assertIn("<strong>I can help</strong>", str(answer.body))
        [session] = self.sessions(channel)
        self.assertEqual((session.channel, session.state, session.agent_id), ("discuss", "done", self.agent))
        self.assertFalse(session.res_model)
        # The session is among the user's own, as the chat lists them.
        listed = self.env["aia.session"].with_user(self.user).chat_bootstrap()["sessions"]
        self.assertIn(session.id, [row["id"] for row in listed])

    def test_one_session_per_conversation(self):
        model = self.script(reply("First answer."), reply("Second answer."))
        channel = self.agent.with_user(self.user)._aia_discuss_chat()
        self.post(channel, "<p>First question</p>")
        self.post(channel, "<p>Second question</p>")
        model.assert_complete()
        [session] = self.sessions(channel)
        self.assertEqual(
            session.message_ids_aia.mapped("body"),
            ["First question", "First answer.", "Second question", "Second answer."],
        )
        # The second turn's request carries the first one.
        self.assertEqual(
            [m.text for m in model.requests[1].messages][:2], ["First question", "First answer."]
        )
        self.assertEqual(
            [str(body).strip() for body in self.agent_messages(channel).mapped("body")],
            ["<p>First answer.</p>", "<p>Second answer.</p>"],
        )
        # The same channel with the same agent gives the same chat back.
        self.assertEqual(self.agent.with_user(self.user)._aia_discuss_chat(), channel)

    def test_a_channel_mention(self):
        model = self.script(reply("The sales team has 3 open deals."))
        channel = self.env["discuss.channel"].create({"name": "sales", "channel_type": "channel"})
        channel.add_members(partner_ids=(self.user.partner_id | self.bot).ids)
        # Without a mention the agent, a member, stays quiet.
        self.post(channel, "<p>Good morning everyone</p>", jobs=0)
        self.assertFalse(self.agent_messages(channel))
        self.post(channel, '<p><a href="#">@Assistant</a> how are deals?</p>', partner_ids=self.bot.ids)
        model.assert_complete()
        self.assertIn("how are deals?", model.requests[0].messages[-1].text)
        [answer] = self.agent_messages(channel)
        self.assertEqual(answer.subtype_id, self.env.ref("mail.mt_comment"))
        self.assertIn("3 open deals", str(answer.body))
        [session] = self.sessions(channel)
        self.assertEqual(session.discuss_id, channel.id)

    def test_invite_offers_the_agents_i_may_use(self):
        channel = self.env["discuss.channel"].create({"name": "ops", "channel_type": "channel"})
        found = self.env["res.partner"].with_user(self.user).search_for_channel_invite("Assist", channel.id)
        self.assertIn(self.bot.id, found["partner_ids"])
        self.assertIn(self.bot.id, [partner["id"] for partner in found["store_data"]["res.partner"]])
        channel.add_members(partner_ids=self.bot.ids)
        found = self.env["res.partner"].with_user(self.user).search_for_channel_invite("Assist", channel.id)
        self.assertNotIn(self.bot.id, found["partner_ids"])
        # Not to who may not use agents.
        plain = self.make_user("plain_discuss")
        found = self.env["res.partner"].with_user(plain).search_for_channel_invite("Assist")
        self.assertNotIn(self.bot.id, found["partner_ids"])

    def test_a_chatter_mention_gives_the_record_as_context(self):
        customer = self.env["res.partner"].create({"name": "Zq Customer"})
        model = self.script(
            tool_calls(
                (
                    "orm_search_read",
                    {"model": "res.partner", "domain": [["id", "=", customer.id]], "fields": ["name"]},
                )
            ),
            reply("Zq Customer has no open invoices."),
        )
        question = self.post(
            customer,
            '<p><a href="#">@Assistant</a> anything to know about this customer?</p>',
            partner_ids=self.bot.ids,
            subtype_xmlid="mail.mt_note",
        )
        model.assert_complete()
        asked = model.requests[0].messages[-1].text
        self.assertIn("anything to know about this customer?", asked)
        self.assertIn(f"res.partner,{customer.id}", asked)
        self.assertIn("Zq Customer", asked)
        [answer] = self.agent_messages(customer)
        # An internal note: never emailed to the record's followers.
        self.assertEqual(answer.subtype_id, self.env.ref("mail.mt_note"))
        self.assertIn("no open invoices", str(answer.body))
        [session] = self.sessions(customer)
        self.assertEqual((session.res_model, session.res_id), ("res.partner", customer.id))
        # The agent's contact, mentioned, is not notified (it has no inbox and no email).
        self.assertIn(self.bot, question.partner_ids)
        self.assertNotIn(self.bot, question.notification_ids.res_partner_id)
        # The tool ran as the user.
        self.assertEqual(session.execution_ids.mapped("status"), ["ok"])

    def test_a_failed_turn_posts_a_short_sentence(self):
        self.script(failure(ServerError("Overloaded: request id 7f3a, stack at adapter.py:88", status=529)))
        channel = self.agent.with_user(self.user)._aia_discuss_chat()
        self.post(channel, "<p>Hello?</p>")
        [session] = self.sessions(channel)
        self.assertEqual(session.state, "error")
        self.assertTrue(session.error_code.startswith("provider_"))
        [answer] = self.agent_messages(channel)
        self.assertIn("Try again in a few minutes.", str(answer.body))
        # The detail stays in the session.
        self.assertNotIn("adapter.py", str(answer.body))

    def test_an_approval_is_said_then_the_answer_follows(self):
        self.agent.write({"shadow_mode": False, "approval_mode": "write", "approver_id": self.operator.id})
        model = self.script(
            tool_calls(("orm_create", {"model": "res.partner", "values": {"name": "Zq Approved"}}))
        )
        channel = self.agent.with_user(self.user)._aia_discuss_chat()
        self.post(channel, "<p>Create the contact Zq Approved</p>")
        [session] = self.sessions(channel)
        self.assertEqual(session.state, "waiting_approval")
        [waiting] = self.agent_messages(channel)
        self.assertIn("needs an approval", str(waiting.body))
        model.then(reply("Created Zq Approved."))
        with trap_jobs() as trap:
            session.approval_ids.with_user(self.operator).action_approve()
            perform_jobs(self, trap)
        self.assertEqual(session.state, "done")
        # The answer names the partner the tool created: a link to it.
        created = self.env["res.partner"].search([("name", "=", "Zq Approved")])
        self.assertIn(
            f'Created <a href="/odoo/res.partner/{created.id}"', str(self.agent_messages(channel)[-1].body)
        )
        # The write ran as the user who asked.
        self.assertEqual(created.create_uid, self.user)

    def test_kill_switch_answers_unavailable(self):
        self.env["ir.config_parameter"].sudo().set_param("aia.agents_enabled", "False")
        channel = self.agent.with_user(self.user)._aia_discuss_chat()
        self.post(channel, "<p>Hello?</p>", jobs=0)
        [answer] = self.agent_messages(channel)
        self.assertIn("temporarily unavailable", str(answer.body))
