from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta

from odoo import fields, models
from odoo.tools import SQL

# Prices are per one million tokens (or per call) with six decimals, stored as PostgreSQL numeric.
PRICE_DIGITS = (16, 6)
PER_MILLION = Decimal(1_000_000)
ONE = Decimal(1)
# Statement line kinds: the ledger's kind and which of its sums (index) and prices they use.
TOKEN_KINDS = (
    ("tokens_input", 0, "price_input"),
    ("tokens_output", 1, "price_output"),
    ("tokens_cache_read", 2, "price_cache_read"),
    ("tokens_cache_write", 3, "price_cache_write"),
)
# Calls are priced per event: VersionPrices.tool_call / .kb_query.
CALL_KINDS = ("tool_call", "kb_query")
TOKEN_COLUMNS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
CALLS = 4  # index of the event count in a usage group's sums
LINE_KINDS = [
    ("tokens_input", "Input tokens"),
    ("tokens_output", "Output tokens"),
    ("tokens_cache_read", "Cache read tokens"),
    ("tokens_cache_write", "Cache write tokens"),
    ("tool_call", "Tool calls"),
    ("kb_query", "Knowledge queries"),
    ("quota", "Included monthly quota"),
]
KIND_ORDER = {kind: index for index, (kind, _label) in enumerate(LINE_KINDS)}
TOKEN_PRICE_FIELDS = ["price_input", "price_output", "price_cache_read", "price_cache_write"]


def month_start(day):
    """The first day of the month of ``day`` (a date or a naive UTC datetime)."""
    if isinstance(day, datetime):
        day = day.date()
    return day.replace(day=1)


def month_bounds(period_start):
    """[start, stop) of the month beginning on ``period_start``, as naive UTC datetimes."""
    start = datetime.combine(period_start, time.min)
    return start, start + relativedelta(months=1)


def round_to_currency(amount, currency):
    """Round a Decimal to the currency's rounding, half away from zero (as Odoo rounds)."""
    rounding = Decimal(str(currency.rounding))
    return ((amount / rounding).quantize(ONE, rounding=ROUND_HALF_UP) * rounding).quantize(
        Decimal(1).scaleb(-currency.decimal_places)
    )


@dataclass
class VersionPrices:
    """One plan version's prices as exact Decimals, read from their numeric columns."""

    date_from: date
    default: dict
    tool_call: Decimal
    kb_query: Decimal
    included: Decimal
    models: dict = field(default_factory=dict)

    def token_prices(self, model_name):
        return self.models.get(model_name, self.default)


