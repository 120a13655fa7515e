"""Schedule a follow-up activity on leads and opportunities that have none, as a salesperson does
with "Schedule Activity" (an activity of Odoo's type, due in N days, assigned to the lead's
salesperson).

"Without activity" is CRM's own notion: no open activity (``activity_state`` empty, the grey part
of the pipeline's activity bar). A lead that already has one is left alone, so a second call with
the same request schedules nothing twice.
"""

import datetime as dt

from odoo.fields import Domain

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import RecordRef, Requires, tool, toolkit

from . import common

NAME = "sales.schedule_followup"

# Odoo's activity types (mail's data), by the word the model gives.
ACTIVITY_TYPES = {
    "todo": "mail.mail_activity_data_todo",
    "call": "mail.mail_activity_data_call",
    "meeting": "mail.mail_activity_data_meeting",
    "email": "mail.mail_activity_data_email",
}
MAX_DAYS = 365
DEFAULT_DAYS = 2
# Leads of one call when the user asks for all theirs: a bounded batch, named in the preview.
DEFAULT_LIMIT = 20
MAX_LIMIT = 50

SALESMAN = Requires(groups=("sales_team.group_sale_salesman",))

LEAD_REF = RecordRef("crm.lead", "lead", domain=common.lead_company_domain, in_company=True)


def _open(env):
    # Open: not lost (archived) and not won, as the pipeline shows them.
    return common.lead_company_domain(env) & Domain("won_status", "=", "pending")


def plan(env, args):
    """(leads, activity type, deadline, truncated) of the call; nothing written.

    Raises:
        ToolInputError: Neither or both of lead / all_mine, or a lead that is closed or already
            has an activity.
    """
    if (args.get("lead") is None) == (not args.get("all_mine")):
        raise ToolInputError("give either lead or all_mine: true")
    activity_type = env.ref(ACTIVITY_TYPES[args.get("activity_type") or "todo"])
    days = args.get("days", DEFAULT_DAYS)
    deadline = common.today(env) + dt.timedelta(days=days)
    truncated = False
    if args.get("lead") is not None:
        leads = LEAD_REF.resolve(env, args["lead"])
        if leads.won_status != "pending":
            raise ToolInputError(f"{leads.name} is {leads.won_status}: follow-ups are for open leads")
        if leads.activity_ids:
            planned = leads.activity_ids[:1]
            raise ToolInputError(
                f"{leads.name} already has a planned activity "
                f"({planned.activity_type_id.name}, due {planned.date_deadline})"
            )
    else:
        limit = toolkit.row_limit(args, DEFAULT_LIMIT, MAX_LIMIT)
        domain = (
            _open(env)
            & Domain("type", "=", "opportunity")
            & Domain("user_id", "=", env.uid)
            & Domain("activity_state", "=", False)
        )
        leads = env["crm.lead"].search(domain, order="id", limit=limit + 1)
        truncated = len(leads) > limit
        leads = leads[:limit]
    return leads, activity_type, deadline, truncated


def _assignee(env, lead):
    return lead.user_id or env.user


def _lead(env, lead):
    return {
        "id": lead.id,
        "name": lead.name,
        "type": lead.type,
        "stage": common.name(lead.stage_id),
        "salesperson": common.name(lead.user_id),
        "assigned_to": _assignee(env, lead).name,
    }


def preview(ctx, args):
    """The activity and the leads it would go on, each with its assignee; nothing written."""
    env = ctx.env
    SALESMAN.check(env, NAME)
    leads, activity_type, deadline, truncated = plan(env, args)
    summary = f" ({args['summary']!r})" if args.get("summary") else ""
    if not leads:
        return f"Schedule no activity in {env.company.name}: every open opportunity of yours has one."
    parts = [
        f"Schedule a {activity_type.name} activity{summary} due {deadline} on {len(leads)} lead(s) "
        f"in {env.company.name}:"
    ]
    parts.extend(
        f"- {lead.name} ({common.name(lead.stage_id, 'no stage')}), assigned to {_assignee(env, lead).name}"
        for lead in leads
    )
    if truncated:
        parts.append("More opportunities have no activity: call again for the next ones.")
    return "\n".join(parts)


@tool(
    NAME,
    display_name="ScheduleFollowup",
    description="Schedule a follow-up activity (Odoo's activity types: todo, call, meeting, email; "
    "default todo) due in N days (default 2) on leads and opportunities of the session's company that "
    "have no planned activity, as 'Schedule Activity' does; assigned to each lead's salesperson (or to "
    "the user when it has none). Give either one lead (id or name) or all_mine: true for the user's own "
    "open opportunities without activity (at most `limit`, default 20). A lead that already has an "
    "activity is left alone. Returns the activities created (id, lead, type, deadline, assignee).",
    input_schema=toolkit.object_schema(
        {
            "lead": common.ref("Lead or opportunity: id or name."),
            "all_mine": {
                "type": "boolean",
                "description": "All the user's open opportunities that have no activity.",
            },
            "activity_type": {"enum": list(ACTIVITY_TYPES), "description": "Odoo's activity type."},
            "days": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_DAYS,
                "description": "Due in this many days from today (0: today).",
            },
            "summary": {"type": "string", "maxLength": 200, "description": "Short summary of the activity."},
            "limit": toolkit.limit_schema(DEFAULT_LIMIT, MAX_LIMIT, "leads (with all_mine)"),
        }
    ),
    requires=SALESMAN,
    mode="write",
    preview=preview,
)
def schedule_followup(ctx, args):
    env = ctx.env
    leads, activity_type, deadline, truncated = plan(env, args)
    created = []
    for lead in leads:
        # The lead's write access decides (Odoo's rule for activities): a salesperson with "own
        # documents only" cannot schedule on a colleague's lead.
        activity = lead.activity_schedule(
            date_deadline=deadline,
            summary=args.get("summary") or "",
            activity_type_id=activity_type.id,
            user_id=_assignee(env, lead).id,
            automated=False,
        )
        created.append(
            {
                "id": activity.id,
                "lead": _lead(env, lead),
                "activity_type": activity.activity_type_id.name,
                "summary": activity.summary or None,
                "deadline": str(activity.date_deadline),
                "assigned_to": activity.user_id.name,
            }
        )
    return {"company": env.company.name, "created": created, "truncated": truncated}
