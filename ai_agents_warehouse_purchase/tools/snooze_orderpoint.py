"""Snooze a reordering rule as Odoo's Replenishment "Snooze" does (stock's stock.orderpoint.snooze
wizard): the rule's ``snoozed_until``, for a day, a week, a month or until a date."""

from odoo import fields
from odoo.fields import Domain
from odoo.tools.date_utils import add

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import RecordRef, Requires, tool, toolkit

NAME = "warehouse.snooze_orderpoint"

# The wizard's predefined durations (stock.orderpoint.snooze.predefined_date).
DURATIONS = {"day": {"days": 1}, "week": {"weeks": 1}, "month": {"months": 1}}
MAX_DAYS = 365

# Odoo lets only Inventory administrators change reordering rules (stock users read them): the
# tool says so before anything is read, rather than failing on the write.
INVENTORY_MANAGER = Requires(groups=("stock.group_stock_manager",))

ORDERPOINT_REF = RecordRef(
    "stock.warehouse.orderpoint",
    "reordering rule",
    exact=("name",),
    fuzzy=None,
    domain=lambda env: Domain("company_id", "=", env.company.id),
    in_company=True,
)


def _change(env, args):
    """(rule, current date, new date) of the call, or the input error the model is told."""
    given = [key for key in ("snooze_for", "days", "until") if args.get(key) is not None]
    if len(given) != 1:
        raise ToolInputError("give exactly one of snooze_for, days or until")
    orderpoint = ORDERPOINT_REF.resolve(env, args["orderpoint"])
    if orderpoint.trigger == "auto":
        # Odoo's own rule (stock.warehouse.orderpoint.write): archive an automatic rule instead.
        raise ToolInputError(
            f"{orderpoint.name} is triggered automatically; Odoo snoozes only manual reordering rules"
        )
    today = fields.Date.context_today(env.user)
    if "snooze_for" in given:
        until = add(today, **DURATIONS[args["snooze_for"]])
    elif "days" in given:
        until = add(today, days=args["days"])
    else:
        until = fields.Date.to_date(args["until"])
        if until <= today:
            raise ToolInputError(f"until must be after today ({today})")
    return orderpoint, orderpoint.snoozed_until, until


def _describe(orderpoint):
    return {
        "id": orderpoint.id,
        "name": orderpoint.name,
        "product": orderpoint.product_id.display_name,
        "location": orderpoint.location_id.display_name,
        "warehouse": orderpoint.warehouse_id.name,
    }


def _date(value):
    return fields.Date.to_string(value) if value else None


def preview(ctx, args):
    """The rule (product, location) and its snooze date before and after; nothing written."""
    env = ctx.env
    INVENTORY_MANAGER.check(env, NAME)
    orderpoint, before, after = _change(env, args)
    return (
        f"Snooze reordering rule {orderpoint.name} ({orderpoint.product_id.display_name} at "
        f"{orderpoint.location_id.display_name}, {env.company.name}): snoozed until "
        f"{_date(before) or 'not snoozed'} -> {_date(after)}."
    )


@tool(
    NAME,
    display_name="SnoozeOrderpoint",
    description="Snooze one reordering rule of the session's company as Odoo's Replenishment 'Snooze' "
    "does: the rule drops out of the reorder alerts (and of RFQs made for them) until the date. Give "
    "the rule (its id or reference, e.g. from CreateRFQsForReorderAlerts or the user) and exactly one "
    "of: snooze_for (Odoo's durations: day, week, month), days, or until (a date after today). Only "
    "manually triggered rules can be snoozed. Returns the rule and its snooze date before and after.",
    input_schema=toolkit.object_schema(
        {
            "orderpoint": toolkit.ref_schema("Reordering rule: id or reference (e.g. 'OP/00003')."),
            "snooze_for": {"enum": list(DURATIONS), "description": "One of Odoo's durations."},
            "days": {"type": "integer", "minimum": 1, "maximum": MAX_DAYS, "description": "Days from today."},
            "until": {**toolkit.DATE, "description": "Snoozed until this date (YYYY-MM-DD)."},
        },
        required=("orderpoint",),
    ),
    requires=INVENTORY_MANAGER,
    mode="write",
    preview=preview,
)
def snooze_orderpoint(ctx, args):
    env = ctx.env
    orderpoint, before, after = _change(env, args)
    orderpoint.write({"snoozed_until": after})
    return {
        "orderpoint": _describe(orderpoint),
        "before": {"snoozed_until": _date(before)},
        "after": {"snoozed_until": _date(orderpoint.snoozed_until)},
    }
