"""Draft RFQs for the reorder alerts, as Odoo's Replenishment would make them with its buy rule
(purchase_stock ``stock.rule._run_buy``): the same rules, quantities, vendors, purchase units and
prices, one RFQ per vendor and receipt operation.

Unlike Odoo's "Order" button, which creates its RFQs as the superuser (so that a warehouse clerk
without Purchase rights may replenish), the tool creates them as the session's user: an agent may
not order for someone who could not order in Purchase.
"""

from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.fields import Domain

from odoo.addons.ai_agents_warehouse.tools import common
from odoo.addons.ai_core.tools import Requires, apply_filters, tool, toolkit

NAME = "warehouse.create_rfqs_for_reorder_alerts"

# RFQs Odoo counts as quantities in progress for a reordering rule (purchase_stock's
# product._get_lines_domain): once one carries a rule's line, the rule is covered.
OPEN_RFQ_STATES = ("draft", "sent", "to approve")

# Inventory to see the alerts, Purchase to order: the tool refuses anyone else before reading.
BUYER = Requires(groups=("stock.group_stock_user", "purchase.group_purchase_user"))

FILTERS = (common.warehouse_filter("warehouse_id"), common.product_filter())


def plan(env, args):
    """What the call would create, without writing anything: the reordering rules of the
    session's company that Odoo's Replenishment would order now, grouped into RFQs.

    Returns a dict: ``filters`` (echo), ``orders`` (a list of (create values of the RFQ, list of
    (rule, create values of its line)), ``covered`` (rules below their minimum whose quantity is
    already on open RFQs) and ``skipped`` (rules that cannot be bought, with the reason).
    """
    company = env.company
    today = fields.Date.context_today(env.user)
    # The reorder alerts' selection: rules below their minimum, snoozed ones left out.
    domain = Domain("company_id", "=", company.id) & (
        Domain("snoozed_until", "=", False) | Domain("snoozed_until", "<=", today)
    )
    domain, filters, _records = apply_filters(env, args, FILTERS, domain)
    orderpoints = env["stock.warehouse.orderpoint"].search(domain, order="id")
    below = orderpoints.filtered(lambda op: op.product_uom.compare(op.qty_forecast, op.product_min_qty) < 0)
    in_progress = below._quantity_in_progress()
    on_rfqs = _open_rfqs(env, below)

    grouped = defaultdict(list)
    covered, skipped = [], []
    for orderpoint in below:
        # Odoo's quantity to order: the manual one until an RFQ was made for the rule (its "Order"
        # button then clears it), else its own computation, which deducts what open RFQs bring.
        # Together they make a second call with the same alerts create nothing twice.
        manual = orderpoint.qty_to_order_manual if not on_rfqs[orderpoint.id] else 0.0
        quantity = manual or orderpoint._get_qty_to_order(qty_in_progress_by_orderpoint=in_progress)
        if orderpoint.product_uom.compare(quantity, 0.0) <= 0:
            covered.append(_rule(orderpoint, rfqs=on_rfqs[orderpoint.id].mapped("name")))
            continue
        rules = orderpoint.rule_ids
        if rules and "buy" not in rules.mapped("action"):
            route = orderpoint.effective_route_id.name
            skipped.append(_rule(orderpoint, reason=f"replenished by the route {route!r}, not bought"))
            continue
        # The procurement Odoo's scheduler would run for the rule (_procure_orderpoint_confirm).
        date = orderpoint._get_orderpoint_procurement_date()
        horizon = orderpoint.get_horizon_days()
        if horizon:
            date -= relativedelta(days=int(horizon))
        values = orderpoint._prepare_procurement_values(date=date)
        supplier = env["stock.rule"]._get_matching_supplier(
            orderpoint.product_id, quantity, orderpoint.product_uom, company, values
        )
        if not supplier:
            skipped.append(_rule(orderpoint, reason="no vendor on the product for this company"))
            continue
        buy = rules.filtered(lambda rule: rule.action == "buy")[:1]
        values.update(supplier=supplier, propagate_cancel=buy.propagate_cancel)
        partner = supplier.partner_id
        currency = (
            supplier.currency_id
            or partner.with_company(company).property_purchase_currency_id
            or company.currency_id
        )
        # One RFQ per vendor, receipt operation and currency, as the buy rule groups them.
        picking_type = buy.picking_type_id or orderpoint.warehouse_id.in_type_id
        grouped[partner, picking_type, currency].append((orderpoint, quantity, values))

    orders = [
        _order(env, partner, picking_type, currency, items)
        for (partner, picking_type, currency), items in grouped.items()
    ]
    return {"filters": filters, "orders": orders, "covered": covered, "skipped": skipped}


def _open_rfqs(env, orderpoints):
    """{rule id: the open RFQs with a line for it}."""
    found = defaultdict(lambda: env["purchase.order"])
    lines = env["purchase.order.line"].search(
        Domain("orderpoint_id", "in", orderpoints.ids) & Domain("order_id.state", "in", OPEN_RFQ_STATES)
    )
    for line in lines:
        found[line.orderpoint_id.id] |= line.order_id
    return found


