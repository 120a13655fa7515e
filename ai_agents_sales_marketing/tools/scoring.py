"""GetLeadScoring: the open leads most worth a salesperson's time, with the reasons.

score = 0.5 x predictive + 0.2 x recency + 0.15 x engagement + 0.15 x completeness, each factor
from 0 to 100:

- predictive: Odoo's predictive lead scoring probability (``automated_probability``);
- recency: 100 on the day of the lead's last interaction, falling linearly to 0 at 60 days; the
  last interaction is the latest of an email (received or sent), a logged note, a completed
  activity and a stage change, or the lead's creation;
- engagement: 25 points per email received from the customer and per meeting of the lead (from
  90 days ago on, upcoming meetings included; every meeting the lead's Meetings button counts,
  other people's private ones too), at most 100;
- completeness: the share of six items the lead has: a contact (partner or name), a valid email,
  a phone, a company name, an expected revenue, an expected closing date.

Each factor is shown with its value (to 0.1), its weight and its points: the value shown times the
weight, to 0.01; the score is the sum of the points shown.

Leads are read by decreasing predictive probability, in batches; reading stops when even a perfect
score on the other factors (50 points) cannot reach the top N.
"""

import datetime as dt

from odoo.fields import Domain
from odoo.tools import SQL

from odoo.addons.ai_core.tools import apply_filters, tool, toolkit

from . import common

WEIGHTS = {"predictive_probability": 0.5, "recency": 0.2, "engagement": 0.15, "completeness": 0.15}
FORMULA = (
    "score = 0.5 x predictive_probability + 0.2 x recency + 0.15 x engagement + 0.15 x completeness "
    "(each 0-100); recency = 100 x (1 - days since last interaction / 60), at least 0; engagement = "
    "25 x (emails received + meetings, last 90 days and upcoming), at most 100; completeness = share of "
    "contact, valid email, phone, company name, expected revenue, expected closing date"
)
RECENCY_DAYS = 60
ENGAGEMENT_DAYS = 90
POINTS_PER_INTERACTION = 25
# Messages that are interactions with the customer (tracking-only notifications are not).
INTERACTION_TYPES = ("email", "email_outgoing", "comment")
COMPLETENESS = ("contact", "email", "phone", "company", "expected_revenue", "expected_closing")
BATCH = 500
DEFAULT_LEADS = 10
MAX_LEADS = 50
LEAD_FIELDS = [
    "name",
    "type",
    "stage_id",
    "user_id",
    "team_id",
    "partner_id",
    "contact_name",
    "partner_name",
    "email_from",
    "email_state",
    "phone",
    "expected_revenue",
    "date_deadline",
    "probability",
    "automated_probability",
    "create_date",
    "date_last_stage_update",
]


@tool(
    "marketing.get_lead_scoring",
    display_name="GetLeadScoring",
    record_keys={"lead_id": "crm.lead"},
    description="Top N open leads and opportunities of the session's company by a transparent score: "
    "Odoo's predictive probability (weight 0.5) plus activity recency (0.2), engagement (0.15: emails "
    "received, meetings) and completeness (0.15: contact, email, phone, company, revenue, closing date). "
    "Each lead comes with every factor's value, weight and points. Filters: type (lead or "
    "opportunity), team, salesperson.",
    input_schema=toolkit.object_schema(
        {
            "type": {"enum": ["lead", "opportunity"], "description": "Only leads, or only opportunities."},
            "team": common.TEAM,
            "salesperson": common.SALESPERSON,
            "limit": common.limit_schema(DEFAULT_LEADS, MAX_LEADS, "leads"),
        },
    ),
    requires=common.READ_LEADS,
)
def get_lead_scoring(ctx, args):
    env = common.tool_env(ctx)
    domain = common.lead_company_domain(env) & Domain("won_status", "=", "pending")
    filters = {}
    if args.get("type"):
        domain &= Domain("type", "=", args["type"])
        filters["type"] = args["type"]
    domain, echo, _records = apply_filters(env, args, common.TEAM_AND_SALESPERSON, domain)
    filters.update(echo)
    limit = toolkit.row_limit(args, DEFAULT_LEADS, MAX_LEADS)
    now = env.cr.now()
    Lead = env["crm.lead"]
    best, offset, scanned = [], 0, 0
    while True:
        batch = Lead.search_fetch(
            domain, LEAD_FIELDS, order="automated_probability desc, id desc", offset=offset, limit=BATCH
        )
        if not batch:
            break
        ceiling = WEIGHTS["predictive_probability"] * batch[0].automated_probability + 100 * (
            1 - WEIGHTS["predictive_probability"]
        )
        if len(best) >= limit and ceiling < best[limit - 1]["score"]:
            break
        scanned += len(batch)
        best = sorted(best + _score(env, batch, now), key=_rank)[:limit]
        offset += BATCH
    return {
        "company": env.company.name,
        "currency": common.currency(env).name,
        "filters": filters,
        "formula": FORMULA,
        "leads": best,
        "leads_scored": scanned,
        "open_leads": Lead.search_count(domain),
    }


