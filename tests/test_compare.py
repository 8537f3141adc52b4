"""Quarter-over-quarter comparison and change kinds: pure functions, exact figures."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from flows.compare import Change, Flag, compare, headline, match_regions, region_key
from flows.guide import Guide
from flows.quarter import Quarter
from flows.snapshot import ChangeKind, classify, snapshot_of
from tests.conftest import guide_data

Q4, Q1 = Quarter(2025, 4), Quarter(2026, 1)


def region(
    name: str = "Berlin", currency: str = "EUR", **figures: Any
) -> dict[str, Any]:
    return {"region": name, "currency": currency, **figures}


def test_figures_in_the_same_currency_get_delta_and_percent() -> None:
    result = compare(
        Q4,
        [region(base_low=70000, base_high=90000, bonus_pct=10)],
        Q1,
        [region(base_low=73500, base_high=90000, bonus_pct=12.5)],
    )
    assert result.changes == [
        Change("Berlin", "base_low", "EUR", 70000, 73500, 3500, 5.0),
        Change("Berlin", "base_high", "EUR", 90000, 90000, 0, 0.0),
        Change("Berlin", "bonus_pct", "EUR", 10, 12.5, 2.5, 25.0),
    ]
    assert (
        headline(result)
        == "2025-Q4 → 2026-Q1: Berlin base +5.0%/+0.0%, bonus % +2.5 pt"
    )


def test_null_figures_get_no_delta_never_zero() -> None:
    result = compare(
        Q4, [region(stock_low=None, base_low=1)], Q1, [region(stock_low=5, base_low=1)]
    )
    assert result.changes == [
        Change("Berlin", "base_low", "EUR", 1, 1, 0, 0.0),
        Change("Berlin", "stock_low", "EUR", None, 5, None, None, Flag.MISSING_VALUE),
    ]


def test_a_currency_change_is_flagged_without_percent() -> None:
    result = compare(
        Q4, [region(currency="GBP", base_low=100)], Q1, [region(base_low=120)]
    )
    assert result.changes == [
        Change("Berlin", "base_low", "EUR", 100, 120, None, None, Flag.CURRENCY_CHANGED)
    ]
    assert headline(result).endswith("Berlin now in EUR")


def test_regions_added_and_removed_are_not_percentages() -> None:
    result = compare(
        Q4,
        [region("Berlin", base_low=1), region("Munich", base_low=1)],
        Q1,
        [region(":de: berlin ", base_low=1), region("Paris", base_low=2)],
    )
    assert [(c.region, c.field, c.flag) for c in result.changes] == [
        (":de: berlin ", "base_low", None),
        ("Paris", "region", Flag.REGION_ADDED),
        ("Munich", "region", Flag.REGION_REMOVED),
    ]
    assert headline(result) == "2025-Q4 → 2026-Q1: Paris added; Munich removed"


def test_a_zero_base_gets_an_absolute_delta_only() -> None:
    result = compare(Q4, [region(bonus_low=0)], Q1, [region(bonus_low=5000)])
    assert result.changes == [Change("Berlin", "bonus_low", "EUR", 0, 5000, 5000, None)]
    assert headline(result) == "2025-Q4 → 2026-Q1: Berlin bonus +5,000"


def test_a_gap_between_quarters_is_labelled() -> None:
    result = compare(Quarter(2025, 2), [region(base_low=1)], Q4, [region(base_low=1)])
    assert result.span == 2
    assert headline(result) == "2025-Q2 → 2025-Q4 (2 quarters): figures unchanged"


def test_one_region_under_several_spellings() -> None:
    names = ["San Francisco, CA (HQ)", "San Francisco, CA", "San Francisco (USD)"]
    assert {region_key(n) for n in names} == {"san francisco"}
    assert region_key(":gb: London  (GBP)") == region_key("london")
    for old in names:
        for new in names:
            ((before, after),) = match_regions([region(old)], [region(new)])
            assert (before, after) == (region(old), region(new))


def test_regions_that_share_a_key_in_one_guide_stay_apart() -> None:
    before = [region("London"), region("London (DeepMind)")]
    after = [region("London (DeepMind)"), region("london")]
    assert match_regions(before, after) == [
        (region("London (DeepMind)"), region("London (DeepMind)")),
        (region("London"), region("london")),
    ]
    # With one of them gone, the other is not taken for it.
    assert match_regions(before, [region("London (DeepMind)")]) == [
        (region("London (DeepMind)"), region("London (DeepMind)")),
        (region("London"), None),
    ]


def test_quarter_arithmetic() -> None:
    assert Quarter.parse("2025-Q4").shift(1) == Q1
    assert Q1.quarters_since(Quarter(2024, 1)) == 8
    assert Quarter.of(date(2026, 2, 23)) == Q1
    assert sorted([Q1, Q4]) == [Q4, Q1]
    with pytest.raises(ValueError, match="not a quarter"):
        Quarter.parse("2025-Q5")


def snap(**changes: Any) -> Any:
    body = changes.pop("body", "Body\n")
    return snapshot_of(Guide.model_validate(guide_data(**changes)), body)


def with_base(base_low: int) -> list[dict[str, Any]]:
    regions = guide_data()["compensation"]
    return [{**regions[0], "base_low": base_low}]


@pytest.mark.parametrize(
    ("after", "kind"),
    [
        ({}, None),
        (
            {"salary_data_quarter": "2026-Q1", "compensation": with_base(71000)},
            ChangeKind.UPDATED,
        ),
        ({"compensation": with_base(71000)}, ChangeKind.CORRECTED),
        (
            {"last_updated": date(2026, 2, 1), "next_review_due": date(2026, 5, 1)},
            ChangeKind.REVIEWED,
        ),
        ({"body": "Better prose\n"}, ChangeKind.EDITED),
        ({"data_sources": ["Blind"]}, ChangeKind.EDITED),
    ],
    ids=["same", "updated", "corrected", "reviewed", "edited-prose", "edited-metadata"],
)
def test_change_kinds(after: dict[str, Any], kind: ChangeKind | None) -> None:
    assert classify(snap(), snap(**after)) == kind
    assert classify(None, snap(**after)) == ChangeKind.NEW


def test_spelling_that_does_not_change_meaning_gives_the_same_snapshot() -> None:
    from flows.parse import ParsedGuide, parse_guide

    plain = "---\ncompany: acme\nrole: x\nsalary_data_quarter: 2025-Q4\n"
    plain += "last_updated: 2026-01-10\nnext_review_due: 2026-04-10\n"
    plain += "compensation:\n- {region: Berlin, currency: EUR, base_low: 175000}\n"
    plain += "---\nBody\n"
    respelled = "---\r\nrole: x\r\ncompany: acme\r\nnext_review_due: 2026-04-10\r\n"
    respelled += "last_updated: 2026-01-10\r\nsalary_data_quarter: 2025-Q4\r\n"
    respelled += (
        "compensation:\r\n- {base_low: 175_000, currency: EUR, region: Berlin, "
    )
    respelled += "stock_low: null}\r\n---\r\n\r\nBody   \r\n\r\n"
    a, b = (parse_guide("g.md", t.encode()) for t in (plain, respelled))
    assert isinstance(a, ParsedGuide) and isinstance(b, ParsedGuide)
    assert (
        snapshot_of(a.guide, a.body).content_hash
        == snapshot_of(b.guide, b.body).content_hash
    )


def test_a_decimal_percentage_moves_by_what_was_written() -> None:
    result = compare(Q4, [region(bonus_pct=16.8)], Q1, [region(bonus_pct=20)])
    assert result.changes == [
        Change("Berlin", "bonus_pct", "EUR", 16.8, 20, 3.2, 19.05)
    ]
