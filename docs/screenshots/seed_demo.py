"""The conversations the README's screenshots show, written into a demo database.

No model is reachable where the pictures are made, so the transcripts are written here as a turn
would have saved them (answers rendered by ai_core.rendering, Discuss answers posted by the
agent's contact) rather than produced by a model. On a database made by
``AIA_DEMO_DB=aia_shots AIA_MODULES=ai_discuss scripts/demo.sh`` (with Odoo's demo data):

    python -m odoo shell -d aia_shots --no-http [connection options] < docs/screenshots/seed_demo.py

then ``capture.py`` with the ids this prints. Messages are posted by the superuser on their
authors' behalf (a visitor's written as stored messages), so that no turn starts. With
``ai_livechat_agent`` installed (``AIA_MODULES=ai_livechat_agent``), a live chat handed over to a
person and a channel @mention are written too.
"""

from markupsafe import Markup

from odoo import Command

from odoo.addons.ai_core.ai_engine import Message
from odoo.addons.ai_core.rendering import linkable_names, render_markdown

QUESTION = "Which customers owe us the most, and what should I do first?"
ANSWER = """## Overdue receivables

| Customer | Overdue | Oldest due date | Days late |
|---|---:|---|---:|
| {a} | 12,480.00 € | 2026-10-02 | 66 |
| {b} | 4,310.50 € | 2026-10-28 | 40 |
| {c} | 980.00 € | 2026-11-20 | 17 |

**Start with {a}**: it holds ~70 % of what is overdue and has had no reminder since October.

1. Send {a} a payment reminder (I can draft it: it stays a *preview* until you approve).
2. Call {b}: two invoices fell due on the same day.
3. ~~Chase {c}~~: it is within its usual 20-day delay.

Figures from `finance.get_overdue_invoices`, in the company currency."""
SUMMARY = (
    "The user manages receivables for YourCompany; they prefer figures in EUR and tables sorted by amount."
)
FACTS = ("Reports go to the CFO every Monday.", "Amounts in EUR, without decimals in summaries.")
DM_QUESTION = "Give me this month's top 3 customers by revenue."
DM_ANSWER = """Top customers in **December 2026** (confirmed orders, untaxed):

1. {a}: 18,200 €
2. {b}: 11,950 €
3. {c}: 7,420 €

Together they are 61 % of the month's revenue."""
MENTION = Markup(
    '<p><a href="#" data-oe-model="res.partner" data-oe-id="%s" class="o_mail_redirect">@%s</a> '
    "what is still open for this customer?</p>"
)
MENTION_IN_CHANNEL = Markup(
    '<p><a href="#" data-oe-model="res.partner" data-oe-id="%s" class="o_mail_redirect">@%s</a> %s</p>'
)
NOTE = """**{a}** has 3 open invoices, 12,480.00 € in all:

| Invoice | Due | Open |
|---|---|---:|
| INV/2026/00112 | 2026-10-02 | 6,200.00 € |
| INV/2026/00147 | 2026-10-31 | 4,080.00 € |
| INV/2026/00190 | 2026-11-30 | 2,200.00 € |

No reminder was sent since 2026-10-05."""


CHANNEL_QUESTION = "how many quotations are waiting for an answer this week?"
CHANNEL_ANSWER = (
    "**7 quotations** were sent this week and wait for an answer (38,450 € untaxed); 3 of them expire "
    "before Friday."
)
VISITOR = (
    "Hello! Do you deliver office chairs to Belgium?",
    "Great. I need 40 chairs for a new office, can I talk to someone about a discount?",
)
AGENT = (
    "Yes: we deliver to **Belgium** in 3 to 5 working days, free from 500 € of order.",
    "A colleague joins you now to talk about a bulk price.",
)
OPERATOR = "Hello, I'm Mitchell from sales: for 40 chairs I can offer 12 %. Which model do you have in mind?"


