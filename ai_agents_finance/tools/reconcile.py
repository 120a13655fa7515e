"""ReconcileAccount: suggestions matching unreconciled bank lines to open invoices and bills.

Read-only by design: the tool writes nothing, so it is a ``read`` tool and runs outside shadow
mode. The user reconciles in Odoo's bank reconciliation, where the suggestion can be checked.
"""

import re

from odoo.fields import Domain

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import tool, toolkit

from ..finance_engine import MIN_CONFIDENCE, OpenItem, StatementLine, suggest
from . import common

DEFAULT_LINES = 20
MAX_LINES = 50
# Open items considered at most per call; enough for the lines of one call, bounded for big books.
MAX_CANDIDATES = 2000
INVOICE_TYPES = ("out_invoice", "out_refund", "in_invoice", "in_refund", "out_receipt", "in_receipt")
_TOKEN_EDGES = ".,;:()[]{}\"'#"
_SPACES = re.compile(r"\s+")


def _tokens(labels):
    """Words of the bank labels that may be a document number, for the candidates' query."""
    tokens = set()
    for label in labels:
        for word in _SPACES.split(label or ""):
            word = word.strip(_TOKEN_EDGES)
            if len(word) >= 4 and any(char.isdigit() for char in word):
                tokens.add(word)
    return sorted(tokens)


def _open_lines_domain(ctx):
    return Domain(
        [
            ("company_id", "=", common.company(ctx).id),
            ("parent_state", "=", "posted"),
            ("account_id.account_type", "in", ["asset_receivable", "liability_payable"]),
            ("reconciled", "=", False),
            ("amount_residual", "!=", 0),
            ("move_id.move_type", "in", INVOICE_TYPES),
        ]
    )


def _candidates(ctx, st_lines):
    """Open receivable / payable lines of the invoices and bills that could match one of the
    lines (same amount, same partner, or a number quoted in a label), with every other open line
    of those documents: a payment often settles all the installments of a document at once."""
    amounts = sorted(
        {line.amount for line in st_lines}
        | {line.amount_currency for line in st_lines if line.amount_currency}
    )
    partners = st_lines.partner_id.commercial_partner_id
    tokens = _tokens(st_lines.mapped("payment_ref") + st_lines.mapped("ref"))
    hints = [
        [("amount_residual", "in", amounts)],
        [("amount_residual_currency", "in", amounts)],
        # A document's open total is unsigned, in its currency.
        [("move_id.amount_residual", "in", sorted({abs(amount) for amount in amounts}))],
    ]
    if partners:
        hints.append([("partner_id", "in", partners.ids)])
    if tokens:
        hints += [
            [("move_name", "in", tokens)],
            [("move_id.payment_reference", "in", tokens)],
            [("move_id.ref", "in", tokens)],
        ]
    Line = ctx.env["account.move.line"]
    hinted = Line.search(
        _open_lines_domain(ctx) & Domain.OR(hints), order="date_maturity, id", limit=MAX_CANDIDATES
    )
    return Line.search(
        _open_lines_domain(ctx) & Domain("move_id", "in", hinted.move_id.ids), order="date_maturity, id"
    )


def _open_items(candidates, currency, company_currency):
    """What a statement line in ``currency`` may pay: each document's open total, and each of its
    installments when it has several. Returns the items and the journal items each one stands for."""
    groups = []
    for lines in candidates.grouped("move_id").values():
        groups.append((lines, False))
        if len(lines) > 1:
            groups += [(line, True) for line in lines]
    items = []
    for index, (lines, _installment) in enumerate(groups):
        move = lines.move_id
        if all(line.currency_id == currency for line in lines):
            amount = sum(lines.mapped("amount_residual_currency"))
        elif currency == company_currency:
            amount = sum(lines.mapped("amount_residual"))
        else:
            amount = None
        references = tuple(ref for ref in (move.name, move.payment_reference, move.ref) if ref)
        items.append(OpenItem(index, amount, references, move.commercial_partner_id.id or None))
    return items, groups


