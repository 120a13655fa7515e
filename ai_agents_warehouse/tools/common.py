"""What the warehouse tools share: the rights check, resolving names the model gives to records of
the session's company, and compact number formatting.

Everything runs in the session user's environment (``ctx.env``, never sudo); ``ctx.env.company``
is the session's company and scopes every read.
"""

from odoo.exceptions import AccessError
from odoo.fields import Domain
from odoo.tools import float_round

from odoo.addons.ai_core.ai_engine import ToolInputError

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# How many candidates an "ambiguous name" error lists.
CANDIDATES = 5

# Sales and consumption: what "outgoing" means for slow-moving stock. Internal transfers, scrap and
# inventory adjustments leave stock where it is or correct it; they are not demand.
OUTGOING_USAGES = ("customer", "production")

REF = {
    "type": ["integer", "string"],
    "minLength": 1,
}


def ref(description):
    return {**REF, "description": description}


PRODUCT = ref("Product: id, internal reference, barcode or name.")
CATEGORY = ref("Product category: id, name or full name (e.g. 'All / Saleable'); includes subcategories.")
LOCATION = ref("Internal location: id, full name (e.g. 'WH/Stock') or barcode; includes sublocations.")
WAREHOUSE = ref("Warehouse: id, short code (e.g. 'WH') or name.")
LIMIT = {
    "type": "integer",
    "minimum": 1,
    "maximum": MAX_LIMIT,
    "default": DEFAULT_LIMIT,
    "description": f"How many rows to return (top N, 1 to {MAX_LIMIT}).",
}


def check_inventory_user(env):
    """Every tool of the pack needs Inventory / User.

    Odoo lets any internal user read stock.quant (on-hand figures on product forms), so the ORM
    alone would not stop GetStockLevels; the Warehouse agent's answers are inventory data.
    """
    if not env.user.has_group("stock.group_stock_user"):
        raise AccessError(
            env._(
                "%(user)s has no Inventory access (Inventory / User is required to use the warehouse tools).",
                user=env.user.name,
            )
        )


def company_domain(env, field="company_id"):
    return Domain(field, "in", [env.company.id, False])


def _pick(env, model, value, exact_domains, fuzzy_field, label, base_domain):
    """One record of ``model`` from an id or a name, in the session's company.

    Exact matches (by reference, code, full name...) win; otherwise an ``ilike`` on
    ``fuzzy_field`` must match exactly one record.
    """
    Model = env[model]
    # Only a JSON integer is an id: "1001" may well be an internal reference.
    if isinstance(value, int):
        record = Model.search(base_domain & Domain("id", "=", value), limit=1)
        if not record:
            raise ToolInputError(f"unknown {label} id {value} in company {env.company.name}")
        return record
    text = value.strip()
    if not text:
        raise ToolInputError(f"empty {label}")
    for domain in exact_domains(text):
        records = Model.search(base_domain & domain, limit=CANDIDATES + 1)
        if len(records) == 1:
            return records
        if records:
            raise _ambiguous(label, text, records)
    records = Model.search(base_domain & Domain(fuzzy_field, "ilike", text), limit=CANDIDATES + 1)
    if len(records) == 1:
        return records
    if records:
        raise _ambiguous(label, text, records)
    raise ToolInputError(f"unknown {label} {text!r} in company {env.company.name}")


def _ambiguous(label, text, records):
    names = "; ".join(records[:CANDIDATES].mapped("display_name"))
    more = ", ..." if len(records) > CANDIDATES else ""
    return ToolInputError(f"{label} {text!r} is ambiguous: {names}{more}. Give the id or an exact name.")


def resolve_product(env, value):
    return _pick(
        env,
        "product.product",
        value,
        lambda text: (
            Domain("default_code", "=ilike", text),
            Domain("barcode", "=", text),
            Domain("name", "=ilike", text),
        ),
        "name",
        "product",
        company_domain(env),
    )


def resolve_category(env, value):
    return _pick(
        env,
        "product.category",
        value,
        lambda text: (Domain("complete_name", "=ilike", text), Domain("name", "=ilike", text)),
        "complete_name",
        "product category",
        Domain.TRUE,
    )


def resolve_location(env, value):
    return _pick(
        env,
        "stock.location",
        value,
        lambda text: (
            Domain("complete_name", "=ilike", text),
            Domain("barcode", "=", text),
            Domain("name", "=ilike", text),
        ),
        "complete_name",
        "location",
        Domain("company_id", "=", env.company.id) & Domain("usage", "in", ("internal", "view")),
    )


def resolve_warehouse(env, value):
    return _pick(
        env,
        "stock.warehouse",
        value,
        lambda text: (Domain("code", "=ilike", text), Domain("name", "=ilike", text)),
        "name",
        "warehouse",
        Domain("company_id", "=", env.company.id),
    )


def resolve_partner(env, value):
    return _pick(
        env,
        "res.partner",
        value,
        lambda text: (Domain("name", "=ilike", text), Domain("ref", "=ilike", text)),
        "complete_name",
        "partner",
        company_domain(env),
    )


def resolve_lots(env, value, product=None):
    """The lots or serial numbers named ``value`` (a name is unique per product, not overall)."""
    domain = Domain("name", "=", value.strip()) & company_domain(env)
    if product:
        domain &= Domain("product_id", "=", product.id)
    lots = env["stock.lot"].search(domain)
    if not lots:
        raise ToolInputError(f"unknown lot or serial number {value!r} in company {env.company.name}")
    return lots


def quantity_rounder(env):
    digits = env["decimal.precision"].precision_get("Product Unit")
    return lambda value: float_round(value or 0.0, precision_digits=digits)


def name(record):
    """A record's display name, or None for an empty recordset."""
    return record.display_name if record else None


def utc(value):
    """A datetime as an ISO string in UTC, or None."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else None
