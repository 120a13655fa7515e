"""GetTaxTotals: the base and tax amounts of each tax over a period, as a tax return reads them."""

from odoo.fields import Domain

from odoo.addons.ai_core.tools import tool, toolkit

from . import common

# Odoo's tax report shows sales taxes collected and purchase taxes paid both as positive amounts:
# sales lines are credits (negative balances), purchase lines debits.
SIGNS = {"sale": -1, "purchase": 1}


def _tax_type(tax):
    """sale or purchase; a tax of a group (type none) takes its group's type."""
    if tax.type_tax_use in SIGNS:
        return tax.type_tax_use
    group = (
        tax.env["account.tax"]
        .with_context(active_test=False)
        .search([("children_tax_ids", "in", tax.ids)], limit=1)
    )
    return group.type_tax_use if group.type_tax_use in SIGNS else "sale"


@tool(
    "finance.get_tax_totals",
    display_name="GetTaxTotals",
    description="Tax totals of the conversation's company for a period, per tax: the base (journal "
    "items carrying the tax) and the tax amount (the tax's own journal items), in the company "
    "currency, signed as in Odoo's tax report: sales tax collected and purchase tax paid both "
    "positive, refunds reduce them. Posted entries, tax-exigible items only (cash-basis taxes count "
    "when paid). Group taxes: the base is under the group, the tax amounts under its children. "
    "Totals for sales and purchases and the net tax (sales tax - purchase tax).",
    input_schema=toolkit.object_schema(
        {
            "date_from": {**common.DATE, "description": "First day of the period (YYYY-MM-DD)."},
            "date_to": {**common.DATE, "description": "Last day, included (YYYY-MM-DD)."},
            "type": {"enum": ["sale", "purchase", "any"], "default": "any"},
        },
        required=["date_from", "date_to"],
    ),
    requires=common.JOURNAL_ITEMS,
)
def get_tax_totals(ctx, args):
    current = common.company(ctx)
    currency = current.currency_id
    date_from, date_to = common.date_range(args, ctx, require_from=True)
    domain = Domain(
        [
            ("company_id", "=", current.id),
            ("parent_state", "=", "posted"),
            ("date", ">=", date_from),
            ("date", "<=", date_to),
        ]
    )
    Line = ctx.env["account.move.line"]
    # Odoo's own rule (its tax report's): items of cash-basis taxes count once paid.
    domain &= Domain(Line._get_tax_exigible_domain())
    figures = {}
    for tax, amount in Line._read_group(
        domain & Domain("tax_line_id", "!=", False), ["tax_line_id"], ["balance:sum"]
    ):
        figures.setdefault(tax, [0.0, 0.0])[1] += amount
    # Base lines only: a tax line may carry taxes too (a tax included in the base of another).
    base_domain = domain & Domain("tax_ids", "!=", False) & Domain("tax_repartition_line_id", "=", False)
    for tax, amount in Line._read_group(base_domain, ["tax_ids"], ["balance:sum"]):
        figures.setdefault(tax, [0.0, 0.0])[0] += amount
    wanted = args.get("type") or "any"
    taxes = []
    totals = {kind: {"base": 0.0, "tax": 0.0} for kind in SIGNS}
    for tax, (base, amount) in sorted(figures.items(), key=lambda item: (item[0].sequence, item[0].id)):
        kind = _tax_type(tax)
        if wanted != "any" and kind != wanted:
            continue
        sign = SIGNS[kind]
        row = {
            "tax": tax.name,
            "type": kind,
            "rate": f"{tax.amount:g}%" if tax.amount_type in ("percent", "division") else None,
            "base": common.money(currency, sign * base),
            "tax_amount": common.money(currency, sign * amount),
        }
        totals[kind]["base"] += row["base"]
        totals[kind]["tax"] += row["tax_amount"]
        taxes.append(row)
    shown = {kind: entry for kind, entry in totals.items() if wanted in ("any", kind)}
    result = {
        "company": current.name,
        **common.currency_info(currency),
        "entries": "posted",
        "period": {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()},
        "taxes": taxes,
        "totals": {
            kind: {"base": common.money(currency, entry["base"]), "tax": common.money(currency, entry["tax"])}
            for kind, entry in shown.items()
        },
    }
    if wanted == "any":
        result["net_tax"] = common.money(currency, totals["sale"]["tax"] - totals["purchase"]["tax"])
    return result
