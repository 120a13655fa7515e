"""What the sales and marketing tools share: the session's company, periods in the user's time
zone, the references to records the model may give (stage, team, salesperson, customer, UTM
records) and the filters they make. Record lookup, filters, money and the rights check are ai_core's
toolkit.

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

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import Filter, RecordRef, Requires, apply_filters, toolkit

DEFAULT_LIMIT = 10
MAX_LIMIT = 100

ref = toolkit.ref_schema
money = toolkit.money
pct = toolkit.pct
name = toolkit.name

DATE_FROM = {**toolkit.DATE, "description": "First day of the period (YYYY-MM-DD)."}
DATE_TO = {**toolkit.DATE, "description": "Last day of the period, included."}
TEAM = ref("Sales team: id or name.")
SALESPERSON = ref("Salesperson: user id, login or name.")
CUSTOMER = ref("Customer: partner id or name (its company when it is a contact of one).")


def limit_schema(default=DEFAULT_LIMIT, maximum=MAX_LIMIT, what="rows"):
    return toolkit.limit_schema(default, maximum, what)


def period_schema(what=None):
    """The ``date_from`` and ``date_to`` arguments of a period; ``what`` falls in it ("Leads
    created") when given."""
    if not what:
        return {"date_from": DATE_FROM, "date_to": DATE_TO}
    return {
        "date_from": {**DATE_FROM, "description": f"{what} on or after this day."},
        "date_to": {**DATE_TO, "description": f"{what} on or before this day."},
    }


# Most tools read leads and opportunities: Odoo's CRM rights decide who may.
READ_LEADS = Requires(read=("crm.lead",))
# Rows per breakdown (per stage, team, source...) of the tools that break the leads down, CRM
# readers' tools.
BREAKDOWN_ROWS = 20
breakdown_tool = toolkit.tool_family(
    requires=READ_LEADS, limit=limit_schema(BREAKDOWN_ROWS, MAX_LIMIT, "rows per breakdown")
)


def breakdown_limit(args):
    return toolkit.row_limit(args, BREAKDOWN_ROWS, MAX_LIMIT)


# === ENVIRONMENT === #


def tool_env(ctx):
    """The session user's environment with their time zone in the context, so that grouping a
    datetime by month and the periods' day boundaries follow the user's calendar."""
    env = ctx.env
    tz = env.user.tz if env.user.tz in pytz.all_timezones_set else "UTC"
    return env(context=dict(env.context, tz=tz))


def company_or_shared(env):
    """Records of the session's company, and records without a company: Odoo shows those in every
    company (e.g. the leads' record rule is ``company_id in company_ids + [False]``)."""
    return Domain("company_id", "in", [env.company.id, False])


lead_company_domain = company_or_shared


def currency(env):
    return env.company.currency_id


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


# === RECORD REFERENCES AND FILTERS === #


STAGE_REF = RecordRef("crm.stage", "stage", active_test=False, list_known=True)
TEAM_REF = RecordRef("crm.team", "sales team", domain=company_or_shared, active_test=False, list_known=True)
SALESPERSON_REF = RecordRef(
    "res.users",
    "salesperson",
    exact=("login", "name"),
    domain=lambda env: Domain("share", "=", False) & Domain("company_ids", "in", env.company.id),
    active_test=False,
)
# The commercial entity (the company, for a contact of one) is the customer: see resolve_customer.
CUSTOMER_REF = toolkit.partner_ref("customer", domain=company_or_shared, active_test=False)
UTM = {
    key: RecordRef(model, key, active_test=False, list_known=True)
    for key, model in (("source", "utm.source"), ("medium", "utm.medium"), ("campaign", "utm.campaign"))
}
MAILING_REF = RecordRef("mailing.mailing", "mailing", exact=("subject",), fuzzy="subject", active_test=False)

TEAM_FILTER = Filter("team", TEAM_REF, "team_id")
SALESPERSON_FILTER = Filter("salesperson", SALESPERSON_REF, "user_id")
STAGE_FILTER = Filter("stage", STAGE_REF, "stage_id")
TEAM_AND_SALESPERSON = (TEAM_FILTER, SALESPERSON_FILTER)


def utm_filter(key):
    return Filter(key, UTM[key], f"{key}_id")


def resolve_customer(env, value):
    """The commercial entity (the company, for a contact of one) ``value`` names."""
    return CUSTOMER_REF.resolve(env, value).commercial_partner_id


# === SALES ORDERS === #

READ_ORDERS = Requires(read=("sale.order",))
ORDER_FILTERS = TEAM_AND_SALESPERSON


def orders_domain(env, args, states):
    """Orders of the session's company in ``states``, filtered by team and salesperson; and the
    filters as resolved."""
    domain = Domain("company_id", "=", env.company.id) & Domain("state", "in", list(states))
    domain, filters, _records = apply_filters(env, args, ORDER_FILTERS, domain)
    return domain, filters


def in_company_currency(amount, rate):
    """An order's ``amount`` (SQL) in the company currency at the order's own rate, as Odoo's
    sales analysis converts it (``sale.report``: a rate of 0 or none counts as 1)."""
    return SQL("%s / COALESCE(NULLIF(%s, 0), 1.0)", amount, rate)


def day(env, when):
    """A UTC datetime as a day of the user's calendar."""
    return str(fields.Datetime.context_timestamp(env.user, when).date()) if when else None


def join_orders(env, line_query, order_domain, *fnames):
    """Join to ``line_query`` (a query of sale.order.line) the orders of ``order_domain`` the user
    may read, with their ``fnames``: only the lines of those orders remain, and both models'
    access rules apply. One scan of the orders: the ORM's query of them (record rules included)
    is the joined table. Returns the join's alias."""
    Order, Line = env["sale.order"], env["sale.order.line"]
    orders = Order._search(order_domain)
    orders.order = None
    selected = orders.select(
        *(
            SQL("%s AS %s", Order._field_to_sql(Order._table, fname, orders), SQL.identifier(fname))
            for fname in ("id", *fnames)
        )
    )
    alias = line_query.make_alias(Line._table, "aia_order")
    line_query.add_join(
        "JOIN",
        alias,
        SQL("(%s)", selected),
        SQL("%s = %s", Line._field_to_sql(Line._table, "order_id", line_query), SQL.identifier(alias, "id")),
    )
    return alias
