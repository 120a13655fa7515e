"""GetConversionRates: the lead funnel per creation period and per source.

Leads are counted in the period they were created in (cohorts), whatever became of them since:
created = every lead and opportunity created (archived and lost ones included); opportunities =
those that are opportunities now (created as one or converted) or were won; won = marked won;
with_order = those with at least one confirmed sales order (``sale.order.opportunity_id``). Rates:
opportunity_rate = opportunities / created, win_rate = won / opportunities, order_rate = with_order
/ opportunities, overall_win_rate = won / created.
"""

from collections import defaultdict

from odoo.fields import Domain

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import Requires, apply_filters, tool, toolkit

from . import common

DEFAULT_DAYS = 365
MAX_PERIODS = 36
MAX_ROWS = 100
GRANULARITIES = {"month": 1, "quarter": 3, "year": 12}
NO_SOURCE = "No source"

FILTERS = (common.TEAM_FILTER, common.utm_filter("source"))


@tool(
    "marketing.get_conversion_rates",
    display_name="GetConversionRates",
    description="Lead funnel of the session's company for the leads created in a period (default: the "
    "last 365 days): created -> opportunities -> won -> with a confirmed sales order, with the rates "
    "between the steps, per month, quarter or year of creation and per source (UTM), with totals. "
    "Filters: team, source.",
    input_schema=toolkit.object_schema(
        {
            **common.period_schema("Leads created"),
            "granularity": {"enum": list(GRANULARITIES), "default": "month"},
            "team": common.TEAM,
            "source": common.ref("UTM source: id or name."),
        },
    ),
    requires=Requires(read=("crm.lead", "sale.order")),
)
def get_conversion_rates(ctx, args):
    env = common.tool_env(ctx)
    created = common.period(env, args, default_days=DEFAULT_DAYS)
    granularity = args.get("granularity") or "month"
    months = (
        (created.date_to.year - created.date_from.year) * 12 + created.date_to.month - created.date_from.month
    )
    if months // GRANULARITIES[granularity] + 1 > MAX_PERIODS:
        raise ToolInputError(
            f"{months // GRANULARITIES[granularity] + 1} {granularity}s is too many periods (at most "
            f"{MAX_PERIODS}); shorten the period or use a coarser granularity"
        )
    Lead = env["crm.lead"].with_context(active_test=False)
    domain = common.lead_company_domain(env) & common.datetime_domain("create_date", created)
    domain, filters, _records = apply_filters(env, args, FILTERS, domain)

    cells = defaultdict(lambda: defaultdict(int))  # (period, source) -> counts
    for when, source, lead_type, status, count in Lead._read_group(
        domain, [f"create_date:{granularity}", "source_id", "type", "won_status"], ["__count"]
    ):
        cell = cells[_label(when, granularity), source]
        cell["created"] += count
        if lead_type == "opportunity" or status == "won":
            cell["opportunities"] += count
        if status == "won":
            cell["won"] += count
    orders = Domain("company_id", "=", env.company.id) & Domain("state", "=", "sale")
    orders &= Domain("opportunity_id", "in", Lead._search(domain))
    for when, source, leads in env["sale.order"]._read_group(
        orders,
        [f"opportunity_id.create_date:{granularity}", "opportunity_id.source_id"],
        ["opportunity_id:count_distinct"],
    ):
        cells[_label(when, granularity), source]["with_order"] += leads

    by_period = defaultdict(lambda: defaultdict(int))
    by_source = defaultdict(lambda: defaultdict(int))
    totals = defaultdict(int)
    for (label, source), cell in cells.items():
        for key, value in cell.items():
            by_period[label][key] += value
            by_source[source][key] += value
            totals[key] += value
    sources = sorted(by_source, key=lambda s: (-by_source[s]["created"], s.id or 0))
    matrix = sorted(cells, key=lambda key: (key[0], -cells[key]["created"], key[1].id or 0))
    return {
        "company": env.company.name,
        "created": common.period_info(created),
        "granularity": granularity,
        "filters": filters,
        "definitions": "created: leads and opportunities created in the period; opportunities: of those, "
        "the ones qualified as opportunities (or won); won: marked won; with_order: with a confirmed "
        "sales order",
        "totals": _funnel(totals),
        "by_period": [{"period": label, **_funnel(by_period[label])} for label in sorted(by_period)],
        "by_source": [
            {"source": common.name(source, NO_SOURCE), **_funnel(by_source[source])} for source in sources
        ],
        "by_period_and_source": [
            {"period": label, "source": common.name(source, NO_SOURCE), **_funnel(cells[label, source])}
            for label, source in matrix[:MAX_ROWS]
        ],
        "truncated": len(matrix) > MAX_ROWS,
    }


def _label(when, granularity):
    if granularity == "year":
        return f"{when.year}"
    if granularity == "quarter":
        return f"{when.year}-Q{(when.month - 1) // 3 + 1}"
    return f"{when.year}-{when.month:02d}"


def _funnel(counts):
    created, opportunities, won, ordered = (
        counts["created"],
        counts["opportunities"],
        counts["won"],
        counts["with_order"],
    )
    return {
        "created": created,
        "opportunities": opportunities,
        "won": won,
        "with_order": ordered,
        "opportunity_rate": common.pct(opportunities, created),
        "win_rate": common.pct(won, opportunities),
        "order_rate": common.pct(ordered, opportunities),
        "overall_win_rate": common.pct(won, created),
    }