def _rank(row):
    return (-row["score"], -row["factors"]["predictive_probability"]["value"], -row["lead_id"])


def _score(env, leads, now):
    last_message, emails, meetings = _activity(env, leads, now)
    currency = common.currency(env)
    rows = []
    for lead in leads:
        last = max(filter(None, (lead.date_last_stage_update, lead.create_date, last_message.get(lead.id))))
        days = max((now - last).total_seconds() / 86400.0, 0.0)
        received, met = emails.get(lead.id, 0), meetings.get(lead.id, 0)
        missing = _missing(lead)
        values = {
            "predictive_probability": lead.automated_probability,
            "recency": max(0.0, 100.0 * (1 - days / RECENCY_DAYS)),
            "engagement": min(100.0, POINTS_PER_INTERACTION * (received + met)),
            "completeness": 100.0 * (len(COMPLETENESS) - len(missing)) / len(COMPLETENESS),
        }
        # The points follow from the value shown (rounded first), so that value x weight is the
        # points shown, and the score is the sum of the points shown.
        factors = {}
        for key, value in values.items():
            shown = round(value, 1) + 0.0
            factors[key] = {"value": shown, "weight": WEIGHTS[key], "points": round(shown * WEIGHTS[key], 2)}
        factors["recency"]["days_since_last_interaction"] = round(days, 1) + 0.0
        factors["engagement"].update(emails_received=received, meetings=met)
        factors["completeness"]["missing"] = missing
        rows.append(
            {
                "lead": lead.name,
                "lead_id": lead.id,
                "type": lead.type,
                "customer": lead.partner_id.display_name or lead.partner_name or lead.contact_name or None,
                "stage": common.name(lead.stage_id),
                "salesperson": common.name(lead.user_id),
                "team": common.name(lead.team_id),
                "expected_revenue": common.money(currency, lead.expected_revenue),
                "probability": lead.probability,
                "score": round(sum(factor["points"] for factor in factors.values()), 2) + 0.0,
                "factors": factors,
            }
        )
    return rows


def _missing(lead):
    partner = lead.partner_id
    has = {
        "contact": bool(partner or lead.contact_name),
        "email": bool(lead.email_from) and lead.email_state != "incorrect",
        "phone": bool(lead.phone),
        "company": bool(lead.partner_name or partner.commercial_partner_id.is_company),
        "expected_revenue": lead.expected_revenue > 0,
        "expected_closing": bool(lead.date_deadline),
    }
    return [item for item in COMPLETENESS if not has[item]]


def _activity(env, leads, now):
    """Per lead id: the date of the last interaction message, the emails received and the
    meetings of the engagement window (grouped reads, the user's access to messages and events).

    Meetings are counted as the lead's *Meetings* button counts them (``crm.lead``'s
    ``_compute_meeting_display`` groups every event of the lead, private ones included): calendar's
    ``_read_group`` would drop, for a group by the lead, the private events of other organisers and
    the events of organisers without a public calendar. So the events are the ones the user's
    access rules select (``_search``) and only their number per lead is read, no field of theirs."""
    since = now - dt.timedelta(days=ENGAGEMENT_DAYS)
    Message = env["mail.message"]
    on_leads = Domain("model", "=", "crm.lead") & Domain("res_id", "in", leads.ids)
    interactions = Domain("message_type", "in", INTERACTION_TYPES) | Domain(
        "mail_activity_type_id", "!=", False
    )
    last_message = dict(Message._read_group(on_leads & interactions, ["res_id"], ["date:max"]))
    received = on_leads & Domain("message_type", "=", "email") & Domain("date", ">=", since)
    emails = dict(Message._read_group(received, ["res_id"], ["__count"]))
    Event = env["calendar.event"]
    query = Event._search(Domain("opportunity_id", "in", leads.ids) & Domain("start", ">=", since))
    lead_id = Event._field_to_sql(Event._table, "opportunity_id", query)
    query.groupby = lead_id
    meetings = dict(env.execute_query(query.select(lead_id, SQL("COUNT(*)"))))
    return last_message, emails, meetings
