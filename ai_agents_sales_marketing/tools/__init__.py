"""The Sales and Marketing agents' tools, registered in ai_core's catalogue when this package is
imported."""

from . import campaigns, conversion, customers, overview, pipeline, scoring, upsell, velocity
