"""What the warehouse tools share: their declaration (the Inventory requirement, the row limit),
the references to records of the session's company the model may give, and compact number
formatting. Record lookup, filters, limits and the rights check are ai_core's toolkit.

Everything runs in the session user's environment (``ctx.env``, never sudo); ``ctx.env.company``
is the session's company and scopes every read.
"""

import re
from collections import defaultdict

from odoo.fields import Domain
from odoo.tools import SQL, float_round

from odoo.addons.ai_core.ai_engine import ToolInputError
from odoo.addons.ai_core.tools import Filter, RecordRef, Requires, apply_filters, toolkit

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

# Sales and consumption: what "outgoing" means for slow-moving stock. Internal transfers, scrap and
# inventory adjustments leave stock where it is or correct it; they are not demand.
OUTGOING_USAGES = ("customer", "production")

# Odoo lets any internal user read stock.quant (on-hand figures on product forms), so the ORM
# alone would not stop GetStockLevels; the Warehouse agent's answers are inventory data.
INVENTORY_USER = Requires(groups=("stock.group_stock_user",))


def company_domain(env, field="company_id"):
    return Domain(field, "in", [env.company.id, False])


PRODUCT_REF = RecordRef(
    "product.product",
    "product",
    exact=("default_code", "barcode", "name"),
    case_sensitive=("barcode",),
    domain=company_domain,
    in_company=True,
)
CATEGORY_REF = RecordRef(
    "product.category", "product category", exact=("complete_name", "name"), fuzzy="complete_name"
)
LOCATION_REF = RecordRef(
    "stock.location",
    "location",
    exact=("complete_name", "barcode", "name"),
    fuzzy="complete_name",
    case_sensitive=("barcode",),
    domain=lambda env: (
        Domain("company_id", "=", env.company.id) & Domain("usage", "in", ("internal", "view"))
    ),
    in_company=True,
)
WAREHOUSE_REF = RecordRef(
    "stock.warehouse",
    "warehouse",
    exact=("code", "name"),
    domain=lambda env: Domain("company_id", "=", env.company.id),
    in_company=True,
)
PARTNER_REF = toolkit.partner_ref("partner", domain=company_domain, in_company=True)

PRODUCT = toolkit.ref_schema("Product: id, internal reference, barcode or name.")
CATEGORY = toolkit.ref_schema(
    "Product category: id, name or full name (e.g. 'All / Saleable'); includes subcategories."
)
LOCATION = toolkit.ref_schema(
    "Internal location: id, full name (e.g. 'WH/Stock') or barcode; includes sublocations."
)
WAREHOUSE = toolkit.ref_schema("Warehouse: id, short code (e.g. 'WH') or name.")
LIMIT = toolkit.limit_schema(DEFAULT_LIMIT, MAX_LIMIT, "rows (top N)")


# Every warehouse tool is an Inventory user's and answers with the top N rows.
inventory_tool = toolkit.tool_family(requires=INVENTORY_USER, limit=LIMIT)


def product_filter(field="product_id"):
    return Filter("product", PRODUCT_REF, field)


def category_filter(field="product_id.categ_id"):
    return Filter("category", CATEGORY_REF, field, "child_of")


def warehouse_filter(field):
    return Filter("warehouse", WAREHOUSE_REF, field)


def limit(args):
    return toolkit.row_limit(args, DEFAULT_LIMIT, MAX_LIMIT)


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


name = toolkit.name
session_company = toolkit.session_company


def utc(value):
    """A datetime as an ISO string in UTC, or None."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else None


# === NAMES OF THE ROWS SHOWN === #
# For the rows shown only, and only the columns shown: the first field read of a record otherwise
# fetches every column of its table (of product.template too, for a product) for all the records,
# and Odoo's product display name checks the access rules in Python; most of a tool's time.
# Product names are built from their name columns as Odoo builds them, or left to Odoo.


def fetch_units(products, template_fields=()):
    """``products`` with their unit's name, and ``template_fields`` of their templates, in the cache."""
    products.fetch(["product_tmpl_id"])
    templates = products.product_tmpl_id
    templates.fetch(["uom_id", *template_fields])
    templates.uom_id.fetch(["name"])
    return products


def plain_product_names(env):
    """Whether the context leaves a product's display name Odoo's plain ``[CODE] Name``."""
    context = env.context
    return context.get("display_default_code", True) and not any(
        context.get(key) for key in ("formatted_display_name", "partner_id", "seller_id")
    )


