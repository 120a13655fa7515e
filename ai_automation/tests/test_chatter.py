import json
from unittest.mock import MagicMock, patch

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import AutomationCase


@tagged("post_install", "-at_install")
class TestRecordSessions(AutomationCase):
    """The chatter box: who sees the sessions linked to a record, and who reads their transcript."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Reads contacts, has no AI rights at all.
        cls.clerk = cls.make_user("zq_clerk")

    def setUp(self):
        super().setUp()
        self.script()
        self.partner = self.partners[0]
        self.fire(self.new_action(), self.partner)
        self.session = self.started

    def box(self, user, record=None):
        record = record or self.partner
        return self.env["aia.session"].with_user(user).aia_record_sessions(record._name, record.id)

    def test_who_may_open_a_linked_session(self):
        owner = self.box(self.manager)
        self.assertEqual(owner["total"], 1)
        [row] = owner["sessions"]
        self.assertEqual(
            (row["id"], row["name"], row["state"], row["is_mine"], row["can_open"]),
            (self.session.id, f"Check contact: {self.partner.name}", "running", True, True),
        )
        operator = self.box(self.operator)["sessions"][0]
        self.assertEqual((operator["is_mine"], operator["can_open"]), (False, True))
        for user in (self.user, self.clerk):
            row = self.box(user)["sessions"][0]
            self.assertEqual((row["id"], row["is_mine"], row["can_open"]), (self.session.id, False, False))
        self.assertTrue(self.box(self.user)["can_view_all"])
        self.assertFalse(self.box(self.clerk)["can_view_all"])

    def test_the_transcript_stays_with_its_owner_and_operators(self):
        self.assertTrue(self.session.with_user(self.manager).chat_data()["messages"])
        self.assertTrue(self.session.with_user(self.operator).chat_data()["messages"])
        for user in (self.user, self.clerk):
            with self.assertRaises(AccessError):
                self.session.with_user(user).chat_data()
        transcript = [("session_id", "=", self.session.id)]
        self.assertFalse(self.env["aia.message"].with_user(self.user).search(transcript))
        with self.assertRaises(AccessError):
            self.env["aia.message"].with_user(self.clerk).search(transcript)

    def test_who_cannot_read_the_record_sees_nothing(self):
        secret = self.env["res.partner"].create({"name": "Zq Secret", "company_id": self.other_company.id})
        self.fire(self.new_action(), secret)
        with self.assertRaises(AccessError):
            self.box(self.user, secret)
        # Its session runs in the company of the action's creator, which user_b is not in.
        self.assertEqual(self.box(self.user_b, secret)["total"], 0, "sessions of other companies stay hidden")
        self.assertEqual(self.env["aia.session"].aia_record_sessions("res.partner", secret.id)["total"], 1)

    def test_ten_most_recent_rows_and_the_total(self):
        for _index in range(11):
            self.fire(self.new_action(), self.partner)
        box = self.box(self.manager)
        self.assertEqual(box["total"], 12)
        rows = [row["id"] for row in box["sessions"]]
        self.assertEqual(len(rows), 10)
        self.assertEqual(rows, sorted(rows, reverse=True))
        self.assertEqual(rows[0], self.started.id)

    def test_sessions_of_other_channels_linked_to_the_record_keep_their_first_message(self):
        chat = self.new_session(user=self.operator, res_model="res.partner", res_id=self.partner.id)
        chat.name = "My private question"
        names = {row["id"]: row["name"] for row in self.box(self.user)["sessions"]}
        self.assertEqual(names[chat.id], self.agent.name)
        names = {row["id"]: row["name"] for row in self.box(self.operator)["sessions"]}
        self.assertEqual(names[chat.id], "My private question")

    def bus_notifications(self):
        self.env.cr.precommit.run()  # what a commit does: create the bus.bus rows
        channel = json.dumps(
            [self.env.cr.dbname, f"aia-record-res.partner_{self.partner.id}"], separators=(",", ":")
        )
        return self.env["bus.bus"].sudo().search([("channel", "=", channel)])

    def test_linked_sessions_tell_the_record_channel_when_they_change(self):
        self.assertEqual(len(self.bus_notifications()), 1, "the new session was announced")
        self.env["bus.bus"].sudo().search([]).unlink()
        self.session.state = "done"
        [notification] = self.bus_notifications()
        message = json.loads(notification.message)
        self.assertEqual(message["type"], "aia.record/sessions")
        # The payload says "reload" and nothing of the session.
        self.assertEqual(message["payload"], {"res_model": "res.partner", "res_id": self.partner.id})
        self.session.last_text = "no state change"
        self.assertFalse(self.bus_notifications().filtered(lambda n: n.id > notification.id))

    def test_only_readers_of_the_record_may_follow_its_channel(self):
        secret = self.env["res.partner"].create({"name": "Zq Secret", "company_id": self.other_company.id})
        channels = [f"aia-record-res.partner_{self.partner.id}", f"aia-record-res.partner_{secret.id}"]
        for user, expected in ((self.user, channels[:1]), (self.user_b, channels)):
            request = MagicMock()
            request.session.uid = user.id
            with patch("odoo.addons.bus.models.ir_websocket.wsrequest", new=request):
                data = self.env["ir.websocket"].with_user(user)._prepare_subscribe_data(list(channels), 0)
            self.assertEqual(
                [c for c in data["channels"] if isinstance(c, str) and c.startswith("aia-")], expected
            )
