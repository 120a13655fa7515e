"""SendPaymentReminder: a reminder e-mail for overdue customer invoices, written with the addon's
mail template (``mail_template_payment_reminder``, noupdate: the accountant rewords it) and posted
in each invoice's chatter as Odoo's "Send" does (``message_post_with_source``): the e-mail goes to
the mail queue like any other, our code never sends it.

One reminder a day at most: an invoice from which a message was already sent to the customer
today (a reminder, the invoice itself) is skipped, so a call repeated, approved twice or retried
writes nothing twice.
"""

from odoo import fields
from odoo.fields import Domain

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import RecordRef, Requires, tool, toolkit

from . import common
from .receivables import _last_messages

NAME = "finance.send_payment_reminder"
TEMPLATE = "ai_agents_finance.mail_template_payment_reminder"
CUSTOMER_INVOICES = ("out_invoice", "out_receipt")
OPEN_STATES = ("not_paid", "partial")
MAX_INVOICES = 20

# Writing to customers from an invoice is the billing team's work: Odoo's Invoicing group (which
# accountants have too) may post on invoices; read-only auditors may not, whatever they can read.
BILLING = Requires(groups=("account.group_account_invoice",))

INVOICE_REF = RecordRef(
    "account.move",
    "invoice",
    exact=("name",),
    fuzzy=None,
    domain=lambda env: Domain("company_id", "=", env.company.id) & Domain("move_type", "!=", "entry"),
    in_company=True,
)


def amount_text(currency, amount):
    return f"{common.money(currency, amount):.{currency.decimal_places}f} {currency.name}"


def _refusal(invoice, today):
    """Why ``invoice`` cannot be reminded, or None."""
    if invoice.move_type not in CUSTOMER_INVOICES:
        return f"{invoice.name} is not a customer invoice"
    if invoice.state != "posted":
        return f"{invoice.name} is not posted"
    if invoice.payment_state not in OPEN_STATES:
        return f"{invoice.name} is not open (payment state {invoice.payment_state}): nothing to remind"
    if not invoice.invoice_date_due or invoice.invoice_date_due >= today:
        return f"{invoice.name} is not overdue: it is due on {invoice.invoice_date_due}"
    return None


def _invoices(env, args, today):
    """The invoices the call is about: the one named, or the customer's overdue ones."""
    given = [key for key in ("invoice", "customer") if args.get(key) is not None]
    if len(given) != 1:
        raise ToolInputError("give exactly one of invoice or customer")
    if "invoice" in given:
        invoice = INVOICE_REF.resolve(env, args["invoice"])
        refusal = _refusal(invoice, today)
        if refusal:
            raise ToolInputError(refusal)
        return invoice
    customer = common.resolve_partner(env, args["customer"])
    invoices = env["account.move"].search(
        Domain(
            [
                ("company_id", "=", env.company.id),
                ("commercial_partner_id", "=", customer.id),
                ("state", "=", "posted"),
                ("move_type", "in", CUSTOMER_INVOICES),
                ("payment_state", "in", OPEN_STATES),
                ("invoice_date_due", "<", today),
            ]
        ),
        order="invoice_date_due, id",
        limit=MAX_INVOICES + 1,
    )
    if not invoices:
        raise ToolInputError(f"{customer.display_name} has no overdue invoice in {env.company.name}")
    if len(invoices) > MAX_INVOICES:
        raise ToolInputError(
            f"{customer.display_name} has more than {MAX_INVOICES} overdue invoices; remind them one by one"
        )
    return invoices


def plan(env, args):
    """What the call would send, without writing: (template, [(invoice, recipient partners,
    days overdue)], [skipped (invoice, reason)])."""
    today = fields.Date.context_today(env.user)
    template = env.ref(TEMPLATE, raise_if_not_found=False)
    if not template:
        raise ToolInputError("the payment reminder mail template was deleted; ask an administrator")
    invoices = _invoices(env, args, today)
    sent_at = _last_messages(env, invoices)
    planned, skipped = [], []
    for invoice in invoices:
        if invoice.id in sent_at and sent_at[invoice.id].date() >= today:
            skipped.append((invoice, "a message was already sent from it today"))
            continue
        # The template's recipient: the invoice's contact.
        partners = invoice.partner_id
        if not partners.email:
            skipped.append((invoice, f"{invoice.partner_id.display_name} has no e-mail address"))
            continue
        planned.append((invoice, partners, (today - invoice.invoice_date_due).days))
    return template, planned, skipped


def _describe(invoice, partners, days):
    currency = invoice.currency_id
    return {
        "invoice": invoice.name,
        "invoice_id": invoice.id,
        "customer": invoice.partner_id.display_name,
        "recipients": partners.mapped("email"),
        "open_amount": common.money(currency, invoice.amount_residual),
        "currency": currency.name,
        "due_date": invoice.invoice_date_due.isoformat(),
        "days_overdue": days,
    }


def preview(ctx, args):
    """Each invoice (number, customer, open amount in its currency, days overdue) and who the
    reminder goes to; nothing written, nothing queued."""
    env = ctx.env
    BILLING.check(env, NAME)
    template, planned, skipped = plan(env, args)
    if planned:
        parts = [f"Send {len(planned)} payment reminder(s) from {env.company.name} ({template.name}):"]
    else:
        parts = [f"Send no payment reminder from {env.company.name}:"]
    parts.extend(
        f"- {invoice.name} to {invoice.partner_id.display_name}: "
        f"{amount_text(invoice.currency_id, invoice.amount_residual)} open, due "
        f"{invoice.invoice_date_due.isoformat()}, {days} day(s) overdue; e-mail to "
        f"{', '.join(partners.mapped('email'))}"
        for invoice, partners, days in planned
    )
    parts.extend(f"Skipped: {invoice.name}: {reason}." for invoice, reason in skipped)
    return "\n".join(parts)


@tool(
    NAME,
    display_name="SendPaymentReminder",
    description="Send a payment reminder e-mail for overdue customer invoices of the conversation's "
    "company, written with the company's 'Invoice: Payment reminder' mail template (the amount "
    "still due in the invoice's currency and the due date) and posted in each invoice's chatter; "
    "the e-mail goes out through Odoo's mail queue. Give exactly one of: invoice (its number or id) "
    "or customer (all their overdue invoices, one e-mail each). Only posted customer invoices past "
    "their due date and not paid are reminded; an invoice a message was already sent from today is "
    "skipped. Returns the reminders sent (invoice, recipients, open amount, days overdue, message id) "
    "and the invoices skipped.",
    input_schema=toolkit.object_schema(
        {
            "invoice": toolkit.ref_schema("Customer invoice: id or number (e.g. 'INV/2026/00012')."),
            "customer": {**common.PARTNER, "minLength": 1},
        },
    ),
    requires=BILLING,
    mode="write",
    preview=preview,
)
def send_payment_reminder(ctx, args):
    env = ctx.env
    template, planned, skipped = plan(env, args)
    sent = []
    for invoice, partners, days in planned:
        # Queued, not sent in this transaction: the mail queue sends it, retries it, logs it.
        [message] = invoice.with_context(mail_notify_force_send=False).message_post_with_source(
            template, message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        sent.append({**_describe(invoice, partners, days), "message_id": message.id})
    return {
        "company": env.company.name,
        "template": template.name,
        "sent": sent,
        "skipped": [{"invoice": invoice.name, "reason": reason} for invoice, reason in skipped],
    }