def _order(env, partner, picking_type, currency, items):
    """(create values of an RFQ, [(rule, create values of its line)]) for ``items``, the (rule,
    quantity, procurement values) of one vendor, as stock.rule._prepare_purchase_order and
    purchase.order.line._prepare_purchase_order_line_from_procurement make them."""
    company = env.company
    fiscal_position = env["account.fiscal.position"].with_company(company)._get_fiscal_position(partner)
    values = {
        "partner_id": partner.id,
        # Odoo's buyer of the vendor; else whoever asked, not nobody.
        "user_id": partner.buyer_id.id or env.uid,
        "picking_type_id": picking_type.id,
        "company_id": company.id,
        "currency_id": currency.id,
        "origin": ", ".join(orderpoint.name for orderpoint, _quantity, _values in items),
        "payment_term_id": partner.with_company(company).property_supplier_payment_term_id.id,
        "date_order": min(
            procurement.get("date_order")
            or fields.Datetime.from_string(procurement["date_planned"])
            - relativedelta(days=int(procurement["supplier"].delay))
            for _orderpoint, _quantity, procurement in items
        ),
        "fiscal_position_id": fiscal_position.id,
    }
    # An RFQ in memory (nothing written) for the line helpers, which read its dates and taxes.
    draft = env["purchase.order"].new(values)
    Line = env["purchase.order.line"]
    lines = []
    for orderpoint, quantity, procurement in items:
        line = Line._prepare_purchase_order_line_from_procurement(
            orderpoint.product_id,
            quantity,
            orderpoint.product_uom,
            orderpoint.location_id,
            orderpoint.name,
            orderpoint.name,
            company,
            procurement,
            draft,
        )
        line.pop("order_id")
        lines.append((orderpoint, line))
    values["date_order"] = draft.date_order  # a vendor's weekly ordering day may shift it
    return values, lines


def _rule(orderpoint, **extra):
    return {
        "orderpoint": orderpoint.name,
        "orderpoint_id": orderpoint.id,
        "product": orderpoint.product_id.display_name,
        "location": orderpoint.location_id.display_name,
        **extra,
    }


def _lines(env, lines):
    rnd = common.quantity_rounder(env)
    uoms = env["uom.uom"].browse([line["product_uom_id"] for _orderpoint, line in lines])
    return [
        {
            "product": orderpoint.product_id.display_name,
            "quantity": rnd(line["product_qty"]),
            "uom": uom.name,
            "unit_price": line["price_unit"],
            "orderpoint": orderpoint.name,
            "location": orderpoint.location_id.display_name,
        }
        for (orderpoint, line), uom in zip(lines, uoms, strict=True)
    ]


def preview(ctx, args):
    """The RFQs the call would create, per vendor with products and quantities, and the rules it
    leaves alone; computed exactly as the call will, nothing written."""
    env = ctx.env
    BUYER.check(env, NAME)
    planned = plan(env, args)
    Partner, PickingType, Currency = env["res.partner"], env["stock.picking.type"], env["res.currency"]
    parts = []
    if planned["orders"]:
        parts.append(f"Create {len(planned['orders'])} draft RFQ(s) in {env.company.name}:")
    else:
        parts.append(f"Create no RFQ in {env.company.name}: nothing to order.")
    for values, lines in planned["orders"]:
        vendor = Partner.browse(values["partner_id"]).display_name
        receipt = PickingType.browse(values["picking_type_id"]).display_name
        currency = Currency.browse(values["currency_id"]).name
        parts.append(f"- RFQ to {vendor} (receipt {receipt}, in {currency}, source {values['origin']}):")
        parts.extend(
            f"  - {line['product']}: {line['quantity']:g} {line['uom']} at {line['unit_price']:g} "
            f"(rule {line['orderpoint']}, {line['location']})"
            for line in _lines(env, lines)
        )
    for rule in planned["covered"]:
        rfqs = ", ".join(rule["rfqs"]) or "open RFQs"
        parts.append(
            f"Already ordered: {rule['product']} at {rule['location']} ({rule['orderpoint']}), on {rfqs}."
        )
    for rule in planned["skipped"]:
        parts.append(
            f"Skipped: {rule['product']} at {rule['location']} ({rule['orderpoint']}): {rule['reason']}."
        )
    return "\n".join(parts)


@tool(
    NAME,
    display_name="CreateRFQsForReorderAlerts",
    description="Create draft requests for quotation (RFQs) for the reorder alerts of the session's "
    "company, as Odoo's Replenishment 'Order' does with its buy route: for each reordering rule below "
    "its minimum (snoozed rules left out) it orders Odoo's quantity to order (the manual one if set, "
    "else up to the maximum, less what open RFQs already bring), from the product's vendor Odoo "
    "selects for the company, in the vendor's purchase unit, one draft RFQ per vendor and warehouse "
    "receipt. Products without a vendor, and rules replenished by another route, are skipped and "
    "named; rules already on open RFQs are not ordered again. Nothing is confirmed or sent. "
    "Filters: warehouse, product. Returns the RFQs created (id, reference, vendor, lines), the rules "
    "already ordered and the rules skipped.",
    input_schema=toolkit.object_schema({"warehouse": common.WAREHOUSE, "product": common.PRODUCT}),
    requires=BUYER,
    mode="write",
    preview=preview,
)
def create_rfqs_for_reorder_alerts(ctx, args):
    env = ctx.env
    planned = plan(env, args)
    created = []
    for values, lines in planned["orders"]:
        order = env["purchase.order"].create(
            {**values, "order_line": [Command.create(line) for _orderpoint, line in lines]}
        )
        created.append(
            {
                "id": order.id,
                "reference": order.name,
                "vendor": order.partner_id.display_name,
                "receipt": order.picking_type_id.display_name,
                "currency": order.currency_id.name,
                "state": order.state,
                "amount_untaxed": order.amount_untaxed,
                "lines": _lines(env, lines),
            }
        )
    return {
        "company": env.company.name,
        "filters": planned["filters"],
        "created": created,
        "already_ordered": planned["covered"],
        "skipped": planned["skipped"],
    }
