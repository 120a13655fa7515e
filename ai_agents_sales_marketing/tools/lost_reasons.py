"""GetLostReasons: why deals were lost over a period.

Lost is Odoo's CRM status (``crm.lead.won_status`` "lost": archived with a probability of 0, as
"Mark as lost" leaves them), dated by the closing date (``date_closed``); the reason is the one
chosen when marking it lost (``lost_reason_id``). The expected revenue is what the lead was worth
when lost, in the company currency.
"""

from odoo.fields import Domain

from odoo.addons.ai_core.tools import apply_filters

from . import common

DEFAULT_DAYS = 90


@common.breakdown_tool(
    "sales.get_lost_reasons",
    display_name="GetLostReasons",
    description="Leads and opportunities of the session's company marked as lost over a period (closing "
    "date; default: the last 90 days), per lost reason and per salesperson: how many, their expected "
    "revenue (in the company currency) and the share of all lost ones, with totals; those lost without "
    "a reason are one row. Filters: sales team, salesperson.",
    properties={
        **common.period_schema("Lost"),
        "team": common.TEAM,
        "salesperson": common.SALESPERSON,
    },
)
def get_lost_reasons(ctx, args):
    # Only the names of the reasons, people and company shown are read, not their other fields:
    # at this tool's size, reading whole partner rows costs as much as the grouping itself.
    env = common.tool_env(ctx)
    env = env(context=dict(env.context, prefetch_fields=False))
    current = common.period(env, args, default_days=DEFAULT_DAYS)
    domain = (
        common.lead_company_domain(env)
        & Domain("won_status", "=", "lost")
        & common.datetime_domain("date_closed", current)
    )
    domain, filters, _records = apply_filters(env, args, common.TEAM_AND_SALESPERSON, domain)
    limit = common.breakdown_limit(args)
    # One query with SQL grouping sets: per reason, per salesperson and the total.
    by_reason, by_user, total = (
        env["crm.lead"]
        .with_context(active_test=False)
        ._read_grouping_sets(
            domain,
            [["lost_reason_id"], ["user_id"], []],
            ["__count", "expected_revenue:sum"],
            order="__count desc, expected_revenue:sum desc",
        )
    )
    currency = common.currency(env)
    count, expected = total[0] if total else (0, 0.0)

    def rows(key, groups, empty):
        return [
            {
                key: common.name(record, empty),
                "lost": n,
                "expected_revenue": common.money(currency, revenue),
                "share_pct": common.pct(n, count),
            }
            for record, n, revenue in groups[:limit]
        ]

    return {
        "company": env.company.name,
        "currency": currency.name,
        "period": common.period_info(current),
        "filters": filters,
        "lost": "leads and opportunities marked as lost (archived, probability 0), by closing date",
        "totals": {"lost": count, "expected_revenue": common.money(currency, expected)},
        "by_reason": rows("reason", by_reason, "No reason"),
        "by_salesperson": rows("salesperson", by_user, "Unassigned"),
        "truncated": len(by_reason) > limit or len(by_user) > limit,
    }
