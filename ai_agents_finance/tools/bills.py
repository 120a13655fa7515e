"""DraftVendorBill: a draft vendor bill for a described purchase, as a user would type it in
Odoo's bill form: Odoo picks the purchase journal, the vendor's fiscal position, the products'
vendor taxes (mapped by that position), the accounts, and computes the totals. Never posted.

The preview is the same bill held in memory (``account.move.new``): Odoo's onchange machinery
computes its lines, taxes and totals, and nothing is written.
"""

from odoo import Command
from odoo.fields import Domain

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import RecordRef, tool, toolkit

from . import common
from .reminders import BILLING, amount_text

NAME = "finance.draft_vendor_bill"
MAX_LINES = 50
# A bill of the vendor with the same reference, unless cancelled, is the same bill: a repeated
# call (or one approved twice) does not record it twice. Odoo's own duplicate warning compares the
# same fields (account.move._fetch_duplicate_reference).
LIVE_STATES = ("draft", "posted")
# Accounts Odoo offers on invoice lines (account.move.line's account domain).
NOT_ON_LINES = ("asset_receivable", "liability_payable", "off_balance")


def _company_records(env):
    return Domain("company_id", "in", [False, env.company.id])


VENDOR_REF = toolkit.partner_ref("vendor", domain=_company_records)
PRODUCT_REF = RecordRef(
    "product.product", "product", exact=("default_code", "barcode", "name"), domain=_company_records
)
ACCOUNT_REF = RecordRef(
    "account.account",
    "account",
    exact=("code", "name"),
    domain=lambda env: (
        Domain("company_ids", "in", env.company.id) & Domain("account_type", "not in", NOT_ON_LINES)
    ),
    in_company=True,
)
CURRENCY_REF = RecordRef("res.currency", "currency", exact=("name",), fuzzy=None, active_test=False)

LINE = toolkit.object_schema(
    {
        "description": {"type": "string", "minLength": 1, "maxLength": 500},
        "quantity": {"type": "number", "exclusiveMinimum": 0, "default": 1},
        "unit_price": {
            "type": "number",
            "description": "Price of one unit, tax excluded, in the bill's currency.",
        },
        "product": toolkit.ref_schema("Product: id, internal reference or name (optional)."),
        "account": toolkit.ref_schema("Expense account: id, code or name (default: Odoo's for the product)."),
    },
    required=("description", "unit_price"),
)


def _values(env, args):
    """The bill's create values, or the input error the model is told."""
    vendor = VENDOR_REF.resolve(env, args["vendor"]).commercial_partner_id
    values = {"move_type": "in_invoice", "partner_id": vendor.id, "company_id": env.company.id}
    if args.get("currency") is not None:
        currency = CURRENCY_REF.resolve(env, args["currency"])
        if not currency.active:
            raise ToolInputError(f"currency {currency.name} is not active in this database")
        values["currency_id"] = currency.id
    if args.get("bill_date"):
        values["invoice_date"] = args["bill_date"]
    reference = (args.get("reference") or "").strip()
    if reference:
        values["ref"] = reference
        existing = env["account.move"].search(
            [
                ("company_id", "=", env.company.id),
                ("move_type", "=", "in_invoice"),
                ("commercial_partner_id", "=", vendor.id),
                ("ref", "=", reference),
                ("state", "in", LIVE_STATES),
            ],
            limit=1,
        )
        if existing:
            raise ToolInputError(
                f"{vendor.display_name}'s bill {reference!r} is already recorded: "
                f"{existing.name or 'draft bill'} (id {existing.id}, {existing.state})"
            )
    lines = []
    for line in args["lines"]:
        line_values = {
            "name": line["description"].strip(),
            "quantity": line.get("quantity", 1),
            "price_unit": line["unit_price"],
        }
        if line.get("product") is not None:
            line_values["product_id"] = PRODUCT_REF.resolve(env, line["product"]).id
        if line.get("account") is not None:
            line_values["account_id"] = ACCOUNT_REF.resolve(env, line["account"]).id
        lines.append(line_values)
    values["invoice_line_ids"] = [Command.create(line) for line in lines]
    return values


