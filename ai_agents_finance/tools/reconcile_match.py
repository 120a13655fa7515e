"""ReconcileMatch: reconcile an open payment with an open invoice or bill of the same partner and
account, through the journal items' own ``reconcile()`` (what Odoo's "Add" on an invoice's
outstanding credits does). A partial payment leaves the rest open, as Odoo does.

Reconciling changes what the books say is paid: the tool needs a person's approval for every
call (``needs_approval``), so a trusted agent is refused it and only an agent in approval mode
may run it, once approved.
"""

from odoo.fields import Domain

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import RecordRef, tool, toolkit

from . import common
from .reminders import BILLING, INVOICE_REF, amount_text

NAME = "finance.reconcile_match"
PARTNER_ACCOUNTS = ("asset_receivable", "liability_payable")


def _in_company(env):
    return Domain("company_id", "=", env.company.id)


PAYMENT_REF = RecordRef(
    "account.payment", "payment", exact=("name",), fuzzy=None, domain=_in_company, in_company=True
)
LINE_REF = RecordRef(
    "account.move.line", "journal item", exact=(), fuzzy=None, domain=_in_company, in_company=True
)


def _open(lines):
    return lines.filtered(
        lambda line: (
            line.account_id.account_type in PARTNER_ACCOUNTS
            and not line.reconciled
            and not line.company_currency_id.is_zero(line.amount_residual)
        )
    )


def _payment_lines(env, args):
    """(label of the payment side, its open receivable / payable journal item)."""
    given = [key for key in ("payment", "payment_line") if args.get(key) is not None]
    if len(given) != 1:
        raise ToolInputError("give exactly one of payment or payment_line")
    if "payment" in given:
        payment = PAYMENT_REF.resolve(env, args["payment"])
        if payment.state not in ("in_process", "paid") or not payment.move_id:
            raise ToolInputError(f"payment {payment.name} is not posted ({payment.state})")
        counterpart = payment.move_id.line_ids.filtered(
            lambda line: line.account_id == payment.destination_account_id
        )
        line = _open(counterpart)
        if not line:
            raise ToolInputError(f"payment {payment.name} is already reconciled: nothing of it is open")
        return f"payment {payment.name}", line[:1]
    line = LINE_REF.resolve(env, args["payment_line"])
    if line.parent_state != "posted":
        raise ToolInputError(f"journal item {line.id} ({line.move_id.name}) is not posted")
    if line.account_id.account_type not in PARTNER_ACCOUNTS:
        raise ToolInputError(
            f"journal item {line.id} is on {common.account_label(line.account_id)}, not a receivable "
            "or payable account"
        )
    if not _open(line):
        raise ToolInputError(f"journal item {line.id} ({line.move_id.name}) is already reconciled")
    return f"{line.move_id.name} (journal item {line.id})", line


def plan(env, args):
    """The match, checked, without writing: (payment label, payment line, invoice, its open
    lines, currency of the figures, (payment open, invoice open, settled) in that currency)."""
    label, pay_line = _payment_lines(env, args)
    invoice = INVOICE_REF.resolve(env, args["invoice"])
    if invoice.state != "posted":
        raise ToolInputError(f"{invoice.name or 'the invoice'} is not posted")
    if invoice.company_id != pay_line.company_id:
        raise ToolInputError(f"{label} and {invoice.name} belong to different companies")
    inv_lines = _open(invoice.line_ids)
    if not inv_lines:
        raise ToolInputError(
            f"{invoice.name} is already reconciled: nothing of it is open "
            f"(payment state {invoice.payment_state})"
        )
    partner = invoice.commercial_partner_id
    if pay_line.partner_id.commercial_partner_id != partner:
        paid_by = pay_line.partner_id.commercial_partner_id.display_name or "no partner"
        raise ToolInputError(
            f"{label} is of {paid_by}, {invoice.name} of {partner.display_name}: not the same partner"
        )
    inv_lines = inv_lines.filtered(lambda line: line.account_id == pay_line.account_id)
    if not inv_lines:
        raise ToolInputError(
            f"{label} is on {common.account_label(pay_line.account_id)}, {invoice.name} is not: "
            "not the same account"
        )
    if (pay_line.amount_residual > 0) == (sum(inv_lines.mapped("amount_residual")) > 0):
        raise ToolInputError(
            f"{label} and {invoice.name} are on the same side of the account: nothing to match"
        )
    # The figures in the currency both share, else in the company currency.
    if len((pay_line | inv_lines).currency_id) == 1:
        currency, field = pay_line.currency_id, "amount_residual_currency"
    else:
        currency, field = env.company.currency_id, "amount_residual"
    paid = abs(pay_line[field])
    owed = abs(sum(inv_lines.mapped(field)))
    return label, pay_line, invoice, inv_lines, currency, (paid, owed, min(paid, owed))


