"""GetRevenueByCampaign: the confirmed sales revenue each marketing campaign, source and medium
(UTM) brought over a period.

An order's campaign, source and medium are the UTM fields Odoo keeps on it (``sale.order``,
carried over from the opportunity or the tracked link the customer came from), the ones Odoo's
sales analysis (``sale.report``) groups by. Revenue is the untaxed amount of confirmed orders
converted to the company currency at each order's own rate, as the sales analysis does.
"""

from odoo.tools import SQL

from odoo.addons.ai_core.tools import apply_filters, tool, toolkit

from . import common

DEFAULT_DAYS = 90
DEFAULT_ROWS = 20
# Breakdown -> sale.order field, and the label of orders without one.
DIMENSIONS = {"campaign": "campaign_id", "source": "source_id", "medium": "medium_id"}
EMPTY = {"campaign": "No campaign", "source": "No source", "medium": "No medium"}


@tool(
    "sales.get_revenue_by_campaign",
    display_name="GetRevenueByCampaign",
    description="Confirmed sales revenue (untaxed, in the company currency) of the session's company per "
    "marketing campaign, per source and per medium (the orders' UTM fields) over a period (default: the "
    "last 90 days), with the orders, the share of the period's revenue and the totals; orders without "
    "a campaign are one row. Filters: campaign, source, medium, sales team, salesperson.",
    input_schema=toolkit.object_schema(
        {
            **common.period_schema("Orders confirmed"),
            "campaign": common.ref("UTM campaign: id or name."),
            "source": common.ref("UTM source: id or name."),
            "medium": common.ref("UTM medium: id or name."),
            "team": common.TEAM,
            "salesperson": common.SALESPERSON,
            "limit": common.limit_schema(DEFAULT_ROWS, common.MAX_LIMIT, "rows per breakdown"),
        },
    ),
    requires=common.READ_ORDERS,
)
def get_revenue_by_campaign(ctx, args):
    env = common.tool_env(ctx)
    current = common.period(env, args, default_days=DEFAULT_DAYS)
    domain, filters = common.orders_domain(env, args, ["sale"])
    domain &= common.datetime_domain("date_order", current)
    domain, utm_echo, _records = apply_filters(
        env, args, tuple(common.utm_filter(k) for k in DIMENSIONS), domain
    )
    filters.update(utm_echo)
    limit = toolkit.row_limit(args, DEFAULT_ROWS, common.MAX_LIMIT)
    currency = common.currency(env)

    groups = {key: [] for key in DIMENSIONS}
    total_orders, total_revenue = 0, 0.0
    for campaign_id, source_id, medium_id, grouping, orders, revenue in _grouped(env, domain):
        # GROUPING() bits (campaign, source, medium): 0 where the column is grouped.
        key = {0b011: "campaign", 0b101: "source", 0b110: "medium"}.get(grouping)
        if key is None:
            total_orders, total_revenue = orders, revenue
            continue
        record_id = {"campaign": campaign_id, "source": source_id, "medium": medium_id}[key]
        groups[key].append((record_id, orders, revenue))

    result = {
        "company": env.company.name,
        "currency": currency.name,
        "period": common.period_info(current),
        "filters": filters,
        "revenue": "untaxed amount of confirmed orders, in the company currency (each order at its own rate)",
        "totals": {"orders": total_orders, "revenue": common.money(currency, total_revenue)},
    }
    truncated = False
    for key, fname in DIMENSIONS.items():
        rows = sorted(groups[key], key=lambda row: (-row[2], row[0] or 0))
        truncated |= len(rows) > limit
        records = env[env["sale.order"]._fields[fname].comodel_name].browse(
            r[0] for r in rows[:limit] if r[0]
        )
        names = {record.id: record.display_name for record in records}
        result[f"by_{key}"] = [
            {
                key: names[record_id] if record_id else EMPTY[key],
                f"{key}_id": record_id or None,
                "orders": orders,
                "revenue": common.money(currency, revenue),
                "share_pct": common.pct(revenue, total_revenue),
            }
            for record_id, orders, revenue in rows[:limit]
        ]
    result["truncated"] = truncated
    return result


def _grouped(env, domain):
    """(campaign, source, medium, GROUPING() bits, orders, untaxed revenue in the company currency)
    per campaign, per source, per medium and in total, of the orders of ``domain`` the user may
    read: one pass with SQL grouping sets."""
    Order = env["sale.order"]
    query = Order._search(domain)

    def column(fname):
        return Order._field_to_sql(Order._table, fname, query)

    campaign, source, medium = (column(fname) for fname in DIMENSIONS.values())
    revenue = common.in_company_currency(column("amount_untaxed"), column("currency_rate"))
    query.groupby = SQL("GROUPING SETS ((%s), (%s), (%s), ())", campaign, source, medium)
    query.order = None
    return env.execute_query(
        query.select(
            campaign,
            source,
            medium,
            SQL("GROUPING(%s, %s, %s)", campaign, source, medium),
            SQL("COUNT(*)"),
            SQL("COALESCE(SUM(%s), 0)", revenue),
        )
    )