def _describe(bill):
    """The bill as Odoo computed it (a record, or one in memory)."""
    currency = bill.currency_id
    return {
        "vendor": bill.partner_id.display_name,
        "reference": bill.ref or None,
        "bill_date": bill.invoice_date.isoformat() if bill.invoice_date else None,
        "journal": bill.journal_id.code,
        "fiscal_position": bill.fiscal_position_id.name or None,
        "currency": currency.name,
        "lines": [
            {
                "description": line.name,
                "product": line.product_id.display_name or None,
                "account": common.account_label(line.account_id),
                "quantity": line.quantity,
                "unit_price": line.price_unit,
                "taxes": line.tax_ids.mapped("name"),
                "subtotal": common.money(currency, line.price_subtotal),
            }
            for line in bill.invoice_line_ids
        ],
        "amount_untaxed": common.money(currency, bill.amount_untaxed),
        "amount_tax": common.money(currency, bill.amount_tax),
        "amount_total": common.money(currency, bill.amount_total),
    }


def _totals_in_memory(bill):
    """(untaxed, tax, total) of a bill held in memory, from the figures Odoo's form shows."""
    totals = bill.tax_totals
    return totals["base_amount_currency"], totals["tax_amount_currency"], totals["total_amount_currency"]


def preview(ctx, args):
    """The vendor, the lines with the accounts and taxes Odoo picks, and the totals Odoo computes;
    the bill is built in memory, nothing is written."""
    env = ctx.env
    BILLING.check(env, NAME)
    bill = env["account.move"].new(_values(env, args))
    currency = bill.currency_id
    untaxed, tax, total = _totals_in_memory(bill)
    described = _describe(bill)
    details = [f"in {currency.name}", f"journal {described['journal']}"]
    if described["reference"]:
        details.insert(0, f"reference {described['reference']}")
    if described["bill_date"]:
        details.insert(0, f"bill date {described['bill_date']}")
    if described["fiscal_position"]:
        details.append(f"fiscal position {described['fiscal_position']}")
    parts = [
        f"Create a draft vendor bill in {env.company.name} from {described['vendor']} ({', '.join(details)}):"
    ]
    for line in described["lines"]:
        product = f" ({line['product']})" if line["product"] else ""
        parts.append(
            f"- {line['description']}{product}: {line['quantity']:g} x "
            f"{amount_text(currency, line['unit_price'])}, account {line['account']}, "
            f"taxes {', '.join(line['taxes']) or 'none'}"
        )
    parts.append(
        f"Untaxed {amount_text(currency, untaxed)}, tax {amount_text(currency, tax)}, "
        f"total {amount_text(currency, total)}. The bill stays a draft: nothing is posted."
    )
    return "\n".join(parts)


@tool(
    NAME,
    display_name="DraftVendorBill",
    description="Create a draft vendor bill in the conversation's company for a purchase the user "
    "describes: the vendor, the lines (description, quantity, unit price tax excluded, optionally a "
    "product and an expense account), optionally the currency (an active one; default the "
    "journal's or the company's), the bill date and the vendor's bill reference. Odoo picks the "
    "purchase journal, the vendor's fiscal position, the product's vendor taxes and the accounts, "
    "and computes the totals. The bill is never posted; a bill of the vendor with the same "
    "reference is not recorded twice. Returns the bill (id, lines with accounts and taxes, "
    "untaxed, tax and total amounts, currency).",
    input_schema=toolkit.object_schema(
        {
            "vendor": toolkit.ref_schema("Vendor: id, name or reference."),
            "lines": {"type": "array", "items": LINE, "minItems": 1, "maxItems": MAX_LINES},
            "currency": {
                "type": "string",
                "minLength": 3,
                "maxLength": 3,
                "description": "ISO code, e.g. EUR.",
            },
            "bill_date": {**common.DATE, "description": "Bill date (YYYY-MM-DD)."},
            "reference": {"type": "string", "maxLength": 100, "description": "The vendor's bill number."},
        },
        required=("vendor", "lines"),
    ),
    requires=BILLING,
    mode="write",
    preview=preview,
)
def draft_vendor_bill(ctx, args):
    env = ctx.env
    bill = env["account.move"].create(_values(env, args))
    return {"company": env.company.name, "bill": {"id": bill.id, "state": bill.state, **_describe(bill)}}
