"""The Sales and Marketing agents' tools, registered in ai_core's catalogue when this package is
imported."""

from . import (
    activities,
    campaign_revenue,
    campaigns,
    conversion,
    customers,
    invoicing,
    lost_reasons,
    overview,
    pipeline,
    products,
    quotations,
    scoring,
    upsell,
    velocity,
)