def preview(ctx, args):
    """Both items with what is open on each, and what stays open after the reconciliation;
    nothing written."""
    env = ctx.env
    BILLING.check(env, NAME)
    label, pay_line, invoice, inv_lines, currency, (paid, owed, settled) = plan(env, args)
    due = min(inv_lines.mapped("date_maturity"), default=None)
    rest = owed - settled
    after_invoice = (
        f"{invoice.name} stays open for {amount_text(currency, rest)} (partially paid)"
        if not currency.is_zero(rest)
        else f"{invoice.name} is fully paid"
    )
    left = paid - settled
    after_payment = (
        f"{amount_text(currency, left)} of the payment stay open"
        if not currency.is_zero(left)
        else "the payment is fully used"
    )
    return "\n".join(
        [
            f"Reconcile in {env.company.name}, account {common.account_label(pay_line.account_id)}, "
            f"partner {invoice.commercial_partner_id.display_name}:",
            f"- {label} of {pay_line.date.isoformat()}: {amount_text(currency, paid)} open",
            f"- {invoice.name} due {due.isoformat() if due else 'n/a'}: {amount_text(currency, owed)} open",
            f"Matched: {amount_text(currency, settled)}. After: {after_invoice}; {after_payment}.",
        ]
    )


@tool(
    NAME,
    display_name="ReconcileMatch",
    description="Reconcile an open payment with an open invoice or bill of the conversation's "
    "company, as Odoo's 'Add' of an outstanding payment on an invoice does: same partner, same "
    "receivable or payable account. Give the payment (its reference or id, e.g. from "
    "GetUnmatchedPayments) or payment_line (the id of its open receivable / payable journal item), "
    "and the invoice (number or id). A payment smaller than the invoice leaves the rest open "
    "(partially paid). Every call waits for a person's approval. Returns what was open on both "
    "before and after, and the invoice's payment state before and after.",
    input_schema=toolkit.object_schema(
        {
            "payment": toolkit.ref_schema("Payment: id or reference (e.g. 'PBNK1/2026/00004')."),
            "payment_line": {"type": "integer", "description": "Id of the payment's open journal item."},
            "invoice": toolkit.ref_schema("Invoice or bill: id or number."),
        },
        required=("invoice",),
    ),
    requires=BILLING,
    mode="write",
    needs_approval=True,
    preview=preview,
)
def reconcile_match(ctx, args):
    env = ctx.env
    label, pay_line, invoice, inv_lines, currency, (paid, owed, _settled) = plan(env, args)
    state_before = invoice.payment_state
    (pay_line | inv_lines).reconcile()
    field = "amount_residual_currency" if currency == pay_line.currency_id else "amount_residual"
    if currency == invoice.currency_id:
        open_after = invoice.amount_residual
    else:
        open_after = abs(sum(inv_lines.mapped(field)))
    return {
        "company": env.company.name,
        "account": common.account_label(pay_line.account_id),
        "partner": invoice.commercial_partner_id.display_name,
        "currency": currency.name,
        "payment": {
            "name": label,
            "journal_item_id": pay_line.id,
            "open_before": common.money(currency, paid),
            "open_after": common.money(currency, abs(pay_line[field])),
        },
        "invoice": {
            "name": invoice.name,
            "id": invoice.id,
            "open_before": common.money(currency, owed),
            "open_after": common.money(currency, open_after),
            "payment_state_before": state_before,
            "payment_state_after": invoice.payment_state,
        },
    }
