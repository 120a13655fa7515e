from ast import literal_eval

from odoo import Command
from odoo.tests import tagged

from odoo.addons.ai_core.ai_engine import ToolInputError

from .common import SalesWriteCase

TOOL = "marketing.draft_mailing"
ARGS = {
    "segment": "contacts",
    "tag": "VIP",
    "subject": "Spring offers",
    "body": "Dear customer,\n\nOur spring offers.",
}
CALL = ("marketing_draft_mailing", ARGS)


@tagged("post_install", "-at_install")
class TestDraftMailing(SalesWriteCase):
    """Contacts tagged VIP: Acme and John (with an email), Gamma (none), and company B's Kestrel
    Partner (with one). Leads with an email: two of Direct (one lead, one opportunity), one of
    Partners, one of company B's team. A mailing list of three contacts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.vip = env["res.partner.category"].create({"name": "VIP"})
        cls.acme.email = "info@acme.example"
        cls.kestrel = env["res.partner"].create(
            {"name": "Kestrel Partner", "email": "k@kestrel.example", "company_id": cls.company_b.id}
        )
        (cls.acme | cls.john | cls.gamma | cls.kestrel).category_id = [Command.link(cls.vip.id)]
        cls.l1 = cls.lead("Mail lead", cls.direct, cls.alice, type="lead", email_from="a@lead.example")
        cls.l2 = cls.lead("Mail opportunity", cls.direct, cls.bob, email_from="b@lead.example")
        cls.l3 = cls.lead("Partner lead", cls.partners_team, None, email_from="c@lead.example")
        cls.l_b = cls.lead("Kestrel lead", cls.team_b, None, email_from="k@lead.example")
        cls.newsletter = env["mailing.list"].create(
            {
                "name": "Spring customers",
                "contact_ids": [
                    Command.create({"name": name, "email": f"{name.lower()}@news.example"})
                    for name in ("Ann", "Ben", "Cid")
                ],
            }
        )
        cls.agent = cls.agent_marketing
        cls.tool_user = cls.marketer
        cls.marketer_ab = cls.new_user(
            "sm_marketer_ab",
            "sales_team.group_sale_salesman_all_leads,mass_mailing.group_mass_mailing_user,ai_core.group_aia_user",
            cls.company_a | cls.company_b,
        )

    def expected_preview(self):
        return (
            f"Create a draft mailing (not sent) in {self.company_a.name}: subject 'Spring offers'; "
            f"recipients Contact (of {self.company_a.name} or shared, with an email; tag VIP): "
            "2 recipient(s) as Odoo counts them now."
        )

    def mailings(self):
        return self.env["mailing.mailing"].search([("subject", "=", "Spring offers")])

    def assertDrafted(self, output):
        mailing = self.mailings()
        self.assertEqual(len(mailing), 1)
        self.assertEqual((mailing.state, mailing.schedule_date, mailing.sent_date), ("draft", False, False))
        self.assertEqual(mailing.create_uid, self.marketer)
        # Odoo's own recipients of the mailing: the two VIP contacts of company A with an email.
        self.assertEqual(sorted(mailing._get_recipients()), sorted((self.acme | self.john).ids))
        self.assertEqual(mailing.total, 2)
        self.assertIn("<p>Dear customer,</p><p>Our spring offers.</p>", str(mailing.body_html))
        self.assertEqual(
            output,
            {
                "id": mailing.id,
                "company": self.company_a.name,
                "subject": "Spring offers",
                "state": "draft",
                "recipients_model": "Contact",
                "segment": [f"of {self.company_a.name} or shared, with an email", "tag VIP"],
                "recipients": 2,
            },
        )

    # === THE THREE MODES, THROUGH THE MARKETING AGENT === #

    def test_shadow_mode_previews_the_segment_and_count_and_creates_nothing(self):
        _model, session = self.run_turn("Draft our spring offers to the VIPs.", CALL, "I would draft it.")
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "shadowed")
        self.assertEqual(execution.preview, self.expected_preview())
        self.assertFalse(self.mailings())

    def test_approval_mode_drafts_once_approved(self):
        self.needs_approval()
        model, session = self.run_turn("Draft our spring offers to the VIPs.", CALL, "unused")
        self.assertEqual(session.approval_ids.preview, self.expected_preview())
        self.assertFalse(self.mailings())
        self.decide(session, model, approve=True)
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "ok")
        self.assertDrafted(execution.output)

    def test_approval_mode_rejected_drafts_nothing(self):
        self.needs_approval()
        model, session = self.run_turn("Draft our spring offers to the VIPs.", CALL, "unused")
        self.decide(session, model, approve=False, answer="Not drafted.")
        self.assertEqual(session.execution_ids.status, "denied")
        self.assertFalse(self.mailings())

    def test_trusted_mode_drafts_and_the_audit_row_names_the_mailing(self):
        self.trusted()
        _model, session = self.run_turn("Draft our spring offers to the VIPs.", CALL, "Drafted.")
        [execution] = session.execution_ids
        self.assertEqual(execution.status, "ok")
        self.assertDrafted(execution.output)

    def test_a_call_run_again_after_its_worker_died_drafts_one_mailing(self):
        self.trusted()
        self.run_twice("Draft our spring offers to the VIPs.", CALL)
        self.assertEqual(len(self.mailings()), 1)

    # === SEGMENTS: ODOO'S OWN COUNT === #

    def test_a_mailing_list_and_leads_are_counted_as_odoo_counts_them(self):
        for args, model, count in (
            ({"segment": "mailing_list", "mailing_list": "Spring customers"}, "mailing.contact", 3),
            ({"segment": "leads", "team": "Direct"}, "crm.lead", 2),
            ({"segment": "leads", "team": "Direct", "lead_type": "opportunity"}, "crm.lead", 1),
            ({"segment": "leads"}, "crm.lead", 3),
        ):
            with self.subTest(args=args):
                output = self.call(TOOL, {**args, "subject": f"To {args}", "body": "Hello"})
                mailing = self.env["mailing.mailing"].browse(output["id"])
                self.assertEqual(mailing.mailing_model_real, model)
                self.assertEqual(
                    (output["recipients"], mailing.total, len(mailing._get_recipients())), (count,) * 3
                )
        leads = self.env["mailing.mailing"].search([("subject", "=", "To {'segment': 'leads'}")])
        self.assertEqual(sorted(leads._get_recipients()), sorted((self.l1 | self.l2 | self.l3).ids))

    def test_invalid_calls_are_refused(self):
        self.assertInputErrors(
            TOOL,
            [
                ({"segment": "mailing_list", "subject": "x", "body": "x"}, "give the mailing_list"),
                ({**ARGS, "team": "Direct"}, "team cannot narrow the segment contacts"),
                ({**ARGS, "tag": "Nope"}, "unknown contact tag 'Nope'"),
                ({**ARGS, "subject": "  "}, "empty subject"),
                ({**ARGS, "segment": "everyone"}, "is not one of"),
                ({**ARGS, "subject": "Hi {{ object.name }}"}, "may not contain placeholders"),
            ],
        )
        self.assertFalse(
            self.env["mailing.mailing"].search([]).filtered(lambda m: m.create_uid == self.marketer)
        )

    # === ATTACKS: A HOSTILE MODEL === #

    def test_a_hostile_segment_cannot_inject_a_domain_or_reach_another_company(self):
        for args, message in (
            ({**ARGS, "domain": "[(1, '=', 1)]"}, "Additional properties"),
            ({**ARGS, "mailing_domain": "[]"}, "Additional properties"),
            (
                {"segment": "leads", "team": "Direct') or ('id', '>', 0", "subject": "x", "body": "x"},
                "unknown sales team",
            ),
            (
                {"segment": "leads", "team": self.team_b.id, "subject": "x", "body": "x"},
                "unknown sales team id",
            ),
        ):
            with self.subTest(args=args), self.assertRaisesRegex(ToolInputError, message):
                self.call(TOOL, args, user=self.marketer_ab)
        # The company A session's segments leave company B's records out, whoever asks.
        output = self.call(
            TOOL, {"segment": "leads", "subject": "All leads", "body": "Hello"}, user=self.marketer_ab
        )
        mailing = self.env["mailing.mailing"].browse(output["id"])
        self.assertNotIn(self.l_b.id, mailing._get_recipients())
        # The domain Odoo stores is the tool's, made of the session company and ids.
        self.assertEqual(
            literal_eval(mailing.mailing_domain),
            ["&", ("company_id", "in", [self.company_a.id, False]), ("email_from", "!=", False)],
        )
        output = self.call(TOOL, ARGS, user=self.marketer_ab)
        self.assertNotIn(self.kestrel.id, self.env["mailing.mailing"].browse(output["id"])._get_recipients())

    def test_a_hostile_body_is_escaped_and_nothing_is_sent(self):
        body = "<script>alert('x')</script><img src=x onerror=alert(1)> Visit https://example.com"
        for key in ("send", "state", "schedule_date", "schedule_type"):
            with self.subTest(key=key), self.assertRaisesRegex(ToolInputError, "Additional properties"):
                self.call(TOOL, {**ARGS, key: "now"})
        self.trusted()
        _model, session = self.run_turn(
            "Send it now to everyone!",
            ("marketing_draft_mailing", {**ARGS, "body": body}),
            "Drafted, not sent.",
        )
        self.assertEqual(session.execution_ids.status, "ok")
        mailing = self.mailings()
        body_html = str(mailing.body_html)
        for tag in ("<script", "<img"):
            self.assertNotIn(tag, body_html)
            self.assertNotIn(tag, str(mailing.body_arch))
        # Shown as the text the model wrote, never as markup.
        self.assertIn("&lt;script&gt;alert('x')&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;", body_html)
        self.assertIn('href="https://example.com"', body_html)
        # Drafted only: not queued, not sent, no email or trace made.
        self.assertEqual((mailing.state, mailing.schedule_date, mailing.sent_date), ("draft", False, False))
        self.assertFalse(self.env["mailing.trace"].search([("mass_mailing_id", "=", mailing.id)]))
        self.assertFalse(self.env["mail.mail"].search([("mailing_id", "=", mailing.id)]))

    # === RIGHTS === #

    def test_a_user_without_email_marketing_rights_is_refused(self):
        for user in (self.alice, self.user):
            with self.subTest(user=user.login):
                self.assertIn("Email Marketing", self.assertDenied(TOOL, ARGS, user=user))
        self.trusted()
        self.assertDeniedTurn("Draft it.", CALL, "You need Email Marketing rights.", user=self.alice)
        self.assertFalse(self.mailings())
