"""GetPipelineValue: the open pipeline's expected and probability-weighted revenue."""

from odoo.fields import Domain

from odoo.addons.ai_core.tools import apply_filters

from . import common

FILTERS = (common.TEAM_FILTER, common.SALESPERSON_FILTER, common.STAGE_FILTER)


@common.breakdown_tool(
    "sales.get_pipeline_value",
    display_name="GetPipelineValue",
    description="Value of the open sales pipeline (opportunities neither won nor lost) of the session's "
    "company: number of opportunities, expected revenue and probability-weighted revenue (expected x "
    "probability, Odoo's prorated revenue), per stage (in pipeline order), per sales team and per "
    "salesperson, with totals, in the company currency. Filters: team, salesperson, stage, expected "
    "closing date range; include_won adds the won opportunities.",
    properties={
        "team": common.TEAM,
        "salesperson": common.SALESPERSON,
        "stage": common.ref("Only opportunities in this stage: id or name."),
        **common.period_schema("Expected closing"),
        "include_won": {
            "type": "boolean",
            "default": False,
            "description": "Also count the won opportunities (never the lost ones).",
        },
    },
)
def get_pipeline_value(ctx, args):
    env = common.tool_env(ctx)
    domain, filters = _domain(env, args)
    limit = common.breakdown_limit(args)
    # One query with SQL grouping sets: per stage, per team, per salesperson and the total.
    by_stage, by_team, by_user, total = env["crm.lead"]._read_grouping_sets(
        domain,
        [["stage_id"], ["team_id"], ["user_id"], []],
        ["__count", "expected_revenue:sum", "prorated_revenue:sum"],
        order="expected_revenue:sum desc, __count desc",
    )
    currency = common.currency(env)

    def rows(key, groups, empty):
        return [
            {
                key: common.name(record, empty),
                "opportunities": count,
                "expected_revenue": common.money(currency, expected),
                "weighted_revenue": common.money(currency, weighted),
            }
            for record, count, expected, weighted in groups
        ]

    # Stages in pipeline order, all of them (there are few); teams and people by value.
    by_stage = sorted(by_stage, key=lambda group: (not group[0], group[0].sequence, group[0].id))
    count, expected, weighted = total[0] if total else (0, 0.0, 0.0)  # no opportunity at all
    return {
        "company": env.company.name,
        "currency": currency.name,
        "filters": filters,
        "totals": {
            "opportunities": count,
            "expected_revenue": common.money(currency, expected),
            "weighted_revenue": common.money(currency, weighted),
            "weighted_pct_of_expected": common.pct(weighted, expected),
        },
        "by_stage": rows("stage", by_stage, "No stage"),
        "by_team": rows("team", by_team[:limit], "No team"),
        "by_salesperson": rows("salesperson", by_user[:limit], "Unassigned"),
        "truncated": len(by_team) > limit or len(by_user) > limit,
    }


def _domain(env, args):
    """Open opportunities of the session's company matching the filters, and the filters as
    resolved (so the model can tell which record a name matched)."""
    statuses = ["pending", "won"] if args.get("include_won") else ["pending"]
    domain = (
        common.lead_company_domain(env)
        & Domain("type", "=", "opportunity")
        & Domain("won_status", "in", statuses)
    )
    domain, filters, _records = apply_filters(env, args, FILTERS, domain)
    filters["status"] = "open and won" if args.get("include_won") else "open"
    # Either bound alone is a filter: expected closing dates are mostly in the future.
    date_from, date_to = common.parse_date(args, "date_from"), common.parse_date(args, "date_to")
    if date_from and date_to:
        common.make_period(env, date_from, date_to)  # refuses a reversed range
    if date_from:
        domain &= Domain("date_deadline", ">=", date_from)
        filters["expected_closing_from"] = str(date_from)
    if date_to:
        domain &= Domain("date_deadline", "<=", date_to)
        filters["expected_closing_to"] = str(date_to)
    return domain, filters
