"""Decimal cost of provider calls from a per-model price table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from .messages import TokenUsage

__all__ = ["COST_QUANTUM", "ModelPrice", "PriceTable"]

COST_QUANTUM = Decimal("0.000001")
_PER_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class ModelPrice:
    """Prices per one million tokens, in the price table's currency."""

    input: Decimal = Decimal(0)
    output: Decimal = Decimal(0)
    cache_read: Decimal = Decimal(0)
    cache_write: Decimal = Decimal(0)

    def cost(self, usage: TokenUsage) -> Decimal:
        """Cost of ``usage``, rounded half-even to six decimals."""
        total = (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_read_tokens * self.cache_read
            + usage.cache_write_tokens * self.cache_write
        )
        return (total / _PER_MILLION).quantize(COST_QUANTUM)


@dataclass(frozen=True)
class PriceTable:
    """Prices by model id, with a default for models not listed."""

    prices: Mapping[str, ModelPrice] = field(default_factory=dict)
    default: ModelPrice = ModelPrice()

    def price(self, model: str) -> ModelPrice:
        return self.prices.get(model, self.default)

    def cost(self, model: str, usage: TokenUsage) -> Decimal:
        return self.price(model).cost(usage)
