"""GetDealVelocity: how long deals stay in each stage, and how long they take to be won or lost.

Time in stage comes from the stage changes Odoo records in the chatter (``mail.tracking.value`` rows
of the field ``crm.lead.stage_id``), as Odoo's own "time in stage" (``mail.tracking.duration.mixin``)
does: a lead enters its first stage when it is created and each later one at the tracked change
that moved it there; it leaves a stage at the next tracked change. A *visit* is one such stay;
only visits that ended within the period are averaged (stays still going on have no length yet),
and a stage visited twice counts twice. Time to win or lose is from the lead's creation to its
closing date (``date_closed``), for the leads won or lost within the period.
"""

from collections import defaultdict

from odoo.tools import SQL

from odoo.addons.ai_core.tools import apply_filters, tool, toolkit

from . import common

DEFAULT_DAYS = 90
MAX_TEAMS = 20
ALL_TEAMS = "All teams"


@tool(
    "sales.get_deal_velocity",
    display_name="GetDealVelocity",
    description="Deal velocity of the session's company over a period (default: the last 90 days): the "
    "average number of days deals spent in each stage (stays that ended in the period, from the "
    "tracked stage changes), and the average days from creation to won and to lost (deals closed in "
    "the period), for all teams and per sales team. Filter: team.",
    input_schema=toolkit.object_schema(
        {
            **common.period_schema(),
            "team": common.TEAM,
        },
    ),
    requires=common.READ_LEADS,
)
def get_deal_velocity(ctx, args):
    env = common.tool_env(ctx)
    current = common.period(env, args, default_days=DEFAULT_DAYS)
    Lead = env["crm.lead"].with_context(active_test=False)
    domain = common.lead_company_domain(env)
    domain, filters, _records = apply_filters(env, args, (common.TEAM_FILTER,), domain)
    # The leads the user may read (record rules included): the raw SQL below only ever reads
    # the stage changes and dates of these.
    leads = Lead._search(domain)
    visits = _stage_visits(env, leads, current)
    closings = _closings(env, leads, current)

    stage_ids = {stage_id for (_team, stage_id) in visits}
    stages = env["crm.stage"].with_context(active_test=False).browse(stage_ids).exists()
    team_ids = {team_id for (team_id, _stage) in visits} | {team_id for (team_id, _status) in closings}
    teams = env["crm.team"].with_context(active_test=False).browse(t for t in team_ids if t).exists()

    def stage_rows(team_id):
        rows = []
        for stage in stages.sorted(lambda s: (s.sequence, s.id)):
            if (team_id, stage.id) in visits:
                count, days = visits[team_id, stage.id]
                rows.append({"stage": stage.display_name, "visits": count, "avg_days": days})
        return rows

    def outcome(team_id, status):
        count, days = closings.get((team_id, status), (0, None))
        return {"deals": count, "avg_days": days}

    def block(team_id, label):
        return {
            "team": label,
            "stages": stage_rows(team_id),
            "to_won": outcome(team_id, "won"),
            "to_lost": outcome(team_id, "lost"),
        }

    per_team = [block(team.id, team.display_name) for team in teams.sorted(lambda t: (t.sequence, t.id))]
    if any(team_id == 0 for team_id in team_ids):
        per_team.append(block(0, "No team"))
    return {
        "company": env.company.name,
        "period": common.period_info(current),
        "filters": filters,
        "method": "days in stage: from the tracked stage change into the stage (or the lead's creation) "
        "to the change out of it, stays ended in the period; to won/lost: creation to closing date",
        "all_teams": block(None, ALL_TEAMS),
        "per_team": per_team[:MAX_TEAMS],
        "truncated": len(per_team) > MAX_TEAMS,
    }


def _stage_visits(env, leads, current):
    """{(team id or 0, or None for all teams, stage id): (visits, average days)} of the stays in
    a stage that ended within ``current``."""
    # The field's id from the registry's cached map: a plain id, no sudo record.
    field_id = env["ir.model.fields"]._get_ids("crm.lead")["stage_id"]
    env["crm.lead"].flush_model(["create_date", "team_id"])
    env["mail.message"].flush_model(["model", "res_id"])
    env["mail.tracking.value"].flush_model(
        ["field_id", "mail_message_id", "old_value_integer", "create_date"]
    )
    rows = env.execute_query(
        SQL(
            """
            WITH scope AS (
                SELECT id, create_date, COALESCE(team_id, 0) AS team_id FROM crm_lead WHERE id IN %(leads)s
            ), visits AS (
                SELECT s.team_id, v.old_value_integer AS stage_id, v.create_date AS ended,
                       COALESCE(LAG(v.create_date) OVER (PARTITION BY m.res_id ORDER BY v.create_date, v.id),
                                s.create_date) AS started
                  FROM mail_tracking_value v
                  JOIN mail_message m ON m.id = v.mail_message_id
                  JOIN scope s ON s.id = m.res_id
                 WHERE v.field_id = %(field)s AND m.model = 'crm.lead'
            )
            SELECT team_id, stage_id, COUNT(*), AVG(EXTRACT(EPOCH FROM ended - started)) / 86400
              FROM visits
             WHERE stage_id IS NOT NULL AND %(in_period)s
             GROUP BY GROUPING SETS ((team_id, stage_id), (stage_id))
            """,
            leads=leads.subselect(),
            field=field_id,
            in_period=common.datetime_sql(SQL.identifier("ended"), current),
        )
    )
    return {
        (None if team_id is None else team_id, stage_id): (count, round(float(days), 1) + 0.0)
        for team_id, stage_id, count, days in rows
    }


def _closings(env, leads, current):
    """{(team id or 0, or None for all teams, 'won' or 'lost'): (deals, average days from creation
    to closing)} of the leads closed within ``current``."""
    env["crm.lead"].flush_model(["create_date", "date_closed", "won_status", "team_id"])
    rows = env.execute_query(
        SQL(
            """
            SELECT COALESCE(team_id, 0), won_status, COUNT(*),
                   AVG(EXTRACT(EPOCH FROM date_closed - create_date)) / 86400
              FROM crm_lead
             WHERE id IN %(leads)s AND won_status IN ('won', 'lost') AND %(in_period)s
             GROUP BY GROUPING SETS ((COALESCE(team_id, 0), won_status), (won_status))
            """,
            leads=leads.subselect(),
            in_period=common.datetime_sql(SQL.identifier("date_closed"), current),
        )
    )
    result = defaultdict(lambda: (0, None))
    for team_id, status, count, days in rows:
        result[team_id, status] = (count, round(float(days), 1) + 0.0)
    return dict(result)
