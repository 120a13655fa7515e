"""What the sales and marketing tools share: the session's company, periods in the user's time
zone, resolving the names the model gives (stage, team, salesperson, customer, UTM records) and
rounding money in the company currency.

Every tool runs in the session user's environment (``ctx.env``, never sudo): Odoo's access rights
and record rules decide what a user may see (a salesperson with "own documents only" sees their
own leads and orders), and an AccessError becomes a "denied" result. ``ctx.env.company`` is the
session's company and scopes every read, even for users who work in several companies.
"""

import datetime as dt
from collections import namedtuple

import pytz

from odoo import fields
from odoo.fields import Domain
from odoo.tools import SQL
from odoo.tools.sql import escape_psql

from odoo.addons.ai_core.ai_engine import ToolInputError

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
# How many candidates an "ambiguous name" error lists.
CANDIDATES = 5

REF = {"type": ["integer", "string"], "minLength": 1}


def ref(description):
    return {**REF, "description": description}


DATE_FROM = {"type": "string", "format": "date", "description": "First day of the period (YYYY-MM-DD)."}
DATE_TO = {"type": "string", "format": "date", "description": "Last day of the period, included."}
TEAM = ref("Sales team: id or name.")
SALESPERSON = ref("Salesperson: user id, login or name.")
CUSTOMER = ref("Customer: partner id or name (its company when it is a contact of one).")


def limit_schema(default=DEFAULT_LIMIT, maximum=MAX_LIMIT, what="rows"):
    return {
        "type": "integer",
        "minimum": 1,
        "maximum": maximum,
        "default": default,
        "description": f"How many {what} to return (1 to {maximum}).",
    }


# === ENVIRONMENT === #


def tool_env(ctx):
    """The session user's environment with their time zone in the context, so that grouping a
    datetime by month and the periods' day boundaries follow the user's calendar."""
    env = ctx.env
    tz = env.user.tz if env.user.tz in pytz.all_timezones_set else "UTC"
    return env(context=dict(env.context, tz=tz))


def check_read(env, *models):
    """Refuse at once when the user may not read one of ``models`` (an AccessError, which the
    tool context turns into a "denied" result), before any other work."""
    for model in models:
        env[model].check_access("read")


def lead_company_domain(env):
    """Leads of the session's company, and leads without a company: Odoo shows those in every
    company (its record rule is ``company_id in company_ids + [False]``)."""
    return Domain("company_id", "in", [env.company.id, False])


def currency(env):
    return env.company.currency_id


def money(currency_record, amount):
    # Adding 0.0 turns -0.0 into 0.0, which a model would read as a sign.
    return currency_record.round(amount or 0.0) + 0.0


def pct(part, whole, digits=1):
    """``part`` as a percentage of ``whole``; None when ``whole`` is zero (no meaningful rate)."""
    if not whole:
        return None
    return round(100.0 * part / whole, digits) + 0.0


def name(record, empty=None):
    return record.display_name if record else empty


# === PERIODS === #

Period = namedtuple("Period", "date_from date_to start end")
Period.__doc__ = """Days ``date_from`` to ``date_to`` (both included) of the user's calendar, and the
UTC datetimes ``start`` (included) and ``end`` (excluded) that bound them in the database."""


def today(env):
    return fields.Date.context_today(env.user)


def parse_date(args, key):
    value = args.get(key)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ToolInputError(f"{key} {value!r} is not a date (YYYY-MM-DD)") from None


def make_period(env, date_from, date_to):
    if date_from > date_to:
        raise ToolInputError(
            f"the period is reversed: date_from {date_from} is after date_to {date_to}; "
            "give the earlier date as date_from"
        )
    tz = pytz.timezone(env.context.get("tz") or "UTC")

    def utc(day):
        return tz.localize(dt.datetime.combine(day, dt.time.min)).astimezone(pytz.utc).replace(tzinfo=None)

    return Period(date_from, date_to, utc(date_from), utc(date_to + dt.timedelta(days=1)))