@tool(
    "finance.reconcile_account",
    display_name="ReconcileAccount",
    description="Suggests, for the unreconciled bank statement lines of the conversation's company (all "
    "bank and cash journals, one journal, or given lines), the open invoice or bill each one most "
    "likely pays, matched by amount, reference quoted in the bank label and partner, with a confidence "
    "(0-0.99, high / medium / low) and the reasons. Suggestions only: it never reconciles anything; "
    "the user reconciles in Odoo's bank reconciliation.",
    input_schema=toolkit.object_schema(
        {
            "journal": common.JOURNAL,
            "statement_line_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": MAX_LINES},
            "date_from": common.DATE,
            "date_to": common.DATE,
            "min_confidence": {"type": "number", "minimum": 0, "maximum": 0.99, "default": MIN_CONFIDENCE},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LINES, "default": DEFAULT_LINES},
        },
    ),
    requires=common.JOURNAL_ITEMS,
)
def reconcile_account(ctx, args):
    current = common.company(ctx)
    date_from, date_to = common.date_range(args, ctx)
    Line = ctx.env["account.bank.statement.line"]
    domain = Domain(
        [
            ("company_id", "=", current.id),
            ("move_id.state", "=", "posted"),
            ("is_reconciled", "=", False),
            ("date", "<=", date_to),
        ]
    )
    if date_from:
        domain &= Domain("date", ">=", date_from)
    if args.get("journal") is not None:
        journal = common.resolve_journal(ctx.env, args["journal"], types=("bank", "cash", "credit"))
        domain &= Domain("journal_id", "=", journal.id)
    if args.get("statement_line_ids"):
        wanted = set(args["statement_line_ids"])
        found = Line.search([("id", "in", list(wanted)), ("company_id", "=", current.id)])
        missing = sorted(wanted - set(found.ids))
        if missing:
            raise ToolInputError(
                f"no statement line {', '.join(map(str, missing))} in {current.name} (or you may not read it)"
            )
        domain &= Domain("id", "in", found.ids)
    rows = common.limit(args, DEFAULT_LINES, MAX_LINES)
    st_lines = Line.search(domain, limit=rows)
    count = Line.search_count(domain)
    candidates = _candidates(ctx, st_lines) if st_lines else ctx.env["account.move.line"]
    min_confidence = args.get("min_confidence", MIN_CONFIDENCE)
    by_currency = {}
    result = []
    for st_line in st_lines:
        currency = st_line.currency_id
        if currency not in by_currency:
            by_currency[currency] = _open_items(candidates, currency, current.currency_id)
        items, groups = by_currency[currency]
        suggestion = suggest(
            StatementLine(
                st_line.id,
                st_line.amount,
                " ".join(filter(None, (st_line.payment_ref, st_line.ref, st_line.partner_name))),
                st_line.partner_id.commercial_partner_id.id or None,
            ),
            items,
            tolerance=currency.rounding / 2,
            digits=currency.decimal_places,
            min_confidence=min_confidence,
        )
        entry = {
            "statement_line": {
                "id": st_line.id,
                "date": st_line.date.isoformat(),
                "journal": st_line.journal_id.code,
                "label": st_line.payment_ref or "",
                "partner": st_line.partner_id.display_name or st_line.partner_name or None,
                "amount": common.money(currency, st_line.amount),
                "currency": currency.name,
            },
            "suggestion": None,
        }
        if suggestion:
            lines, installment = groups[suggestion.item_id]
            move = lines.move_id
            due = min(lines.mapped("date_maturity"), default=None)
            entry["suggestion"] = {
                "document": move.name,
                "journal_item_ids": lines.ids,
                "installment": installment,
                "partner": move.commercial_partner_id.display_name or None,
                "due_date": due.isoformat() if due else None,
                "open_amount": common.money(move.currency_id, sum(lines.mapped("amount_residual_currency"))),
                "currency": move.currency_id.name,
                "confidence": suggestion.confidence,
                "level": suggestion.level,
                "reasons": list(suggestion.reasons),
                "other_candidates": suggestion.alternatives,
            }
        result.append(entry)
    return {
        "company": current.name,
        "mode": "suggestions only: nothing was reconciled",
        "unreconciled_count": count,
        "lines": result,
        "truncated": len(st_lines) < count,
    }