def seed(env):
    admin = env.ref("base.user_admin")
    agent = env.ref("ai_core.demo_agent_general")
    agent.write({"discuss_available": True, "summarize_memory": True})
    customers = env.ref("base.res_partner_12") | env.ref("base.res_partner_2") | env.ref("base.res_partner_3")
    names = dict(zip("abc", customers.mapped("name"), strict=True))
    links = linkable_names(env, [(p._name, p.id, p.name) for p in customers])

    sessions = env["aia.session"].with_user(admin)
    session = sessions.create({"agent_id": agent.id, "name": "Who owes us the most?"})
    answer = ANSWER.format(**names)
    env["aia.message"].create(
        [
            {"session_id": session.id, "role": "user", "content": Message.user(QUESTION).to_dict()},
            {
                "session_id": session.id,
                "role": "assistant",
                "content": Message.assistant(answer).to_dict(),
                "html": render_markdown(env, answer, links),
            },
        ]
    )
    session.sudo().write({"state": "done", "last_text": answer, "summary": SUMMARY})
    env["aia.memory.fact"].with_user(admin).create([{"agent_id": agent.id, "text": text} for text in FACTS])

    def post(thread, author, body, **values):
        thread.with_context(mail_post_autofollow=False).message_post(
            author_id=author.id, body=body, message_type="comment", **values
        )

    bot = agent.partner_id
    Channel = env["discuss.channel"]
    chat = Channel.browse(Channel.with_user(admin)._get_or_create_chat([bot.id]).id)
    post(chat, admin.partner_id, Markup("<p>%s</p>") % DM_QUESTION)
    post(chat, bot, render_markdown(env, DM_ANSWER.format(**names), links))
    azure = customers[0]
    mention = MENTION % (bot.id, bot.name)
    post(azure, admin.partner_id, mention, subtype_xmlid="mail.mt_note", partner_ids=bot.ids)
    post(azure, bot, render_markdown(env, NOTE.format(**names)), subtype_xmlid="mail.mt_note")
    general = env.ref("mail.channel_all_employees")
    post(
        general,
        admin.partner_id,
        MENTION_IN_CHANNEL % (bot.id, bot.name, CHANNEL_QUESTION),
        partner_ids=bot.ids,
    )
    post(general, bot, render_markdown(env, CHANNEL_ANSWER))
    live_chat = seed_live_chat(env, agent, admin) if "im_livechat.channel" in env else env["discuss.channel"]
    env.cr.commit()
    ids = (session.id, chat.id, azure.id, general.id, live_chat.id)
    print("capture.py arguments:", *ids)  # noqa: T201


def seed_live_chat(env, agent, admin):
    """A visitor's live chat that the agent answered, then handed over to the admin."""
    runner = env.ref("base.user_demo")
    runner.write({"group_ids": [Command.link(env.ref("ai_core.group_aia_user").id)]})
    livechat = env["im_livechat.channel"].search([], limit=1)
    livechat.write(
        {"aia_agent_id": agent.id, "aia_livechat_user_id": runner.id, "user_ids": [Command.link(admin.id)]}
    )
    bot = agent.partner_id
    guest = env["mail.guest"].create({"name": "Visitor #13"})
    channel = env["discuss.channel"].create(
        {
            "name": f"Visitor #13 {agent.name}",
            "channel_type": "livechat",
            "livechat_channel_id": livechat.id,
            "livechat_operator_id": bot.id,
            "channel_member_ids": [
                Command.create({"partner_id": bot.id, "livechat_member_type": "bot"}),
                Command.create({"guest_id": guest.id, "livechat_member_type": "visitor"}),
            ],
        }
    )
    comment = env.ref("mail.mt_comment")
    for asked, answer in zip(VISITOR, AGENT, strict=True):
        env["mail.message"].create(
            {
                "model": channel._name,
                "res_id": channel.id,
                "author_id": False,
                "author_guest_id": guest.id,
                "body": Markup("<p>%s</p>") % asked,
                "message_type": "comment",
                "subtype_id": comment.id,
            }
        )
        channel.message_post(author_id=bot.id, body=render_markdown(env, answer), message_type="comment")
    # Live Chat's forward, as the agent's handover tool runs it.
    channel.with_user(runner)._forward_human_operator(users=admin)
    channel.message_post(
        author_id=admin.partner_id.id, body=Markup("<p>%s</p>") % OPERATOR, message_type="comment"
    )
    return channel


seed(env)  # noqa: F821 (Odoo's shell defines env)
