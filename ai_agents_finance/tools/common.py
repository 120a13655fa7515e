"""What every finance tool shares: the access requirement, the session's company, input resolution.

Tools read the books of ONE company, the session's (``ctx.env.company``, the first of the
context's ``allowed_company_ids``), even when the user may see others: record rules alone would
mix the figures of every company the user works in.
"""

from odoo import fields
from odoo.fields import Domain

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import Filter, Requires, toolkit

from ..finance_engine import FinanceInputError, parse_range

# Schema fragments reused by the tools' input schemas.
DATE = toolkit.DATE
PARTNER = {
    "type": ["integer", "string"],
    "description": "Partner id, or its name (exact, else the only partial match).",
}
JOURNAL = {
    "type": ["integer", "string"],
    "description": "Journal id, or its short code (e.g. BNK1) or name, of the conversation's company.",
}
# The period most tools take, first and last day included.
PERIOD_FROM = {**DATE, "description": "First day of the period (YYYY-MM-DD)."}
PERIOD_TO = {**DATE, "description": "Last day, included (YYYY-MM-DD)."}

# Every figure of these tools comes from journal items. Odoo lets every employee read the chart of
# accounts; only accounting rights (Invoicing or Accounting groups) give access to journal items,
# so this is the line between the two.
JOURNAL_ITEMS = Requires(read=("account.move.line",))
money = toolkit.money
like_prefix = toolkit.like_prefix


def company(ctx):
    return ctx.env.company


def account_label(account):
    """``code name`` of an account, whatever the context (its display name may leave the code out)."""
    return f"{account.code} {account.name}" if account else None


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


def _choices(records, label):
    shown = ", ".join(f"{label(record)} (id {record.id})" for record in records[: toolkit.CANDIDATES])
    more = len(records) - toolkit.CANDIDATES
    return shown + (f" and {more} more" if more > 0 else "")


def _by_id(Model, value, label):
    """The record of id ``value`` the user may read."""
    record = Model.search([("id", "=", value)])
    if not record:
        raise ToolInputError(f"no {label} with id {value} (or you may not read it)")
    return record


def _lookup(env, model, value, label, by_text):
    """The record of ``model`` that ``value`` designates: an id, else what ``by_text(Model,
    text)`` finds for the stripped text (archived records included)."""
    Model = env[model].with_context(active_test=False)
    if isinstance(value, int):
        return _by_id(Model, value, label)
    return by_text(Model, str(value).strip())


def _of_session_company(env, record, what):
    """``record`` (named ``what`` in the error), unless it belongs to another company than the
    session's; a record without a company belongs to every company."""
    if record.company_id and record.company_id != env.company:
        raise ToolInputError(
            f"{what} belongs to {record.company_id.name}, not to {env.company.name}, the company of "
            "this conversation"
        )
    return record


def resolve_journal(env, value, *, types=None):
    """The journal ``value`` (id, code or name) of the session's company.

    Args:
        env: The tool's environment.
        value: What the model gave.
        types: Journal types allowed (e.g. ``("bank", "cash")``), None for any.

    Raises:
        ToolInputError: Unknown, ambiguous, of another company, or of another type.
    """
    current = env.company

    def by_text(Journal, text):
        matches = Journal.search(toolkit.exact("code", text) | toolkit.exact("name", text))
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
            raise toolkit.ambiguous("journal", text, journal)
        return journal

    journal = _lookup(env, "account.journal", value, "journal", by_text)
    _of_session_company(env, journal, f"journal {journal.code} ({journal.name})")
    if types and journal.type not in types:
        raise ToolInputError(
            f"journal {journal.code} is a {journal.type} journal; expected one of: {', '.join(types)}"
        )
    return journal


def resolve_partner(env, value):
    """The commercial partner ``value`` designates (an id or a name)."""

    def by_text(Partner, text):
        partner = Partner.search(toolkit.exact("name", text)) or Partner.search([("name", "ilike", text)])
        partner = partner.commercial_partner_id
        if not partner:
            raise ToolInputError(f"no partner named {text!r}")
        if len(partner) > 1:
            raise toolkit.ambiguous("partner", text, partner, hint="Give the id.")
        return partner

    return _lookup(env, "res.partner", value, "partner", by_text).commercial_partner_id


def resolve_analytic(env, value):
    """The analytic account ``value`` designates (an id, a code or a name)."""
    current = env.company

    def by_text(Analytic, text):
        analytic = Analytic.search(
            Domain("company_id", "in", [current.id, False])
            & (toolkit.exact("code", text) | toolkit.exact("name", text))
        )
        if not analytic:
            raise ToolInputError(f"no analytic account {text!r} in {current.name}")
        if len(analytic) > 1:
            raise toolkit.ambiguous("analytic account", text, analytic)
        return analytic

    analytic = _lookup(env, "account.analytic.account", value, "analytic account", by_text)
    return _of_session_company(env, analytic, f"analytic account {analytic.display_name}")


def account_types(ctx, values):
    """Check account type codes against the ones this database knows."""
    known = dict(ctx.env["account.account"]._fields["account_type"]._description_selection(ctx.env))
    unknown = [value for value in values if value not in known]
    if unknown:
        raise ToolInputError(f"unknown account type(s) {', '.join(unknown)}; known types: {', '.join(known)}")
    return list(values)


limit = toolkit.row_limit

PARTNER_FILTER = Filter("partner", resolve_partner, "partner_id", "child_of")
JOURNAL_FILTER = Filter("journal", resolve_journal, "journal_id")
ANALYTIC_FILTER = Filter("analytic_account", resolve_analytic, "analytic_distribution", "in", lambda a: a.ids)