def odoo_record(model, record_id, readable=True):
    """The record ``record_id`` of ``model`` (archived ones too), to read with Odoo's own fields;
    checked first when the ORM's query did not find it readable (``readable`` false), which raises
    Odoo's access error: a field in the cache (read with other rights, e.g. as superuser) is
    returned without any check."""
    record = model.with_context(active_test=False).browse(record_id)
    if not readable:
        record.check_access("read")
    return record


def product_display_name(env, product_id, code, name, variant, plain=None):
    """Odoo's display name of a product from its name columns (``[CODE] Name``), or, for a variant
    with attributes (their values in its name), in a context that changes the names or for a
    product not read (``name`` None), Odoo's own computation (or its access error). ``plain``:
    ``plain_product_names(env)``, if the caller has it."""
    if plain is None:
        plain = plain_product_names(env)
    if name is None or variant or not plain:
        return odoo_record(env["product.product"], product_id, name is not None).display_name
    return f"[{code}] {name}" if code else name


def product_names(env, product_ids):
    """{product id: Odoo's display name} of ``product_ids``, from the name columns of those the
    user may read (the ORM's query, record rules included): see ``product_display_name``."""
    Product = env["product.product"].with_context(active_test=False)
    query = Product._search(Domain("id", "in", list(product_ids)))
    found = {
        row[0]: row
        for row in env.execute_query(
            query.select(
                *(Product._field_to_sql(query.table, f, query) for f in ("id", "default_code", "name")),
                Product._field_to_sql(query.table, "combination_indices", query),
            )
        )
    }
    return {
        product_id: product_display_name(
            env, product_id, *found.get(product_id, (None, None, None, None))[1:]
        )
        for product_id in product_ids
    }


# The ORM's query of one readable record by id, as a lateral subquery: one place, ai_core's toolkit.
readable_row = toolkit.readable_row


def plain_partner_names(env):
    """Whether the context leaves a partner's display name Odoo's plain ``Company, Contact``: none
    of the keys its computation depends on (an addon may add some), nor the one of
    ``_get_complete_name``, is set; the language only translates the type of an unnamed address."""
    context = env.context
    depends = env.registry.field_depends_context[env["res.partner"]._fields["display_name"]]
    return not any(
        context.get(key) for key in (*depends, "partner_display_name_hide_company") if key != "lang"
    )


def partner_display_name(env, partner_id, readable, name, complete_name, plain=None):
    """Odoo's display name of a partner: its stored ``complete_name`` (``Company, Contact``, what the
    display name computes from the same columns), or, for a partner without a name (an address
    named after its type, in the user's language), in a context that changes the names or for a
    partner the user may not read, Odoo's own computation (or its access error). ``plain``:
    ``plain_partner_names(env)``, if the caller has it."""
    if plain is None:
        plain = plain_partner_names(env)
    if not (readable and name and plain):
        return odoo_record(env["res.partner"], partner_id, readable).display_name
    # As the display name computation leaves it.
    return re.sub(r"\s+\n", "\n", complete_name).strip()


# === QUANTITIES AS ODOO COMPUTES THEM ON A PRODUCT === #
# The product's qty_available / incoming_qty / outgoing_qty / virtual_available (stock's
# ``product.product._compute_quantities_dict``) for the warehouses given, as grouped reads over all
# products at once: Odoo's own method also rounds and fills a dict per product in Python, several
# times slower over thousands of products. The tests compare the two.

TODO_STATES = ("waiting", "confirmed", "assigned", "partially_available")


def stock_scope(env, args, filter_specs, filters):
    """The storable products of the session's company that ``args`` name (``filter_specs``), as
    the ORM's query of the readable ones, and the warehouses ``args`` name (default: all of the
    company's) with their internal locations; what was named is added to ``filters``. The
    warehouses are always named: without them Odoo would take every warehouse of the user's
    allowed companies, not the session's company only.

    Returns (products query, warehouses, locations)."""
    products = Domain("is_storable", "=", True) & company_domain(env)
    products, echo, _records = apply_filters(env, args, filter_specs, products)
    filters.update(echo)
    warehouse = None
    if args.get("warehouse") is not None:
        warehouse = WAREHOUSE_REF(env, args["warehouse"])
        filters["warehouse"] = warehouse.display_name
    warehouses = warehouse or env["stock.warehouse"].search(Domain("company_id", "=", env.company.id))
    return env["product.product"]._search(products), warehouses, warehouse_locations(env, warehouses)


