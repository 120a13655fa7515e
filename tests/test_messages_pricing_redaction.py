from __future__ import annotations

from decimal import Decimal

from ai_engine.events import ToolResult, Usage
from ai_engine.messages import Message, TextBlock, TokenUsage, ToolUseBlock
from ai_engine.pricing import ModelPrice, PriceTable
from ai_engine.redaction import REDACTED, redact


def test_message_round_trips_through_its_dict_form():
    message = Message(
        "assistant",
        (TextBlock("Checking."), ToolUseBlock("c1", "finance_get_gl_balance", {"account": "6"})),
    )
    again = Message.from_dict(message.to_dict())
    assert again == message
    assert again.tool_uses[0].input == {"account": "6"}
    assert again.text == "Checking."


def test_tool_result_message_round_trips_with_error_flag():
    message = Message.tool_result("c1", "boom", is_error=True)
    assert Message.from_dict(message.to_dict()).tool_results[0].is_error is True


def test_events_serialise_with_type_first_and_decimals_as_strings():
    event = Usage("anthropic", "claude-sonnet-4-6", 1, 2, 3, 4, Decimal("0.000123"), 50)
    data = event.to_dict()
    assert list(data)[0] == "type" and data["type"] == "usage"
    assert data["cost"] == "0.000123"
    assert ToolResult("c", "t", "ok", "x").to_dict()["type"] == "tool_result"


def test_a_usage_event_carries_its_total_as_token_usage_counts_it():
    event = Usage("anthropic", "claude-sonnet-4-6", 1, 2, 30, 400, Decimal(0), 5)
    assert event.tokens == TokenUsage(1, 2, 30, 400)
    assert event.total_tokens == event.tokens.total == 433
    # Served with the event (the chat's running total reads it, never adds the four itself).
    assert event.to_dict()["total_tokens"] == 433


def test_cost_uses_all_four_prices_per_million_tokens():
    price = ModelPrice(Decimal("3"), Decimal("15"), Decimal("0.30"), Decimal("3.75"))
    usage = TokenUsage(
        input_tokens=1_000, output_tokens=500, cache_read_tokens=10_000, cache_write_tokens=2_000
    )
    # 1000*3 + 500*15 + 10000*0.30 + 2000*3.75 = 3000 + 7500 + 3000 + 7500 = 21000 per million
    assert price.cost(usage) == Decimal("0.021000")


def test_cost_is_decimal_and_rounded_to_micro_units():
    price = ModelPrice(input=Decimal("0.8"))
    assert price.cost(TokenUsage(input_tokens=1)) == Decimal("0.000001")  # 0.0000008 rounds half-even
    assert isinstance(price.cost(TokenUsage(input_tokens=1)), Decimal)


def test_price_table_falls_back_to_its_default():
    table = PriceTable({"cheap": ModelPrice(input=Decimal("1"))}, default=ModelPrice(input=Decimal("10")))
    usage = TokenUsage(input_tokens=1_000_000)
    assert table.cost("cheap", usage) == Decimal("1.000000")
    assert table.cost("unknown", usage) == Decimal("10.000000")


def test_token_usage_adds_and_totals():
    total = TokenUsage(1, 2, 3, 4) + TokenUsage(10, 20, 30, 40)
    assert total == TokenUsage(11, 22, 33, 44)
    assert total.total == 110


def test_redact_masks_default_sensitive_keys_at_any_depth():
    data = {
        "login": "ann",
        "password": "hunter2",
        "nested": {"X-Api-Key": "k", "items": [{"bank_iban": "x", "access_token": "t"}]},
        "Secret": "s",
    }
    assert redact(data) == {
        "login": "ann",
        "password": REDACTED,
        "nested": {"X-Api-Key": REDACTED, "items": [{"bank_iban": REDACTED, "access_token": REDACTED}]},
        "Secret": REDACTED,
    }


def test_redact_masks_the_tools_own_keys():
    assert redact({"salary": 5000, "name": "Bob"}, ["salary"]) == {"salary": REDACTED, "name": "Bob"}


def test_redact_masks_valid_card_numbers_and_ibans_inside_text():
    text = "card 4111 1111 1111 1111, iban DE89 3704 0044 0532 0130 00, order 1234567890123"
    masked = redact({"note": text})["note"]
    assert "4111 1111 1111 1111" not in masked and "**** 1111" in masked
    assert "DE89" not in masked
    # Not Luhn-valid: an order number stays readable.
    assert "1234567890123" in masked


def test_redact_does_not_change_its_input():
    data = {"password": "p"}
    redact(data)
    assert data == {"password": "p"}