def period(env, args, *, default_days):
    """The period of ``args`` (``date_from``, ``date_to``); by default the ``default_days`` days
    ending today (in the user's time zone).

    Raises:
        ToolInputError: A date that is not one, or a reversed period.
    """
    date_to = parse_date(args, "date_to") or today(env)
    date_from = parse_date(args, "date_from") or date_to - dt.timedelta(days=default_days - 1)
    return make_period(env, date_from, date_to)


def optional_period(env, args):
    """The period of ``args`` when it gives a date, else None (no filter)."""
    if args.get("date_from") is None and args.get("date_to") is None:
        return None
    date_to = parse_date(args, "date_to") or today(env)
    date_from = parse_date(args, "date_from") or dt.date(1970, 1, 1)
    return make_period(env, date_from, date_to)


def previous_period(env, current):
    """The period of the same number of days just before ``current``."""
    days = (current.date_to - current.date_from).days + 1
    date_to = current.date_from - dt.timedelta(days=1)
    return make_period(env, date_to - dt.timedelta(days=days - 1), date_to)


def period_info(current):
    return {"from": str(current.date_from), "to": str(current.date_to)}


def datetime_domain(fname, current):
    return Domain(fname, ">=", current.start) & Domain(fname, "<", current.end)


def datetime_sql(column, current):
    return SQL("%s >= %s AND %s < %s", column, current.start, column, current.end)


# === RESOLVING NAMES === #


def _ambiguous(label, text, records):
    names = "; ".join(f"{record.display_name} (id {record.id})" for record in records[:CANDIDATES])
    more = ", ..." if len(records) > CANDIDATES else ""
    return ToolInputError(f"{label} {text!r} is ambiguous: {names}{more}. Give the id or the exact name.")


def pick(env, model, value, label, base_domain, exact_fields, fuzzy_field, known=None):
    """One record of ``model`` from an id or a name among the ones matching ``base_domain``.

    Exact (case-insensitive) matches on ``exact_fields`` win; otherwise an ``ilike`` on
    ``fuzzy_field`` must match exactly one record. ``known`` lists the valid choices in the
    error when nothing matches (for small sets such as stages).
    """
    Model = env[model].with_context(active_test=False)
    if isinstance(value, int):
        record = Model.search(base_domain & Domain("id", "=", value), limit=1)
        if not record:
            raise ToolInputError(f"unknown {label} id {value} (or you may not read it)")
        return record
    text = value.strip()
    if not text:
        raise ToolInputError(f"empty {label}")
    for fname in exact_fields:
        records = Model.search(base_domain & Domain(fname, "=ilike", escape_psql(text)), limit=CANDIDATES + 1)
        if len(records) == 1:
            return records
        if records:
            raise _ambiguous(label, text, records)
    records = Model.search(base_domain & Domain(fuzzy_field, "ilike", text), limit=CANDIDATES + 1)
    if len(records) == 1:
        return records
    if records:
        raise _ambiguous(label, text, records)
    hint = ""
    if known is not None:
        choices = Model.search(base_domain, limit=20)
        hint = "; known: " + ", ".join(choices.mapped("display_name"))
    raise ToolInputError(f"unknown {label} {text!r}{hint}")


def resolve_stage(env, value):
    return pick(env, "crm.stage", value, "stage", Domain.TRUE, ["name"], "name", known=True)


def resolve_team(env, value):
    return pick(
        env,
        "crm.team",
        value,
        "sales team",
        Domain("company_id", "in", [env.company.id, False]),
        ["name"],
        "name",
        known=True,
    )


def resolve_salesperson(env, value):
    return pick(
        env,
        "res.users",
        value,
        "salesperson",
        Domain("share", "=", False) & Domain("company_ids", "in", env.company.id),
        ["login", "name"],
        "name",
    )


def resolve_customer(env, value):
    """The commercial entity (the company, for a contact of one) ``value`` names."""
    partner = pick(
        env,
        "res.partner",
        value,
        "customer",
        Domain("company_id", "in", [env.company.id, False]),
        ["name", "ref"],
        "complete_name",
    )
    return partner.commercial_partner_id


def resolve_utm(env, model, value, label):
    return pick(env, model, value, label, Domain.TRUE, ["name"], "name", known=True)
