"""GetOverdueActivities: the activities past their deadline on leads and sales orders, per
salesperson.

Overdue is Odoo's activity state "overdue" (``mail.activity._compute_state_from_date``): an open
activity whose deadline is before today in its assignee's time zone (UTC for an unassigned one).
Only activities on CRM leads and sales orders of the session's company that the user may read are
counted: reading an activity is reading its document (``mail.activity._check_access``), so the SQL
below only ever reads the activities of the documents the ORM lets the user search.
"""

from odoo.fields import Domain
from odoo.tools import SQL

from odoo.addons.ai_core.tools import Filter, Requires, apply_filters, tool, toolkit

from . import common

MODELS = ("crm.lead", "sale.order")
ASSIGNEE_FILTER = Filter("salesperson", common.SALESPERSON_REF, "user_id")


@tool(
    "sales.get_overdue_activities",
    display_name="GetOverdueActivities",
    description="Overdue activities (deadline before today, as Odoo's activity view marks them late) on "
    "the CRM leads and sales orders of the session's company, per assigned salesperson: how many, on "
    "leads and on orders, the oldest deadline and the most days late; with the most overdue "
    "activities (type, summary, document, assignee, deadline, days late). Filters: sales team (of the "
    "lead or order), salesperson (the activity's assignee).",
    input_schema=toolkit.object_schema(
        {
            "team": common.TEAM,
            "salesperson": common.ref("Assignee of the activities: user id, login or name."),
            "limit": common.limit_schema(what="salespeople and activities listed"),
        },
    ),
    requires=Requires(read=MODELS),
)
def get_overdue_activities(ctx, args):
    env = common.tool_env(ctx)
    limit = toolkit.row_limit(args, common.DEFAULT_LIMIT, common.MAX_LIMIT)
    documents, filters, _records = apply_filters(env, args, (common.TEAM_FILTER,))
    _domain, assignee_echo, records = apply_filters(env, args, (ASSIGNEE_FILTER,))
    filters.update(assignee_echo)
    assignee = records.get("salesperson")
    # The documents the user may read (record rules included), of the session's company.
    leads = env["crm.lead"]._search(common.lead_company_domain(env) & documents)
    orders = env["sale.order"]._search(Domain("company_id", "=", env.company.id) & documents)
    env["mail.activity"].flush_model(["active", "res_model", "res_id", "user_id", "user_tz", "date_deadline"])
    overdue = SQL(
        """
        SELECT a.id, a.user_id, a.res_model, a.res_id, a.date_deadline,
               (%(now)s AT TIME ZONE 'UTC' AT TIME ZONE COALESCE(a.user_tz, 'UTC'))::date - a.date_deadline
                   AS days_late
          FROM mail_activity a
         WHERE a.active
           AND ((a.res_model = 'crm.lead' AND a.res_id IN %(leads)s)
                OR (a.res_model = 'sale.order' AND a.res_id IN %(orders)s))
           AND %(assignee)s
        """,
        now=env.cr.now(),
        leads=leads.subselect(),
        orders=orders.subselect(),
        assignee=SQL("a.user_id = %s", assignee.id) if assignee else SQL("TRUE"),
    )
    groups = env.execute_query(
        SQL(
            """
            SELECT user_id, GROUPING(user_id), COUNT(*),
                   COUNT(*) FILTER (WHERE res_model = 'crm.lead'),
                   COUNT(*) FILTER (WHERE res_model = 'sale.order'),
                   MIN(date_deadline), MAX(days_late)
              FROM (%(overdue)s) overdue
             WHERE days_late > 0
             GROUP BY GROUPING SETS ((user_id), ())
             ORDER BY 3 DESC, 7 DESC, 1
            """,
            overdue=overdue,
        )
    )
    oldest = env.execute_query(
        SQL(
            "SELECT id, res_model, res_id, days_late FROM (%s) overdue WHERE days_late > 0 "
            "ORDER BY days_late DESC, id LIMIT %s",
            overdue,
            limit,
        )
    )
    totals = next((row for row in groups if row[1]), (None, 1, 0, 0, 0, None, None))
    per_user = [row for row in groups if not row[1]]
    users = env["res.users"].browse(row[0] for row in per_user[:limit] if row[0])
    names = {user.id: user.display_name for user in users}
    activities = env["mail.activity"].browse(row[0] for row in oldest)
    model_labels = {model: env[model]._description for model in MODELS}
    return {
        "company": env.company.name,
        "today": str(common.today(env)),
        "filters": filters,
        "overdue": "open activities whose deadline is before today in the assignee's time zone, on the "
        "leads and sales orders you may read",
        "totals": {
            "overdue": totals[2],
            "on_leads": totals[3],
            "on_orders": totals[4],
            "oldest_deadline": str(totals[5]) if totals[5] else None,
        },
        "by_salesperson": [
            {
                "salesperson": names[user_id] if user_id else "Unassigned",
                "overdue": count,
                "on_leads": on_leads,
                "on_orders": on_orders,
                "oldest_deadline": str(deadline),
                "max_days_late": days_late,
            }
            for user_id, _grouping, count, on_leads, on_orders, deadline, days_late in per_user[:limit]
        ],
        "most_overdue": [
            {
                "activity_type": common.name(activity.activity_type_id),
                "summary": activity.summary or None,
                "document": env[res_model].browse(res_id).display_name,
                "document_type": model_labels[res_model],
                "document_id": res_id,
                "salesperson": common.name(activity.user_id, "Unassigned"),
                "deadline": str(activity.date_deadline),
                "days_late": days_late,
            }
            for activity, (_id, res_model, res_id, days_late) in zip(activities, oldest, strict=True)
        ],
        "truncated": len(per_user) > limit or totals[2] > limit,
    }
