"""The Sales and Marketing agents' tools, registered in ai_core's catalogue when this package is
imported."""

from . import (
    activities,
    campaign_revenue,
    campaigns,
    conversion,
    create_quotation,
    customers,
    draft_mailing,
    invoicing,
    lost_reasons,
    mark_lead_lost,
    overview,
    pipeline,
    products,
    quotations,
    schedule_followup,
    scoring,
    upsell,
    velocity,
)
