"""Create a quotation: a draft sales order of the session's company, as a salesperson makes one in
Sales with "New". The tool gives the customer, the products and quantities (and, when the user says
so, a unit price or a discount); everything else is Odoo's: the customer's pricelist, the unit
prices it gives, the taxes of the products and the fiscal position, the totals. Nothing is
confirmed or sent.
"""

from odoo import Command, fields
from odoo.fields import Domain

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import RecordRef, Requires, tool, toolkit

from . import common

NAME = "sales.create_quotation"
MAX_LINES = 50
MAX_QUANTITY = 1_000_000

# Odoo's Sales user rights ("own documents only" and up): whoever else asks is refused before
# anything is read.
SALESMAN = Requires(groups=("sales_team.group_sale_salesman",))

PRODUCT_REF = RecordRef(
    "product.product",
    "product",
    exact=("default_code", "name"),
    domain=lambda env: common.company_or_shared(env) & Domain("sale_ok", "=", True),
    in_company=True,
)
OPPORTUNITY_REF = RecordRef("crm.lead", "opportunity", domain=common.lead_company_domain, in_company=True)

LINE_SCHEMA = toolkit.object_schema(
    {
        "product": common.ref("Product: id, internal reference (default code) or name."),
        "quantity": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": MAX_QUANTITY,
            "description": "Quantity, in the product's sales unit.",
        },
        "price_unit": {
            "type": "number",
            "minimum": 0,
            "description": "Unit price, only when the user names one; else Odoo's price for the customer.",
        },
        "discount": {
            "type": "number",
            "minimum": 0,
            "maximum": 100,
            "description": "Discount in percent, only when the user names one.",
        },
    },
    required=("product", "quantity"),
)


def values(env, args):
    """The create values of the quotation the call makes (nothing written), or the input error
    the model is told."""
    customer = common.resolve_customer(env, args["customer"])
    lines = []
    for line in args["lines"]:
        product = PRODUCT_REF.resolve(env, line["product"])
        line_values = {"product_id": product.id, "product_uom_qty": line["quantity"]}
        # Only what the user named: Odoo computes the rest (and keeps a given price as given).
        for key in ("price_unit", "discount"):
            if line.get(key) is not None:
                line_values[key] = line[key]
        lines.append(line_values)
    order = {
        "partner_id": customer.id,
        "company_id": env.company.id,
        "order_line": [Command.create(line) for line in lines],
    }
    if args.get("opportunity") is not None:
        opportunity = OPPORTUNITY_REF.resolve(env, args["opportunity"])
        order["opportunity_id"] = opportunity.id
    if args.get("validity_date") is not None:
        validity = fields.Date.to_date(args["validity_date"])
        if validity < common.today(env):
            raise ToolInputError(f"validity_date {validity} is in the past")
        order["validity_date"] = validity
    return order


def describe(order):
    """The quotation as the user would read it: customer, lines with Odoo's prices, totals."""
    currency = order.currency_id
    return {
        "customer": order.partner_id.display_name,
        "currency": currency.name,
        "pricelist": common.name(order.pricelist_id),
        "opportunity": common.name(order.opportunity_id),
        "validity_date": fields.Date.to_string(order.validity_date) if order.validity_date else None,
        "lines": [
            {
                "product": line.product_id.display_name,
                "quantity": line.product_uom_qty,
                "uom": line.product_uom_id.name,
                "unit_price": line.price_unit,
                "discount_pct": line.discount,
                "subtotal": common.money(currency, line.price_subtotal),
            }
            for line in order.order_line
        ],
        "amount_untaxed": common.money(currency, order.amount_untaxed),
        "amount_tax": common.money(currency, order.amount_tax),
        "amount_total": common.money(currency, order.amount_total),
    }


def _amount(value):
    return f"{value:,.2f}"


def preview(ctx, args):
    """The quotation the call would create, with the prices, subtotals and total Odoo computes
    for it (an order in memory: nothing written)."""
    env = ctx.env
    SALESMAN.check(env, NAME)
    quotation = describe(env["sale.order"].new(values(env, args)))
    currency = quotation["currency"]
    parts = [f"Create a draft quotation in {env.company.name} for {quotation['customer']} (in {currency}):"]
    for line in quotation["lines"]:
        discount = f", discount {line['discount_pct']:g}%" if line["discount_pct"] else ""
        parts.append(
            f"- {line['product']}: {line['quantity']:g} {line['uom']} at {_amount(line['unit_price'])}"
            f"{discount} = {_amount(line['subtotal'])} {currency}"
        )
    parts.append(
        f"Total: {_amount(quotation['amount_total'])} {currency} "
        f"({_amount(quotation['amount_untaxed'])} untaxed, {_amount(quotation['amount_tax'])} taxes)."
    )
    if quotation["opportunity"]:
        parts.append(f"Opportunity: {quotation['opportunity']}.")
    if quotation["validity_date"]:
        parts.append(f"Valid until {quotation['validity_date']}.")
    return "\n".join(parts)


@tool(
    NAME,
    display_name="CreateQuotation",
    description="Create a draft quotation (a sales order not confirmed, not sent) in the session's "
    "company for a customer, with the products and quantities the user describes. Odoo prices it: the "
    "customer's pricelist gives the unit prices, the products' taxes and the customer's fiscal position "
    "the taxes; give price_unit or discount on a line only when the user names them. Optionally linked "
    "to an opportunity and with a validity date. Returns the quotation (id, reference, customer, "
    "currency, lines with unit prices and subtotals, untaxed, tax and total amounts).",
    input_schema=toolkit.object_schema(
        {
            "customer": common.CUSTOMER,
            "lines": {"type": "array", "minItems": 1, "maxItems": MAX_LINES, "items": LINE_SCHEMA},
            "opportunity": common.ref("Opportunity (CRM) the quotation is for: id or name."),
            "validity_date": {
                **toolkit.DATE,
                "description": "Expiration date of the quotation (YYYY-MM-DD).",
            },
        },
        required=("customer", "lines"),
    ),
    requires=SALESMAN,
    mode="write",
    preview=preview,
)
def create_quotation(ctx, args):
    env = ctx.env
    order = env["sale.order"].create(values(env, args))
    return {
        "id": order.id,
        "reference": order.name,
        "state": order.state,
        "company": order.company_id.name,
        **describe(order),
    }
