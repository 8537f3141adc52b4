"""Reading guide files: decoding, frontmatter, validation and their verdicts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from flows.discover import discover
from flows.parse import ParsedGuide, parse_guide
from flows.quarter import Quarter
from flows.verdict import FileResult, Outcome, Problem
from tests.conftest import SEED, guide_data, guide_text


def parse_ok(text: str | bytes, path: str = "g.md") -> ParsedGuide:
    data = text.encode("utf-8") if isinstance(text, str) else text
    result = parse_guide(path, data)
    assert isinstance(result, ParsedGuide), result
    return result


def parse_bad(text: str | bytes, path: str = "g.md") -> FileResult:
    data = text.encode("utf-8") if isinstance(text, str) else text
    result = parse_guide(path, data)
    assert isinstance(result, FileResult), result
    return result


def test_seed_figures_and_repaired_body() -> None:
    parsed = parse_ok(SEED.read_bytes(), "seeds/twilio.md")
    guide = parsed.guide
    assert guide.key == "twilio/senior-software-engineer"
    assert guide.salary_data_quarter == Quarter(2025, 4)
    sf, denver, london = guide.compensation
    assert (sf.region, sf.base_low, sf.base_high, sf.currency) == (
        "San Francisco, CA (HQ)",
        175000,
        230000,
        "USD",
    )
    assert (london.currency, london.base_low) == ("GBP", 110000)
    assert denver.bonus_pct == 10
    assert "| San Francisco, CA (HQ) | $175K–$230K |" in parsed.body
    assert "£110K–£155K" in parsed.body
    for mojibake in ("â€", "Â£", "Â"):
        assert mojibake not in parsed.body


def test_seed_warnings_name_the_repaired_and_the_lost_lines() -> None:
    parsed = parse_ok(SEED.read_bytes(), "seeds/twilio.md")
    assert [w.describe("seeds/twilio.md") for w in parsed.warnings] == [
        "seeds/twilio.md:53: repaired mojibake in the body on lines "
        "53, 54, 55, 58, 67, 72",
        "seeds/twilio.md:66: mojibake that cannot be repaired (bytes were lost) "
        "on line 66; kept as written",
    ]
    # The heading whose emoji lost bytes is kept as written, not guessed at.
    assert "### ðŸ—ï¸ Twilio CustomerAI Architecture Lever" in parsed.body


def test_all_real_guides_parse_and_dossiers_are_skipped(real_guides: Path) -> None:
    results = [parse_guide(p.as_posix(), p.read_bytes()) for p in discover(real_guides)]
    parsed = [r for r in results if isinstance(r, ParsedGuide)]
    verdicts = [r for r in results if isinstance(r, FileResult)]
    assert len(parsed) == 224
    assert sorted(Path(v.path).name for v in verdicts) == [
        "google-research-dossier.md",
        "meta-research-dossier.md",
        "microsoft-research-dossier.md",
        "nvidia-research-dossier.md",
    ]
    assert {v.outcome for v in verdicts} == {Outcome.SKIPPED}
    # The real variants are all there: both bonus forms, signing bonus, null figures,
    # 1 to 6 regions (the sample's range), eleven currencies, mappings without raw.
    regions = [r for p in parsed for r in p.guide.compensation]
    assert any(r.bonus_low is not None for r in regions)
    assert any(r.signing_bonus_high is not None for r in regions)
    assert any(r.base_low is None for r in regions)
    assert {len(p.guide.compensation) for p in parsed} == {1, 2, 3, 4, 5, 6}
    assert len({r.currency for r in regions}) == 11
    assert any(
        p.guide.level_mapping and p.guide.level_mapping.raw is None for p in parsed
    )


def test_identity_comes_from_the_frontmatter_not_the_path() -> None:
    parsed = parse_ok(guide_text(guide_data()), "somewhere/else.md")
    assert parsed.guide.key == "acme/data-engineer"


def test_no_frontmatter_is_skipped() -> None:
    result = parse_bad("# Research dossier\n\nNo frontmatter here.\n")
    assert result.outcome == Outcome.SKIPPED
    assert result.errors == []


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        (
            "base_low",
            "175,000",
            Problem(
                "must be a whole number, written without quotes or separators "
                "(got '175,000')",
                "compensation[0].base_low",
                13,
            ),
        ),
        (
            "base_low",
            -5,
            Problem("must not be negative (got -5)", "compensation[0].base_low", 13),
        ),
        (
            "base_low",
            95000,
            Problem(
                "base_low (95000) is above base_high (90000)",
                "compensation[0].base_low",
                13,
            ),
        ),
        (
            "currency",
            "eur",
            Problem(
                "must be a three-letter currency code in capitals, like USD "
                "(got 'eur')",
                "compensation[0].currency",
                20,
            ),
        ),
        (
            "bonus_pct",
            150,
            Problem("must be at most 100 (got 150)", "compensation[0].bonus_pct", 17),
        ),
        (
            "bonus_max",
            20,
            Problem(
                "is not a field of a region (a misspelling?)",
                "compensation[0].bonus_max",
                21,
            ),
        ),
    ],
    ids=[
        "text-number",
        "negative",
        "low-above-high",
        "currency",
        "bonus-pct",
        "unknown-key",
    ],
)
def test_region_errors_name_field_and_line(
    field: str, value: object, problem: Problem
) -> None:
    region = dict(guide_data()["compensation"][0])
    region[field] = value
    result = parse_bad(guide_text(guide_data(compensation=[region])))
    assert result.outcome == Outcome.REJECTED
    assert result.guide == "acme/data-engineer"
    assert result.errors == [problem]


def test_every_problem_is_reported_at_once() -> None:
    data = guide_data(salary_data_quarter="Q4 2025", compensation=[])
    del data["company"]
    result = parse_bad(guide_text(data))
    assert {(e.field, e.line) for e in result.errors} == {
        # A missing key is placed at the mapping that lacks it.
        ("company", 2),
        ("salary_data_quarter", 8),
        ("compensation", 10),
    }


def test_checks_across_fields_are_reported_with_the_others() -> None:
    region = {**guide_data()["compensation"][0], "base_low": 95000, "stock_low": -1}
    data = guide_data(compensation=[region], next_review_due=date(2025, 12, 1))
    result = parse_bad(guide_text(data))
    assert [(e.field, e.line, e.message) for e in result.errors] == [
        ("compensation[0].base_low", 13, "base_low (95000) is above base_high (90000)"),
        (
            "next_review_due",
            10,
            "next_review_due (2025-12-01) is before last_updated (2026-01-10)",
        ),
        ("compensation[0].stock_low", 15, "must not be negative (got -1)"),
    ]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("---\ncompany: acme\n", "frontmatter is not closed by a '---' line", 1),
        ("---\n---\nbody\n", "frontmatter is empty", 1),
        ("---\n- a\n- b\n---\nbody\n", "frontmatter must be a mapping, not a list", 1),
        (
            "---\ncompany: [acme\n---\n",
            "invalid YAML: did not find expected ',' or ']' (while parsing a flow "
            "sequence on line 2)",
            3,
        ),
        (
            "---\ncompany: acme\nrole: x\ncompany: other\n---\n",
            "invalid YAML: duplicate key 'company' (first written on line 2)",
            4,
        ),
    ],
    ids=["unclosed", "empty", "list", "broken-yaml", "duplicate-key"],
)
def test_broken_frontmatter_is_rejected_with_its_line(
    text: str, message: str, line: int
) -> None:
    (error,) = parse_bad(text).errors
    assert error.message.startswith(message), error.message
    assert error.line == line


def test_python_tags_are_refused_not_run() -> None:
    text = "---\ncompany: !!python/object/apply:os.system ['echo owned']\n---\n"
    (error,) = parse_bad(text).errors
    assert error.message.startswith(
        "tags are not allowed in a guide (got '!!python/object/apply:os.system')"
    )
    assert (error.field, error.line) == ("company", 2)


def test_byte_order_marks_and_crlf_are_read() -> None:
    text = guide_text(guide_data()).replace("\n", "\r\n")
    plain = parse_ok(guide_text(guide_data()))
    with_bom = parse_ok(b"\xef\xbb\xbf" + text.encode("utf-8"))
    utf16 = parse_ok(text.encode("utf-16"))
    assert with_bom.guide == plain.guide == utf16.guide
    assert with_bom.body == plain.body == utf16.body


def test_invalid_utf8_names_the_byte() -> None:
    # UTF-8 elsewhere in the file: not read as Windows-1252 (tests/test_hostile.py).
    data = guide_text(guide_data(), body="Zürich\n").encode("utf-8") + b"\xff\n"
    (error,) = parse_bad(data).errors
    assert error.message.startswith(f"not valid UTF-8 at byte {len(data) - 2} (0xFF)")
