from odoo.addons.ai_core.tools import Filter, toolkit

from . import common
from .pending_receipts import pending_transfers

FILTERS = (
    common.warehouse_filter("picking_type_id.warehouse_id"),
    # A customer's contacts and delivery addresses receive for it too.
    Filter(
        "partner",
        common.PARTNER_REF,
        "partner_id",
        "child_of",
        lambda partner: partner.commercial_partner_id.id,
    ),
    common.product_filter("move_ids.product_id"),
)


@common.inventory_tool(
    "warehouse.get_pending_deliveries",
    display_name="GetPendingDeliveries",
    description="Outgoing transfers (deliveries to customers) of the session's company that are not done "
    "or cancelled: reference, customer, source document, scheduled date and deadline (UTC), the date a "
    "late previous operation (a receipt, a pick) now expects the goods when there is one "
    "(expected_delay_date, Odoo's delay alert), a late flag (Odoo's Late filter: ready or waiting, "
    "scheduled before today or with a deadline passed or before the scheduled date; drafts are never "
    "late), whole days past the scheduled date, status (assigned = ready to ship; confirmed or waiting "
    "= goods missing), warehouse, and the products with their quantities and units. Filters: "
    "warehouse, customer, product, late only. Returns the N earliest deliveries, a truncation flag "
    "and counts.",
    properties={
        "warehouse": common.WAREHOUSE,
        "partner": toolkit.ref_schema("Customer: id or name."),
        "product": common.PRODUCT,
        "late_only": {"type": "boolean", "default": False},
    },
)
def get_pending_deliveries(ctx, args):
    return pending_transfers(ctx.env, args, "outgoing", FILTERS, "deliveries", delay_alerts=True)
