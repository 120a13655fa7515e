"""The conversations the README's screenshots show, written into a demo database.

No model is reachable where the pictures are made, so the transcripts are written here as a turn
would have saved them (answers rendered by ai_core.rendering, Discuss answers posted by the
agent's contact) rather than produced by a model. On a database made by
``AIA_DEMO_DB=aia_shots AIA_MODULES=ai_discuss scripts/demo.sh`` (with Odoo's demo data):

    python -m odoo shell -d aia_shots --no-http [connection options] < docs/screenshots/seed_demo.py

then ``capture.py`` with the ids this prints. Messages are posted by the superuser on their
authors' behalf (a visitor's written as stored messages), so that no turn starts. With
``ai_livechat_agent`` installed (``AIA_MODULES=ai_livechat_agent``), a live chat handed over to a
person and a channel @mention are written too. With ``ai_workflow_month_end``
(``AIA_MODULES=ai_livechat_agent,ai_workflow_month_end``), a finished run of *Month-end review*
is written as its runner saves it: each task's input built by ai_workflow's own steps, each
task a session of its agent with its transcript, tool calls and usage rows.
"""

import json
from datetime import timedelta

from markupsafe import Markup

from odoo import Command, fields

from odoo.addons.ai_core.ai_engine import Message, ToolUseBlock
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

MONTH_END_QUESTION = """Close of November 2026 for the management
Stock: late receipts and what to reorder. Sales: the month's revenue, top customers and the open pipeline."""
PLAN = {
    "steps": [
        {
            "id": "stock",
            "agent": "warehouse",
            "task": "Late and pending receipts, and the reordering rules below their minimum",
        },
        {
            "id": "pipeline",
            "agent": "sales",
            "task": "November 2026 revenue and top customers against October, and the open pipeline",
        },
    ]
}
RECEIPTS = {
    "totals": {"receipts": 6, "late": 2},
    "rows": [
        {
            "reference": "WH/IN/00004",
            "partner": "Wood Corner",
            "scheduled_date": "2026-11-24",
            "days_late": 14,
            "lines": [{"product": "Large Cabinet", "quantity": 24, "uom": "Units"}],
        },
        {
            "reference": "WH/IN/00007",
            "partner": "Ready Mat",
            "scheduled_date": "2026-12-02",
            "days_late": 6,
            "lines": [{"product": "Drawer Black", "quantity": 60, "uom": "Units"}],
        },
    ],
}
REORDER = {
    "totals": {"alerts": 3},
    "rows": [
        {"product": "Large Cabinet", "on_hand": 4, "forecast": -2, "min": 10, "to_order": 22, "uom": "Units"},
        {"product": "Drawer Black", "on_hand": 12, "forecast": 5, "min": 20, "to_order": 35, "uom": "Units"},
        {
            "product": "Office Chair Black",
            "on_hand": 9,
            "forecast": 9,
            "min": 15,
            "to_order": 21,
            "uom": "Units",
        },
    ],
}
TOP_CUSTOMERS = {
    "currency": "EUR",
    "period": {"from": "2026-11-01", "to": "2026-11-30"},
    "customers": [
        {"rank": 1, "customer": "{a}", "revenue": 14860.0, "share_pct": 28.2},
        {"rank": 2, "customer": "{b}", "revenue": 9730.0, "share_pct": 18.5},
        {"rank": 3, "customer": "{c}", "revenue": 6215.0, "share_pct": 11.8},
    ],
    "totals": {"revenue": 52640.0, "orders": 23, "previous_revenue": 48560.0, "change_pct": 8.4},
}
PIPELINE = {
    "currency": "EUR",
    "totals": {"count": 14, "expected_revenue": 187400.0, "weighted_revenue": 72960.0},
}
STOCK_RESULT = """Pending receipts: 6, of which 2 are late:
- WH/IN/00004 from Wood Corner, scheduled 2026-11-24: 14 days late (24 Units Large Cabinet)
- WH/IN/00007 from Ready Mat, scheduled 2026-12-02: 6 days late (60 Units Drawer Black)

Reordering rules below their minimum: 3
| Product | On hand | Forecast | Min | To order |
|---|---:|---:|---:|---:|
| Large Cabinet | 4 Units | -2 Units | 10 Units | 22 Units |
| Drawer Black | 12 Units | 5 Units | 20 Units | 35 Units |
| Office Chair Black | 9 Units | 9 Units | 15 Units | 21 Units |

Large Cabinet is short even with its late receipt counted: order it first."""
PIPELINE_RESULT = """November 2026, confirmed orders, untaxed, in EUR:
- Revenue: 52,640.00 € from 23 orders (October: 48,560.00 €, +8.4 %).
- Top customers: {a} 14,860.00 € (28.2 %), {b} 9,730.00 € (18.5 %), {c} 6,215.00 € (11.8 %).

Open pipeline: 14 opportunities, 187,400.00 € expected, 72,960.00 € weighted (a forecast, not revenue)."""
REVIEW = {
    "approved": True,
    "notes": "Every figure is in its tools' results, with its unit or currency; the weighted pipeline is "
    "called a forecast.",
}
MEMO = """# Month-end review: November 2026

1. Sales: 52,640.00 € confirmed (+8.4 % on October); 72,960.00 € weighted in the pipeline.
2. Stock: 2 of 6 pending receipts are late; 3 products are below their reorder minimum.
3. First decision: order 22 Units of Large Cabinet, short even with Wood Corner's late receipt.

## Stock
- Late: WH/IN/00004 from Wood Corner (24 Units Large Cabinet, 14 days).
- Late: WH/IN/00007 from Ready Mat (60 Units Drawer Black, 6 days).
- To order: Large Cabinet 22 Units, Drawer Black 35 Units, Office Chair Black 21 Units.

## Sales
- 23 orders, 52,640.00 € untaxed; {a}, {b} and {c} make 58.5 % of it.
- Pipeline: 14 opportunities, 187,400.00 € expected, 72,960.00 € weighted (a forecast).

## To check or decide
- Chase Wood Corner for WH/IN/00004 and confirm the Large Cabinet order.
- {a} alone is 28.2 % of the month: watch the concentration."""
# Per task (by plan key or step kind): its model calls' (input, output) tokens, the tool calls
# of its first answer (name, arguments, result), and when it started and ended (seconds into
# the run).
MONTH_END_TURNS = {
    "plan": ([(2140, 185)], [], (0, 14)),
    "stock": (
        [(3050, 96), (4420, 312)],
        [("warehouse.get_pending_receipts", {}, RECEIPTS), ("warehouse.get_reorder_alerts", {}, REORDER)],
        (16, 52),
    ),
    "pipeline": (
        [(3380, 122), (5160, 287)],
        [
            ("sales.get_top_customers", {"date_from": "2026-11-01", "date_to": "2026-11-30"}, TOP_CUSTOMERS),
            ("sales.get_pipeline_value", {}, PIPELINE),
        ],
        (16, 47),
    ),
    "review": ([(4870, 64)], [], (54, 71)),
    "synthesize": ([(3610, 498)], [], (73, 118)),
}


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
    month_end = env.ref("ai_workflow_month_end.workflow_month_end", raise_if_not_found=False)
    run_id = seed_workflow_run(env, month_end, admin, names).id if month_end else 0
    env.cr.commit()
    ids = (session.id, chat.id, azure.id, general.id, live_chat.id, run_id)
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


