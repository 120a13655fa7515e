"""GetCampaignMetrics: what each mailing and each campaign achieved, from the mailing traces.

The figures follow the definitions of Odoo's own mailing statistics (``mailing.mailing``):
recipients are the mailing's traces; sent = traces with a sent time; delivered = traces delivered,
opened or replied; opened = opened or replied; clicked = traces with a link click; bounced;
failed (exceptions); canceled. Rates: delivered over recipients not canceled; opened, clicked and
replied over recipients not canceled, bounced or failed; bounced over recipients not canceled or
failed (those of the mailings and of the totals).

A campaign's rates are those of Odoo's campaign (``utm.campaign`` as extended by mass_mailing:
``received_ratio``, ``opened_ratio``, ``replied_ratio``, ``bounced_ratio``), to Odoo's two
decimals: all over the campaign's recipients not canceled, received = traces with a sent time
minus bounced. The click rate, which Odoo's campaign lacks, is over the same recipients. Odoo's
campaign counts every trace of its mailings; here only the mailings sent in the period (or the
mailing asked for) are counted, so a campaign's rates equal Odoo's when all its mailings are in the
period. No rate (None) where Odoo shows 0 for a campaign with no recipient left.

Test sends are left out. Mailings have no company in Odoo: every mailing the user may read is
counted, whatever the session's company.
"""

from collections import defaultdict

from odoo import fields
from odoo.fields import Domain
from odoo.tools.float_utils import float_round

from odoo.addons.ai_core.tools import Requires, apply_filters, tool, toolkit

from . import common

DEFAULT_DAYS = 90
DEFAULT_ROWS = 20
MAX_ROWS = 100
STATUSES = ("outgoing", "process", "pending", "sent", "open", "reply", "bounce", "error", "cancel")


@tool(
    "marketing.get_campaign_metrics",
    display_name="GetCampaignMetrics",
    record_keys={"mailing_id": "mailing.mailing"},
    description="Email marketing results per mailing and per campaign, with totals: recipients, sent, "
    "delivered, opened, clicked, replied, bounced, failed, and the rates (Odoo's definitions). "
    "Mailings and totals: delivered rate over the recipients not canceled; opened / clicked / "
    "replied rates over those not canceled, bounced or failed; bounced rate over those not "
    "canceled or failed. Campaigns: Odoo's campaign ratios (received = sent minus bounced; "
    "received / opened / clicked / replied / bounced rates all over the recipients not canceled, "
    "to 0.01), over the campaign's mailings in the period only. Mailings sent in a period "
    "(default: the last 90 days); filters: campaign, mailing. Most recent mailings first.",
    input_schema=toolkit.object_schema(
        {
            **common.period_schema("Mailings sent"),
            "campaign": common.ref("UTM campaign: id or name."),
            "mailing": common.ref("Mailing: id or subject."),
            "limit": common.limit_schema(DEFAULT_ROWS, MAX_ROWS, "mailings and campaigns"),
        },
    ),
    requires=Requires(read=("mailing.mailing", "mailing.trace")),
)
def get_campaign_metrics(ctx, args):
    env = common.tool_env(ctx)
    domain = Domain("mass_mailing_id", "!=", False) & Domain("is_test_trace", "!=", True)
    filters = {}
    if args.get("mailing") is not None:
        mailing = common.MAILING_REF.resolve(env, args["mailing"])
        domain &= Domain("mass_mailing_id", "=", mailing.id)
        filters["mailing"] = mailing.display_name
    else:
        sent = common.period(env, args, default_days=DEFAULT_DAYS)
        domain &= common.datetime_domain("mass_mailing_id.sent_date", sent)
        filters["sent"] = common.period_info(sent)
    domain, echo, _records = apply_filters(env, args, (common.utm_filter("campaign"),), domain)
    filters.update(echo)
    limit = toolkit.row_limit(args, DEFAULT_ROWS, MAX_ROWS)
    # One query with SQL grouping sets: per mailing, per campaign and in total, each per status.
    per_set = env["mailing.trace"]._read_grouping_sets(
        domain,
        [["mass_mailing_id", "trace_status"], ["campaign_id", "trace_status"], ["trace_status"]],
        ["__count", "links_click_datetime:count", "sent_datetime:count"],
    )
    per_mailing, per_campaign = defaultdict(_line), defaultdict(_line)
    totals = _line()
    for mailing, status, *counts in per_set[0]:
        _add(per_mailing[mailing], status, *counts)
    for campaign, status, *counts in per_set[1]:
        _add(per_campaign[campaign], status, *counts)
    for status, *counts in per_set[2]:
        _add(totals, status, *counts)
    mailings = sorted(per_mailing, key=lambda m: (m.sent_date or m.create_date, m.id), reverse=True)
    campaigns = sorted(per_campaign, key=lambda c: (-_figures(per_campaign[c])["delivered"], c.id or 0))
    return {
        "filters": filters,
        "scope": "every mailing you may read (mailings have no company in Odoo)",
        "rates": {
            "mailings and totals": "delivered over recipients not canceled; opened, clicked, replied over "
            "those not canceled, bounced or failed; bounced over those not canceled or failed",
            "campaigns": "Odoo's campaign ratios: received (sent minus bounced), opened, clicked, "
            "replied, bounced, all over recipients not canceled, of the campaign's mailings in the "
            "period only",
        },
        "totals": {"mailings": len(per_mailing), **_figures(totals)},
        "mailings": [
            {
                "mailing": mailing.display_name,
                "mailing_id": mailing.id,
                "campaign": common.name(mailing.campaign_id),
                "sent_date": _day(env, mailing.sent_date),
                **_figures(per_mailing[mailing]),
            }
            for mailing in mailings[:limit]
        ],
        "campaigns": [
            {"campaign": common.name(campaign, "No campaign"), **_campaign_figures(per_campaign[campaign])}
            for campaign in campaigns[:limit]
        ],
        "truncated": len(mailings) > limit or len(campaigns) > limit,
    }


