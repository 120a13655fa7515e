from . import (
    test_adversarial_injection,
    test_agents,
    test_campaign_metrics,
    test_conversion_rates,
    test_deal_velocity,
    test_invoicing_status,
    test_lead_scoring,
    test_pipeline_overview,
    test_pipeline_value,
    test_quotations_pipeline,
    test_top_customers,
    test_upsell,
)
