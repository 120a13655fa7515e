"""GetTaxTotals: the base and tax amounts of each tax over a period, as a tax return reads them."""

from odoo.fields import Domain
from odoo.tools import SQL

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


def _base_sums(env, domain):
    """[(tax, sum of the balances of the base items carrying it)] among the journal items of
    ``domain`` the user may read (``_search``: record rules included); tax items are left out
    (a tax included in the base of another is carried by a tax item)."""
    Line = env["account.move.line"]
    query = Line._search(domain & Domain("tax_repartition_line_id", "=", False))
    # A plain join on the many2many's table: the ORM's grouping by tax_ids adds an EXISTS and a
    # company check per row that made the sum several times slower.
    rel = query.make_alias(query.table, "aia_tax_rel")
    query.add_join(
        "JOIN",
        rel,
        "account_move_line_account_tax_rel",
        SQL("%s = %s", SQL.identifier(rel, "account_move_line_id"), SQL.identifier(query.table, "id")),
    )
    tax_id = SQL.identifier(rel, "account_tax_id")
    query.groupby = tax_id
    rows = env.execute_query(
        query.select(tax_id, SQL("SUM(%s)", Line._field_to_sql(query.table, "balance", query)))
    )
    taxes = env["account.tax"].with_context(active_test=False).browse(row[0] for row in rows)
    return [(tax, float(amount)) for tax, (_id, amount) in zip(taxes, rows, strict=True)]


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
            "date_from": common.PERIOD_FROM,
            "date_to": common.PERIOD_TO,
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
    # Odoo's own rule (its tax report's): items of cash-basis taxes count once paid. Without any
    # cash-basis tax every item is exigible, and the rule's joins would only slow the sums down.
    cash_basis = (
        ctx.env["account.tax"]
        .with_context(active_test=False)
        .search_count([("company_id", "=", current.id), ("tax_exigibility", "=", "on_payment")], limit=1)
    )
    if cash_basis:
        domain &= Domain(Line._get_tax_exigible_domain())
    figures = {}
    for tax, amount in Line._read_group(
        domain & Domain("tax_line_id", "!=", False), ["tax_line_id"], ["balance:sum"]
    ):
        figures.setdefault(tax, [0.0, 0.0])[1] += amount
    for tax, amount in _base_sums(ctx.env, domain):
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