def warehouse_locations(env, warehouses):
    """The locations Odoo counts for ``warehouses``: their view locations and all below (a query)."""
    return (
        env["stock.location"]
        .with_context(active_test=False)
        ._search(Domain("id", "child_of", warehouses.view_location_id.ids))
    )


def filtered_sums(env, model, domain, groupby, sums):
    """[(*group values, *sums)] of ``model``'s records in ``domain`` the user may read (the ORM's
    query, record rules included), grouped by the ``groupby`` specs (ids for many2ones), one
    ``SUM(measure) FILTER (WHERE condition)`` per ``(measure, condition domain)`` of ``sums``
    (None when no record of the group meets it): one scan of the table where ``_read_group``
    needs one per condition."""
    Model = env[model].with_context(active_test=False)
    query = Model._search(domain)
    keys = [Model._read_group_groupby(query.table, spec, query) for spec in groupby]
    terms = [
        SQL(
            "SUM(%s) FILTER (WHERE %s)",
            Model._field_to_sql(query.table, measure, query),
            Domain(condition).optimize_full(Model)._to_sql(Model, query.table, query),
        )
        for measure, condition in sums
    ]
    query.groupby = SQL(", ").join(keys)
    query.order = None
    return env.execute_query(query.select(*keys, *terms))


def on_hand(env, locations, products):
    """{product id: quantity on hand in ``locations``} (quants, in the product's unit)."""
    return dict(
        filtered_sums(
            env,
            "stock.quant",
            Domain("product_id", "in", products) & Domain("location_id", "in", locations),
            ["product_id"],
            [("quantity", Domain.TRUE)],
        )
    )


def planned(env, locations, products, until):
    """({product id: incoming}, {product id: outgoing}): the moves not done (drafts excluded) into or
    out of ``locations`` dated up to ``until``, in the product's unit. A move goes where its final
    destination says when it has one, as in Odoo's forecast."""
    todo = Domain("state", "in", TODO_STATES) & Domain("date", "<=", until)
    into = (Domain("location_final_id", "!=", False) & Domain("location_final_id", "in", locations)) | (
        Domain("location_final_id", "=", False) & Domain("location_dest_id", "in", locations)
    )
    source_in = Domain("location_id", "in", locations)
    incoming, outgoing = {}, {}
    for product_id, qty_in, qty_out in filtered_sums(
        env,
        "stock.move",
        # The conditions in the FILTERs only: an OR of them in the WHERE makes the scan slower.
        Domain("product_id", "in", products) & todo,
        ["product_id"],
        [("product_qty", into & ~source_in), ("product_qty", source_in & ~into)],
    ):
        if qty_in is not None:
            incoming[product_id] = qty_in
        if qty_out is not None:
            outgoing[product_id] = qty_out
    return incoming, outgoing


def done_since(env, locations, products, since, delivered=None):
    """({product id: quantity in}, {product id: quantity out}, {product id: delivered}) of the done
    moves into or out of ``locations`` after ``since``, converted from the move's unit to the
    product's as Odoo does to compute a quantity on hand in the past; delivered: the moves of
    the ``delivered`` domain from ``since`` on (rounded half-up when converted), in the same scan."""
    into, source_in = Domain("location_dest_id", "in", locations), Domain("location_id", "in", locations)
    after = Domain("date", ">", since)
    sums = [("quantity", after & into & ~source_in), ("quantity", after & source_in & ~into)]
    if delivered is not None:
        sums.append(("quantity", Domain("date", ">=", since) & delivered))
    result = tuple(defaultdict(float) for _sum in sums)
    uoms = env["uom.uom"]
    for product_id, uom_id, product_uom_id, *quantities in filtered_sums(
        env,
        "stock.move",
        # The conditions in the FILTERs only: an OR of them in the WHERE makes the scan slower.
        Domain("product_id", "in", products) & Domain("state", "=", "done") & Domain("date", ">=", since),
        ["product_id", "product_uom", "product_id.uom_id"],
        sums,
    ):
        for index, (moved, quantity) in enumerate(zip(result, quantities, strict=True)):
            if quantity is None:
                continue
            # Quantities in the product's own unit are already at its precision.
            if uom_id != product_uom_id:
                rounding = "HALF-UP" if index == 2 else "UP"  # as Odoo's delivered / on hand
                quantity = uoms.browse(uom_id)._compute_quantity(
                    quantity, uoms.browse(product_uom_id), rounding_method=rounding
                )
            moved[product_id] += quantity
    return result