def _line():
    return defaultdict(int)


def _add(line, status, count, clicked, sent):
    # The status "sent" means delivered; the traces with a sent time are counted as "sent_at".
    line[status] += count
    line["clicked"] += clicked
    line["sent_at"] += sent


def _figures(line):
    """Odoo's mailing statistics (``mailing.mailing._compute_statistics``) of summed trace counts:
    ``line`` maps each trace status to its count, "sent_at" to the traces with a sent time and
    "clicked" to the traces with a click."""
    recipients = sum(line[status] for status in STATUSES)
    canceled, bounced, failed = line["cancel"], line["bounce"], line["error"]
    delivered = line["sent"] + line["open"] + line["reply"]
    opened = line["open"] + line["reply"]
    not_canceled = recipients - canceled
    reached = not_canceled - bounced - failed
    return {
        "recipients": recipients,
        "sent": line["sent_at"],
        "delivered": delivered,
        "opened": opened,
        "clicked": line["clicked"],
        "replied": line["reply"],
        "bounced": bounced,
        "failed": failed,
        "canceled": canceled,
        "delivered_pct": common.pct(delivered, not_canceled),
        "opened_pct": common.pct(opened, reached),
        "clicked_pct": common.pct(line["clicked"], reached),
        "replied_pct": common.pct(line["reply"], reached),
        "bounced_pct": common.pct(bounced, not_canceled - failed),
    }


def _campaign_figures(line):
    """Odoo's campaign statistics (``utm.campaign._compute_statistics`` of mass_mailing) of summed
    trace counts: every rate over the recipients not canceled, received = sent minus bounced,
    rounded as Odoo's ratio fields."""
    figures = _figures(line)
    del figures["delivered_pct"], figures["opened_pct"], figures["clicked_pct"]
    del figures["replied_pct"], figures["bounced_pct"]
    received = figures["sent"] - figures["bounced"]
    not_canceled = figures["recipients"] - figures["canceled"]

    def ratio(part):
        return float_round(100.0 * part / not_canceled, precision_digits=2) if not_canceled else None

    return {
        **figures,
        "received": received,
        "received_pct": ratio(received),
        "opened_pct": ratio(figures["opened"]),
        "clicked_pct": ratio(figures["clicked"]),
        "replied_pct": ratio(figures["replied"]),
        "bounced_pct": ratio(figures["bounced"]),
    }


def _day(env, when):
    """A UTC datetime as a day of the user's calendar."""
    return str(fields.Datetime.context_timestamp(env.user, when).date()) if when else None