class AiaBillingPlan(models.Model):
    _name = "aia.billing.plan"
    _description = "AI Billing Plan"
    _order = "name, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        string="Seller",
        index=True,
        help="The company that sells this plan and issues its invoices. Empty: a plan shared by "
        "every company, each of which invoices its own customer.",
    )
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.company.currency_id
    )
    product_id = fields.Many2one(
        "product.product",
        string="Invoiced product",
        required=True,
        default=lambda self: self.env.ref("ai_billing.product_ai_usage", raise_if_not_found=False),
        help="Invoice lines use this product: its income account and its taxes.",
    )
    version_ids = fields.One2many("aia.billing.plan.version", "plan_id", string="Versions")
    subscriber_ids = fields.One2many(
        "res.company", "aia_billing_plan_id", string="Companies on this plan", readonly=True
    )

    # === BUSINESS METHODS === #

    def _aia_version_at(self, day):
        """The version in force on ``day`` (a date), or an empty recordset."""
        self.ensure_one()
        return self.env["aia.billing.plan.version"].search(
            [("plan_id", "=", self.id), ("date_from", "<=", day)], order="date_from desc", limit=1
        )

    def _aia_version_segments(self, date_from, date_to):
        """``[(version_id, start, stop)]``: when each version is in force between ``date_from`` and
        ``date_to`` (naive UTC datetimes). A version starts at 00:00 UTC on its day and runs until
        the next one; before the first version the plan is not in force."""
        self.ensure_one()
        versions = self.env["aia.billing.plan.version"].search_fetch(
            [("plan_id", "=", self.id)], ["date_from"], order="date_from"
        )
        starts = [datetime.combine(version.date_from, time.min) for version in versions]
        segments = []
        for version, start, stop in zip(versions, starts, [*starts[1:], None], strict=True):
            start = max(start, date_from)
            stop = min(stop, date_to) if stop else date_to
            if start < stop:
                segments.append((version.id, start, stop))
        return segments

    def _aia_usage_groups(self, company, date_from, date_to, user=None, agent=None):
        """Sum the ledger between ``date_from`` and ``date_to`` in one SQL ``GROUP BY``, each event
        under the plan version in force at its date.

        One scan groups the events by agent, kind and model, with one set of sums per version
        ``FILTER``-ed to the version's dates. (Grouping on a computed version instead defeats the
        planner's estimate of the number of groups: it then sizes the aggregate for a million
        groups and takes three times as long.) Events before the plan's first version are not
        billed.

        Returns:
            ``{(version_id, agent_id, kind, model_name): [input, output, cache read, cache write,
            events]}``; ``model_name`` is "" for anything but provider calls.
        """
        self.ensure_one()
        segments = self._aia_version_segments(date_from, date_to)
        if not segments:
            return {}
        conditions = [
            SQL("event.company_id = %s", company.id),
            SQL("event.date >= %s", segments[0][1]),
            SQL("event.date < %s", segments[-1][2]),
        ]
        if user:
            conditions.append(SQL("event.user_id = %s", user.id))
        if agent:
            conditions.append(SQL("event.agent_id = %s", agent.id))
        sums = []
        for _version_id, start, stop in segments:
            in_force = SQL("event.date >= %s AND event.date < %s", start, stop)
            sums.extend(
                SQL("COALESCE(SUM(%s) FILTER (WHERE %s), 0)", SQL.identifier("event", column), in_force)
                for column in TOKEN_COLUMNS
            )
            sums.append(SQL("COUNT(*) FILTER (WHERE %s)", in_force))
        self.env["aia.usage.event"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT event.agent_id, event.kind, event.model_name, %s
                  FROM aia_usage_event event
                 WHERE %s
                 GROUP BY event.agent_id, event.kind, event.model_name
                """,
                SQL(", ").join(sums),
                SQL(" AND ").join(conditions),
            )
        )
        width = len(TOKEN_COLUMNS) + 1
        groups = {}
        for agent_id, kind, model_name, *values in self.env.cr.fetchall():
            model_name = (model_name or "") if kind == "provider_call" else ""
            for index, (version_id, _start, _stop) in enumerate(segments):
                version_sums = values[index * width : (index + 1) * width]
                if not version_sums[CALLS]:
                    continue
                total = groups.setdefault((version_id, agent_id or False, kind, model_name), [0] * width)
                for position, value in enumerate(version_sums):
                    total[position] += int(value)
        return groups

    def _aia_price_book(self):
        """``{version_id: VersionPrices}`` of this plan."""
        self.ensure_one()
        self.env["aia.billing.plan.version"].flush_model()
        self.env["aia.billing.plan.price"].flush_model()
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                SELECT id, date_from, price_input, price_output, price_cache_read, price_cache_write,
                       price_tool_call, price_kb_query, included_amount
                  FROM aia_billing_plan_version
                 WHERE plan_id = %s
                """,
                self.id,
            )
        )
        book = {}
        for version_id, date_from, *prices in cr.fetchall():
            prices = [Decimal(price or 0) for price in prices]
            book[version_id] = VersionPrices(
                date_from=date_from,
                default=dict(zip(TOKEN_PRICE_FIELDS, prices[:4], strict=True)),
                tool_call=prices[4],
                kb_query=prices[5],
                included=prices[6],
            )
        cr.execute(
            SQL(
                """
                SELECT price.version_id, price.model_name, price.price_input, price.price_output,
                       price.price_cache_read, price.price_cache_write
                  FROM aia_billing_plan_price price
                  JOIN aia_billing_plan_version version ON version.id = price.version_id
                 WHERE version.plan_id = %s
                """,
                self.id,
            )
        )
        for version_id, model_name, *prices in cr.fetchall():
            book[version_id].models[model_name] = dict(
                zip(TOKEN_PRICE_FIELDS, [Decimal(price or 0) for price in prices], strict=True)
            )
        return book

    def _aia_price_lines(self, groups, currency):
        """Price usage groups: one line per (version, agent, model, kind) with a quantity.

        ``amount = quantity × unit price`` (÷ 1,000,000 for tokens), exact in Decimal, rounded
        once per line to the currency. Lines come in a stable order, so recomputing the same
        ledger gives the same lines.
        """
        self.ensure_one()
        book = self._aia_price_book()
        lines = []
        for (version_id, agent_id, kind, model_name), sums in groups.items():
            prices = book[version_id]
            if kind == "provider_call":
                token_prices = prices.token_prices(model_name)
                priced = [
                    (line_kind, sums[index], token_prices[price_field], PER_MILLION)
                    for line_kind, index, price_field in TOKEN_KINDS
                ]
            elif kind in CALL_KINDS:
                priced = [(kind, sums[CALLS], getattr(prices, kind), ONE)]
            else:
                continue
            for line_kind, quantity, unit_price, per in priced:
                if not quantity:
                    continue
                lines.append(
                    {
                        "version_id": version_id,
                        "agent_id": agent_id,
                        "model_name": model_name or False,
                        "kind": line_kind,
                        "quantity": quantity,
                        "unit_price": unit_price,
                        "amount": round_to_currency(quantity * unit_price / per, currency),
                    }
                )
        lines.sort(
            key=lambda line: (
                book[line["version_id"]].date_from,
                line["agent_id"] or 0,
                line["model_name"] or "",
                KIND_ORDER[line["kind"]],
            )
        )
        return lines
