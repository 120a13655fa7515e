"""What every finance tool shares: the access check, the session's company, input resolution.

Tools read the books of ONE company, the session's (``ctx.env.company``, the first of the
context's ``allowed_company_ids``), even when the user may see others: record rules alone would
mix the figures of every company the user works in.
"""

from odoo import fields
from odoo.tools.sql import escape_psql

from odoo.addons.ai_core.ai_engine import ToolInputError

from ..finance_engine import FinanceInputError, parse_range

# Schema fragments reused by the tools' input schemas.
DATE = {"type": "string", "format": "date"}
PARTNER = {
    "type": ["integer", "string"],
    "description": "Partner id, or its name (exact, else the only partial match).",
}
JOURNAL = {
    "type": ["integer", "string"],
    "description": "Journal id, or its short code (e.g. BNK1) or name, of the conversation's company.",
}
MAX_CHOICES_SHOWN = 5


def check_access(ctx):
    """Refuse users who may not read journal items: every figure of these tools comes from them.

    Odoo lets every employee read the chart of accounts; only accounting rights (Invoicing or
    Accounting groups) give access to journal items, so this is the line between the two.

    Raises:
        AccessError: Which the tool context reports to the model as a denied call.
    """
    ctx.env["account.move.line"].check_access("read")


def company(ctx):
    return ctx.env.company


def currency_info(currency):
    return {"currency": currency.name}


def today(ctx):
    return fields.Date.context_today(ctx.env.user)


def date_range(args, ctx, *, require_from=False):
    """(date_from or None, date_to) of ``args``; date_to defaults to today."""
    if require_from and not args.get("date_from"):
        raise ToolInputError("date_from is required")
    try:
        return parse_range(args.get("date_from"), args.get("date_to"), default_to=today(ctx))
    except FinanceInputError as exc:
        raise ToolInputError(str(exc)) from None


def money(currency, amount):
    # Adding 0.0 turns -0.0 into 0.0, which a model would read as a sign.
    return currency.round(amount or 0.0) + 0.0


def like_prefix(prefix):
    """An ``=like`` pattern matching values starting with ``prefix`` taken literally."""
    return escape_psql(prefix) + "%"


def _choices(records, label):
    shown = ", ".join(f"{label(record)} (id {record.id})" for record in records[:MAX_CHOICES_SHOWN])
    more = len(records) - MAX_CHOICES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def resolve_journal(ctx, value, *, types=None):
    """The journal ``value`` (id, code or name) of the session's company.

    Args:
        ctx: The tool context.
        value: What the model gave.
        types: Journal types allowed (e.g. ``("bank", "cash")``), None for any.

    Raises:
        ToolInputError: Unknown, ambiguous, of another company, or of another type.
    """
    Journal = ctx.env["account.journal"].with_context(active_test=False)
    current = company(ctx)
    if isinstance(value, int):
        journal = Journal.search([("id", "=", value)])
        if not journal:
            raise ToolInputError(f"no journal with id {value} (or you may not read it)")
    else:
        text = str(value).strip()
        matches = Journal.search(
            ["|", ("code", "=ilike", escape_psql(text)), ("name", "=ilike", escape_psql(text))]
        )
        journal = matches.filtered(lambda j: j.company_id == current)
        if not journal and matches:
            journal = matches[0]  # another company's: reported below
        if not journal:
            available = Journal.search([("company_id", "=", current.id)])
            raise ToolInputError(
                f"no journal {text!r} in {current.name}; journals: "
                f"{_choices(available, lambda j: f'{j.code} {j.name}')}"
            )
        if len(journal) > 1:
            raise ToolInputError(
                f"journal {text!r} is ambiguous: {_choices(journal, lambda j: f'{j.code} {j.name}')}"
            )
    if journal.company_id != current:
        raise ToolInputError(
            f"journal {journal.code} ({journal.name}) belongs to {journal.company_id.name}, not to "
            f"{current.name}, the company of this conversation"
        )
    if types and journal.type not in types:
        raise ToolInputError(
            f"journal {journal.code} is a {journal.type} journal; expected one of: {', '.join(types)}"
        )
    return journal


def resolve_partner(ctx, value):
    """The commercial partner ``value`` designates (an id or a name)."""
    Partner = ctx.env["res.partner"].with_context(active_test=False)
    if isinstance(value, int):
        partner = Partner.search([("id", "=", value)])
        if not partner:
            raise ToolInputError(f"no partner with id {value} (or you may not read it)")
        return partner.commercial_partner_id
    text = str(value).strip()
    partner = Partner.search([("name", "=ilike", escape_psql(text))]) or Partner.search(
        [("name", "ilike", text)]
    )
    partner = partner.commercial_partner_id
    if not partner:
        raise ToolInputError(f"no partner named {text!r}")
    if len(partner) > 1:
        raise ToolInputError(
            f"partner {text!r} is ambiguous: {_choices(partner, lambda p: p.display_name)}; give the id"
        )
    return partner


def resolve_analytic(ctx, value):
    """The analytic account ``value`` designates (an id, a code or a name)."""
    Analytic = ctx.env["account.analytic.account"].with_context(active_test=False)
    current = company(ctx)
    if isinstance(value, int):
        analytic = Analytic.search([("id", "=", value)])
        if not analytic:
            raise ToolInputError(f"no analytic account with id {value} (or you may not read it)")
    else:
        text = str(value).strip()
        analytic = Analytic.search(
            [
                ("company_id", "in", [current.id, False]),
                "|",
                ("code", "=ilike", escape_psql(text)),
                ("name", "=ilike", escape_psql(text)),
            ]
        )
        if not analytic:
            raise ToolInputError(f"no analytic account {text!r} in {current.name}")
        if len(analytic) > 1:
            raise ToolInputError(
                f"analytic account {text!r} is ambiguous: {_choices(analytic, lambda a: a.display_name)}"
            )
    if analytic.company_id and analytic.company_id != current:
        raise ToolInputError(
            f"analytic account {analytic.display_name} belongs to {analytic.company_id.name}, not to "
            f"{current.name}, the company of this conversation"
        )
    return analytic


def account_types(ctx, values):
    """Check account type codes against the ones this database knows."""
    known = dict(ctx.env["account.account"]._fields["account_type"]._description_selection(ctx.env))
    unknown = [value for value in values if value not in known]
    if unknown:
        raise ToolInputError(f"unknown account type(s) {', '.join(unknown)}; known types: {', '.join(known)}")
    return list(values)


def limit(args, default, maximum):
    return min(max(int(args.get("limit") or default), 1), maximum)
