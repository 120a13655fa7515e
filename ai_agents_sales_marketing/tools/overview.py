"""GetPipelineOverview: leads and opportunities per stage, source, medium and campaign."""

from collections import defaultdict

from odoo.fields import Domain

from odoo.addons.ai_core.tools import apply_filters

from . import common

# Breakdown -> crm.lead field.
DIMENSIONS = {"stage": "stage_id", "source": "source_id", "medium": "medium_id", "campaign": "campaign_id"}
EMPTY = {"stage": "No stage", "source": "No source", "medium": "No medium", "campaign": "No campaign"}

FILTERS = (common.TEAM_FILTER, *(common.utm_filter(key) for key in ("source", "medium", "campaign")))


@common.breakdown_tool(
    "marketing.get_pipeline_overview",
    display_name="GetPipelineOverview",
    description="Leads and opportunities of the session's company per stage, per source, per medium and "
    "per campaign (UTM), with totals: open leads, open opportunities and their expected revenue (in the "
    "company currency), won and lost. Optional period on the creation date (date_from / date_to); "
    "filters: team, source, medium, campaign.",
    properties={
        **common.period_schema("Created"),
        "team": common.TEAM,
        "source": common.ref("UTM source: id or name (e.g. Newsletter, Search engine)."),
        "medium": common.ref("UTM medium: id or name (e.g. Email, Website)."),
        "campaign": common.ref("UTM campaign: id or name."),
    },
)
def get_pipeline_overview(ctx, args):
    env = common.tool_env(ctx)
    domain, filters = lead_filters(env, args)
    limit = common.breakdown_limit(args)
    status = ["type", "won_status"]
    # One query with SQL grouping sets: per dimension (and lead type and status), and the totals.
    *per_dimension, total = (
        env["crm.lead"]
        .with_context(active_test=False)
        ._read_grouping_sets(
            domain,
            [*([fname, *status] for fname in DIMENSIONS.values()), status],
            ["__count", "expected_revenue:sum"],
        )
    )
    currency = common.currency(env)
    sums = {key: defaultdict(lambda: defaultdict(float)) for key in DIMENSIONS}
    for key, groups in zip(DIMENSIONS, per_dimension, strict=True):
        for record, lead_type, won_status, count, expected in groups:
            _add(sums[key][record], lead_type, won_status, count, expected)
    totals = defaultdict(float)
    for lead_type, won_status, count, expected in total:
        _add(totals, lead_type, won_status, count, expected)

    def figures(values):
        return {
            "leads": int(values["leads"]),
            "opportunities": int(values["opportunities"]),
            "expected_revenue": common.money(currency, values["expected_revenue"]),
            "won": int(values["won"]),
            "lost": int(values["lost"]),
        }

    result = {
        "company": env.company.name,
        "currency": currency.name,
        "filters": filters,
        "totals": figures(totals),
    }
    truncated = False
    for key in DIMENSIONS:
        records = list(sums[key])
        if key == "stage":
            # Stages are few: all of them, in pipeline order.
            records.sort(key=lambda s: (not s, s.sequence, s.id))
        else:
            records.sort(
                key=lambda r, k=key: (-sum(sums[k][r][c] for c in ("leads", "opportunities")), r.id or 0)
            )
            truncated = truncated or len(records) > limit
            records = records[:limit]
        result[f"by_{key}"] = [
            {key: common.name(record, EMPTY[key]), **figures(sums[key][record])} for record in records
        ]
    result["truncated"] = truncated
    return result


def _add(figures, lead_type, status, count, expected):
    """Count a group in its column: won, lost, or open leads or opportunities (with their expected
    revenue: the pipeline still to win)."""
    if status in ("won", "lost"):
        figures[status] += count
    elif lead_type == "opportunity":
        figures["opportunities"] += count
        figures["expected_revenue"] += expected
    else:
        figures["leads"] += count


def lead_filters(env, args):
    """Leads of the session's company (archived ones included: lost leads are archived) created in
    the optional period and matching the filters; the filters as resolved."""
    # Archived leads count only when lost: an archived lead that was not marked lost is neither
    # open nor closed.
    domain = common.lead_company_domain(env) & (
        Domain("active", "=", True) | Domain("won_status", "=", "lost")
    )
    filters = {}
    created = common.optional_period(env, args)
    if created:
        domain &= common.datetime_domain("create_date", created)
        filters["created"] = common.period_info(created)
    domain, echo, _records = apply_filters(env, args, FILTERS, domain)
    filters.update(echo)
    return domain, filters
