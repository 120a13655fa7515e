"""Pure helpers of ai_agents_finance: date ranges, cash-flow buckets, statement matching."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from finance_engine import (
    AGING_BUCKETS,
    BALANCE_SHEET,
    PROFIT_AND_LOSS,
    FinanceInputError,
    OpenItem,
    StatementLine,
    aging_bucket,
    bucket_end,
    bucket_start,
    bucket_starts,
    cash_flow_rows,
    comparison_range,
    normalize_reference,
    parse_range,
    profit_figures,
    score,
    statement_sections,
    suggest,
)

from .source_checks import files_importing_odoo

ADDON = Path(__file__).resolve().parents[1] / "ai_agents_finance"
TODAY = date(2019, 6, 15)


# === DATE RANGES === #


def test_date_to_defaults_to_today_and_date_from_stays_open():
    assert parse_range(None, None, default_to=TODAY) == (None, TODAY)
    assert parse_range("2019-01-01", "2019-01-31", default_to=TODAY) == (date(2019, 1, 1), date(2019, 1, 31))


@pytest.mark.parametrize(
    ("date_from", "date_to", "message"),
    [
        (
            "2019-03-01",
            "2019-01-01",
            "date_from 2019-03-01 is after date_to 2019-01-01: the range is reversed",
        ),
        ("2019-07-01", None, "date_from 2019-07-01 is after date_to 2019-06-15"),
        ("March 1st", None, "date_from must be a date as YYYY-MM-DD, not 'March 1st'"),
        (None, "2019-02-30", "date_to must be a date as YYYY-MM-DD, not '2019-02-30'"),
    ],
)
def test_bad_ranges_say_what_is_wrong(date_from, date_to, message):
    with pytest.raises(FinanceInputError, match=message):
        parse_range(date_from, date_to, default_to=TODAY)


# === BUCKETS === #


@pytest.mark.parametrize(
    ("day", "granularity", "week_start", "expected"),
    [
        (date(2019, 1, 16), "day", 1, date(2019, 1, 16)),
        (date(2019, 1, 16), "week", 1, date(2019, 1, 14)),  # a Wednesday: Monday weeks
        (date(2019, 1, 16), "week", 7, date(2019, 1, 13)),  # Sunday weeks (en_US)
        (date(2019, 1, 13), "week", 7, date(2019, 1, 13)),  # a Sunday starts its own week
        (date(2019, 1, 13), "week", 1, date(2019, 1, 7)),
        (date(2019, 1, 19), "week", 6, date(2019, 1, 19)),  # Saturday weeks
        (date(2019, 2, 28), "month", 1, date(2019, 2, 1)),
    ],
)
def test_bucket_start(day, granularity, week_start, expected):
    assert bucket_start(day, granularity, week_start) == expected


def test_bucket_end_knows_month_lengths():
    assert bucket_end(date(2020, 2, 1), "month") == date(2020, 2, 29)
    assert bucket_end(date(2019, 2, 1), "month") == date(2019, 2, 28)
    assert bucket_end(date(2019, 1, 13), "week") == date(2019, 1, 19)


def test_bucket_starts_cover_the_range_across_a_year_end():
    assert bucket_starts(date(2018, 11, 15), date(2019, 2, 1), "month") == [
        date(2018, 11, 1),
        date(2018, 12, 1),
        date(2019, 1, 1),
        date(2019, 2, 1),
    ]
    assert bucket_starts(date(2018, 12, 31), date(2019, 1, 7), "week") == [
        date(2018, 12, 31),
        date(2019, 1, 7),
    ]


def test_unknown_granularity_is_an_input_error():
    with pytest.raises(FinanceInputError, match="granularity must be one of day, week, month"):
        bucket_start(TODAY, "quarter")


# === CASH FLOW === #


def test_cash_flow_rows_chain_closing_to_opening_and_keep_empty_periods():
    rows = cash_flow_rows(
        100.0,
        {date(2019, 1, 1): (50.0, 20.0), date(2019, 3, 1): (0.0, 200.0)},
        date(2019, 1, 10),
        date(2019, 3, 20),
        "month",
    )
    assert [
        (r["start"], r["end"], r["opening"], r["inflows"], r["outflows"], r["closing"]) for r in rows
    ] == [
        ("2019-01-10", "2019-01-31", 100.0, 50.0, 20.0, 130.0),
        ("2019-02-01", "2019-02-28", 130.0, 0.0, 0.0, 130.0),
        ("2019-03-01", "2019-03-20", 130.0, 0.0, 200.0, -70.0),
    ]


def test_cash_flow_rounds_to_the_currency_and_never_shows_minus_zero():
    rows = cash_flow_rows(
        0.1 + 0.2 - 0.3, {date(2019, 1, 1): (0.1 + 0.2, 0.3)}, date(2019, 1, 1), date(2019, 1, 1), "day"
    )
    assert rows == [
        {
            "start": "2019-01-01",
            "end": "2019-01-01",
            "opening": 0.0,
            "inflows": 0.3,
            "outflows": 0.3,
            "closing": 0.0,
        }
    ]
    assert str(rows[0]["opening"]) == "0.0"
    yen = cash_flow_rows(10.4, {}, date(2019, 1, 1), date(2019, 1, 1), "day", digits=0)
    assert yen[0]["closing"] == 10.0


def test_movements_grouped_with_another_week_start_are_refused():
    # The ORM grouped by Sunday weeks, the buckets are Monday weeks: a silent mismatch would
    # drop movements, so it fails loudly.
    with pytest.raises(ValueError, match="outside the buckets"):
        cash_flow_rows(
            0.0, {date(2019, 1, 13): (1.0, 0.0)}, date(2019, 1, 7), date(2019, 1, 20), "week", week_start=1
        )


# === MATCHING === #

PAYMENT = StatementLine(1, 1150.0, "Payment INV/2019/00001 thanks", partner_id=7)


def test_references_compare_without_case_or_punctuation():
    assert normalize_reference(" inv/2019 00001-a ") == "INV201900001A"
    assert normalize_reference(None) == ""


@pytest.mark.parametrize(
    ("item", "confidence", "reasons"),
    [
        (
            OpenItem(10, 1150.0, ("INV/2019/00001",), 7),
            0.99,
            (
                "amount 1150.00 equals the open amount",
                "reference INV/2019/00001 appears in the bank label",
                "same partner",
            ),
        ),
        (OpenItem(10, 1150.0, ("INV/2019/00001",), 8), 0.9, None),
        (
            OpenItem(10, 1150.0, ("INV/2019/00002",), 7),
            0.7,
            ("amount 1150.00 equals the open amount", "same partner"),
        ),
        (OpenItem(10, 575.0, ("inv 2019/00001",), 7), 0.6, None),  # a partial payment quoting the invoice
        (OpenItem(10, 1150.0, (), None), 0.5, None),
        (OpenItem(10, 999.0, (), 7), 0.2, ("same partner",)),
        (OpenItem(10, 1150.004, (), None), 0.5, None),  # within half a cent
        (OpenItem(10, 1150.01, (), None), 0.0, ()),
        (OpenItem(10, None, ("INV/2019/00001",), None), 0.4, None),  # another currency: no amount signal
        (OpenItem(10, -1150.0, (), None), 0.0, ()),  # a refund is not paid by money received
    ],
)
def test_score(item, confidence, reasons):
    got_confidence, got_reasons = score(PAYMENT, item)
    assert got_confidence == confidence
    if reasons is not None:
        assert got_reasons == reasons


def test_short_or_digitless_references_do_not_match_by_accident():
    line = StatementLine(1, 10.0, "PAYMENT 12 OF INVOICE")
    assert score(line, OpenItem(1, None, ("12",)))[0] == 0.0
    assert score(line, OpenItem(1, None, ("PAYMENT",)))[0] == 0.0


def test_suggest_returns_the_best_candidate_with_its_alternatives():
    items = [
        OpenItem(1, 1150.0, (), None),
        OpenItem(2, 1150.0, ("INV/2019/00001",), 7),
        OpenItem(3, 5.0, (), 7),
    ]
    suggestion = suggest(PAYMENT, items)
    assert (suggestion.item_id, suggestion.confidence, suggestion.level) == (2, 0.99, "high")
    # Item 1 (amount only, 0.5) is above the threshold; item 3 (partner only, 0.2) is not.
    assert suggestion.alternatives == 1


def test_equal_candidates_lower_the_confidence_and_the_oldest_wins():
    line = StatementLine(1, 500.0, "transfer", partner_id=7)
    items = [OpenItem(1, 500.0, (), 7), OpenItem(2, 500.0, (), 7)]
    suggestion = suggest(line, items)
    assert suggestion.item_id == 1
    assert (suggestion.confidence, suggestion.level) == (0.42, "low")
    assert suggestion.reasons[-1] == "1 other open item(s) match the same way"


def test_nothing_above_the_threshold_is_no_suggestion():
    line = StatementLine(1, 250.0, "Unknown deposit")
    assert suggest(line, [OpenItem(1, 1150.0, ("INV/2019/00001",), 7)]) is None
    assert suggest(line, []) is None
    assert suggest(PAYMENT, [OpenItem(1, 1150.0, (), 7)], min_confidence=0.8) is None


# === REPORTS === #


@pytest.mark.parametrize(
    ("days", "key"),
    [
        (-30, "not_due"),
        (0, "not_due"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (90, "61-90"),
        (91, "91-120"),
        (120, "91-120"),
        (121, "older"),
        (4000, "older"),
    ],
)
def test_aging_buckets_are_odoos_columns(days, key):
    assert aging_bucket(days).key == key


def test_aging_buckets_follow_each_other_without_gap():
    assert [bucket.key for bucket in AGING_BUCKETS] == [
        "not_due",
        "1-30",
        "31-60",
        "61-90",
        "91-120",
        "older",
    ]
    for before, after in zip(AGING_BUCKETS, AGING_BUCKETS[1:], strict=False):
        assert after.low == before.high + 1


@pytest.mark.parametrize(
    ("start", "end", "mode", "expected"),
    [
        # Whole months: the same number of months just before.
        (date(2019, 3, 1), date(2019, 3, 31), "previous_period", (date(2019, 2, 1), date(2019, 2, 28))),
        (date(2019, 4, 1), date(2019, 6, 30), "previous_period", (date(2019, 1, 1), date(2019, 3, 31))),
        (date(2019, 1, 1), date(2019, 12, 31), "previous_period", (date(2018, 1, 1), date(2018, 12, 31))),
        (date(2020, 3, 1), date(2020, 3, 31), "previous_period", (date(2020, 2, 1), date(2020, 2, 29))),
        # Any other range: the same number of days just before.
        (date(2019, 3, 10), date(2019, 3, 19), "previous_period", (date(2019, 2, 28), date(2019, 3, 9))),
        (date(2019, 3, 1), date(2019, 3, 15), "previous_period", (date(2019, 2, 14), date(2019, 2, 28))),
        # A year earlier; month ends stay month ends.
        (date(2020, 1, 1), date(2020, 2, 29), "previous_year", (date(2019, 1, 1), date(2019, 2, 28))),
        (date(2019, 1, 1), date(2019, 2, 28), "previous_year", (date(2018, 1, 1), date(2018, 2, 28))),
        (date(2021, 2, 1), date(2021, 2, 28), "previous_year", (date(2020, 2, 1), date(2020, 2, 29))),
        (date(2019, 5, 5), date(2019, 5, 20), "previous_year", (date(2018, 5, 5), date(2018, 5, 20))),
        (date(2019, 5, 5), date(2019, 5, 20), "none", None),
    ],
)
def test_comparison_periods(start, end, mode, expected):
    assert comparison_range(start, end, mode) == expected


def test_unknown_comparison_is_refused():
    with pytest.raises(FinanceInputError, match="comparison must be one of"):
        comparison_range(date(2019, 1, 1), date(2019, 1, 31), "last_decade")


def test_statement_sections_sign_sort_and_skip_empty_accounts():
    rows = [
        {"code": "400000", "name": "Sales", "type": "income", "current": -1000.0, "previous": -800.0},
        {"code": "400100", "name": "Services", "type": "income", "current": -3000.0, "previous": 0.0},
        {"code": "600000", "name": "Rent", "type": "expense", "current": 500.0, "previous": 500.0},
        {
            "code": "610000",
            "name": "Depreciation",
            "type": "expense_depreciation",
            "current": 0.1,
            "previous": 0,
        },
        {"code": "620000", "name": "Unused", "type": "expense", "current": 0.0, "previous": 0.0},
        {"code": "101000", "name": "Bank", "type": "asset_cash", "current": 99.0, "previous": 0.0},
    ]
    sections = statement_sections(PROFIT_AND_LOSS, rows, ("current", "previous"))
    assert sections["income"]["totals"] == {"current": 4000.0, "previous": 800.0}
    assert [a["code"] for a in sections["income"]["accounts"]] == ["400100", "400000"]
    assert sections["expenses"]["totals"] == {"current": 500.1, "previous": 500.0}
    assert [a["code"] for a in sections["expenses"]["accounts"]] == ["600000", "610000"]
    assert sections["other_income"] == {
        "label": "Other income",
        "totals": {"current": 0.0, "previous": 0.0},
        "accounts": [],
    }
    totals = {key: section["totals"]["current"] for key, section in sections.items()}
    assert profit_figures(totals) == {"gross_profit": 4000.0, "net_profit": 3499.9}


def test_every_account_type_of_the_statements_is_in_one_section_only():
    for statement in (PROFIT_AND_LOSS, BALANCE_SHEET):
        types = [account_type for section in statement for account_type in section.account_types]
        assert len(types) == len(set(types))
    pl = {t for section in PROFIT_AND_LOSS for t in section.account_types}
    bs = {t for section in BALANCE_SHEET for t in section.account_types}
    assert not pl & bs


# === ISOLATION === #


def test_import_finance_engine_loads_no_odoo_module():
    code = "import json, sys, finance_engine; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ADDON, capture_output=True, text=True, check=True
    ).stdout
    modules = set(json.loads(out))
    assert "finance_engine.matching" in modules
    assert not {name for name in modules if name == "odoo" or name.startswith("odoo.")}


def test_no_source_file_of_finance_engine_imports_odoo():
    assert files_importing_odoo(ADDON / "finance_engine") == []