def seed_workflow_run(env, workflow, user, names):
    """A finished run of ``workflow`` (Month-end review) as its runner saves it: plan, the two
    planned tasks fanned out, review, memo, one pass each (see aia.workflow.run._aia_start_pass)."""
    from odoo.addons.ai_workflow import steps  # only with the workflow installed

    def named(text):
        for key, name in names.items():
            text = text.replace(f"{{{key}}}", name)  # not format(): the texts hold JSON braces
        return text

    start = fields.Datetime.now().replace(microsecond=0) - timedelta(minutes=9)
    run = (
        env["aia.workflow.run"]
        .with_user(user)
        .create({"workflow_id": workflow.id, "question": MONTH_END_QUESTION})
        .sudo()
    )
    run.write(
        {
            "state": "running",
            "date_started": start,
            "deadline": start + timedelta(minutes=workflow.max_minutes),
            "max_tokens": workflow.max_tokens,
            "max_cost": workflow.max_cost,
            "max_tasks": workflow.max_tasks,
        }
    )
    model = env["aia.model"].search([], limit=1)
    # One planned step a line, as a model writes a short plan.
    plan_text = ",\n".join(f"  {json.dumps(step)}" for step in PLAN["steps"])
    plan_text = f'{{"steps": [\n{plan_text}\n]}}'
    outputs = {
        "plan": plan_text,
        "stock": STOCK_RESULT,
        "pipeline": named(PIPELINE_RESULT),
        "review": json.dumps(REVIEW, indent=2),
        "synthesize": named(MEMO),
    }

    def do_pass(step):
        """The step's tasks, built by the runner's own code, each done by its agent's turn."""
        run.write({"step_id": step.id, "pass_number": run.pass_number + 1})
        values = steps.tasks_of(run, step)
        for v in values:
            if step.kind == "execute":
                v["input"] = steps.execute_input(run, step, v["brief"])
        tasks = env["aia.workflow.task"].create(
            [
                {
                    "run_id": run.id,
                    "company_id": run.company_id.id,
                    "user_id": user.id,
                    "step_id": step.id,
                    "pass_number": run.pass_number,
                    **v,
                }
                for v in values
            ]
        )
        for task in tasks:
            key = task.key if step.kind == "execute" else step.kind
            write_turn(task, outputs[key], *MONTH_END_TURNS[key])
        return tasks

    def write_turn(task, answer, calls, tools, seconds):
        began, ended = (start + timedelta(seconds=s) for s in seconds)
        session = (
            env["aia.session"]
            .sudo()
            .create(
                {
                    "name": task.name,
                    "agent_id": task.agent_id.id,
                    "user_id": user.id,
                    "company_id": task.company_id.id,
                    "channel": "workflow",
                    "workflow_task_id": task.id,
                }
            )
        )
        # (call id, tool, arguments, what the model read) of each call of its first answer.
        made = [
            (f"call_{task.id}_{i}", name, arguments, named(json.dumps(result)))
            for i, (name, arguments, result) in enumerate(tools)
        ]
        messages = [Message.user(task.input)]
        if made:
            uses = tuple(
                ToolUseBlock(call, name.replace(".", "_"), arguments) for call, name, arguments, _ in made
            )
            messages.append(Message("assistant", uses))
            messages += [Message.tool_result(call, content) for call, _name, _arguments, content in made]
        env["aia.tool.execution"].create(
            [
                {
                    "session_id": session.id,
                    "tool_id": env["aia.tool"].search([("name", "=", name)], limit=1).id,
                    "tool_name": name,
                    "call_id": call,
                    "arguments": arguments,
                    "output": json.loads(content),
                    "content": content,
                    "result_size": len(content),
                    "latency_ms": 180 + 40 * i,
                    "status": "ok",
                }
                for i, (call, name, arguments, content) in enumerate(made)
            ]
        )
        messages.append(Message.assistant(answer))
        env["aia.message"].create(
            [{"session_id": session.id, "role": m.role, "content": m.to_dict()} for m in messages]
        )
        ledger = {
            "session_id": session.id,
            "agent_id": task.agent_id.id,
            "user_id": user.id,
            "company_id": task.company_id.id,
            "date": ended,
        }
        env["aia.usage.event"].create(
            [
                {
                    **ledger,
                    "kind": "provider_call",
                    "provider": model.provider_id.kind,
                    "model_name": model.name,
                    "input_tokens": tokens_in,
                    "output_tokens": tokens_out,
                    "total_tokens": tokens_in + tokens_out,
                    "cost": (tokens_in * model.price_input + tokens_out * model.price_output) / 1e6,
                    "latency_ms": 2400 + 9 * tokens_out,
                    "status": "ok",
                }
                for tokens_in, tokens_out in calls
            ]
            + [
                {**ledger, "kind": "tool_call", "tool_name": name, "cost": 0.0, "status": "ok"}
                for name, _arguments, _result in tools
            ]
        )
        session.write({"state": "done", "last_text": answer})
        task.write(
            {
                "state": "done",
                "output": answer,
                "session_id": session.id,
                "date_started": began,
                "date_ended": ended,
            }
        )

    for step in workflow.step_ids.sorted("sequence"):
        tasks = do_pass(step)
        # The runner's own reading of the plan (it sets run.plan) and of the verdict.
        if step.kind == "plan" and not steps.read_plan(run, tasks):
            raise ValueError(f"invalid plan: {run.task_ids[-1].input}")
        if step.kind == "review" and steps.send_back(run, tasks):
            raise ValueError("the review sent tasks back")
    end = max(run.task_ids.mapped("date_ended"))
    # As _aia_finish: the answer is the last agent task's output.
    run.write({"state": "done", "answer": run.task_ids[-1].output, "date_ended": end})
    return run


seed(env)  # noqa: F821 (Odoo's shell defines env)
