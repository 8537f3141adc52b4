"""Properties over generated input: a valid guide comes back exactly as written, from
the parser and from the database, no input whatever makes a parse or a run raise, and
a feed drawn again from its published files is the feed drawn afresh."""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db import store
from db.store import PublishedEvent
from flows.discover import discover
from flows.feeds import Kept, merged_window, published_entries, render_feeds
from flows.guide import FIGURES, ISO_4217, RANGES
from flows.ingest import ingest_folder
from flows.parse import ParsedGuide, parse_guide
from flows.snapshot import snapshot_of
from flows.verdict import FileResult

# Prefect's background threads, left running by the flow tests in this process, may
# touch the global random module while a draw is under way; hypothesis would take that
# for a strategy that depends on it. None of the strategies here do.
pytestmark = pytest.mark.filterwarnings(
    "ignore::hypothesis.errors.HypothesisDeprecationWarning"
)

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,  # nothing written into the project
    suppress_health_check=[HealthCheck.too_slow],
)

SLUG = st.from_regex(r"[a-z0-9]{1,8}(?:-[a-z0-9]{1,8}){0,2}", fullmatch=True)
# Any text a guide may hold: no control characters, line or paragraph separators or
# noncharacters (refused), no surrogates, no replacement character (refused as lost).
TEXT = st.text(
    st.characters(
        exclude_categories=("Cc", "Cs", "Zl", "Zp"),
        exclude_characters="\ufffd\ufffe\uffff",
    ),
    min_size=1,
    max_size=30,
)
# Text that YAML 1.1 would take for something else, or that starts with an indicator.
TRICKY = st.sampled_from(
    [
        "NO",
        "yes",
        "on",
        "Off",
        "~",
        "null",
        "0123",
        "10:15",
        "1e5",
        "1_000",
        ".inf",
        "*HQ",
        "&HQ",
        "!tag",
        "# not a comment",
        "London #2",
        "2026-02-30",
        "2026-01-10T10:00:00Z",
        "---",
        "...",
        "- item",
        "key: value",
        "'quoted'",
        " padded ",
        "Zürich",
        "São Paulo",
        "東京",
        "100%",
        "$175K–$230K",
    ]
)
MONEY = st.integers(min_value=0, max_value=10**15)
PERCENT = st.one_of(
    st.integers(min_value=0, max_value=100),
    st.integers(min_value=0, max_value=10000).map(lambda n: n / 100),
)


@st.composite
def regions(draw: st.DrawFn) -> dict[str, Any]:
    region: dict[str, Any] = {
        "region": draw(st.one_of(TEXT, TRICKY)),
        "currency": draw(st.sampled_from(sorted(ISO_4217))),
    }
    for name in RANGES:
        if name == "bonus" and draw(st.booleans()):
            region["bonus_pct"] = draw(st.one_of(st.none(), PERCENT))
            continue
        if draw(st.booleans()):
            low, high = sorted(draw(st.lists(MONEY, min_size=2, max_size=2)))
            region[f"{name}_low"] = draw(st.sampled_from([low, None]))
            region[f"{name}_high"] = high
    return region


@st.composite
def guides(draw: st.DrawFn) -> dict[str, Any]:
    updated = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
    data: dict[str, Any] = {
        "company": draw(SLUG),
        "role": draw(SLUG),
        "salary_data_quarter": f"{draw(st.integers(1990, 2100))}-Q"
        f"{draw(st.integers(1, 4))}",
        "last_updated": updated,
        "next_review_due": updated + timedelta(days=draw(st.integers(0, 400))),
        "compensation": draw(st.lists(regions(), min_size=1, max_size=6)),
    }
    for key in ("company_display", "role_display", "role_type", "data_quality"):
        if draw(st.booleans()):
            data[key] = draw(st.one_of(TEXT, TRICKY))
    if draw(st.booleans()):
        data["level_mapping"] = {
            "internal": draw(st.one_of(st.none(), TEXT)),
            "raw": draw(st.one_of(st.none(), TEXT, TRICKY)),
        }
    data["data_sources"] = draw(st.lists(st.one_of(TEXT, TRICKY), max_size=4))
    data["negotiation_dna_summary"] = draw(st.one_of(st.none(), TEXT, TRICKY))
    # Keys beyond the known ones are kept as metadata.
    extra = st.one_of(st.none(), st.booleans(), MONEY, TEXT, TRICKY)
    data.update(draw(st.dictionaries(st.sampled_from(["notes", "yes", "x-y"]), extra)))
    return data


@SETTINGS
@given(guides(), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_a_valid_guide_comes_back_exactly(
    data: dict[str, Any], newline: str, bom: bool
) -> None:
    text = "---\n" + yaml.safe_dump(data, allow_unicode=True) + "---\nBody\n"
    raw = text.replace("\n", newline).encode("utf-8")
    parsed = parse_guide("g.md", (b"\xef\xbb\xbf" if bom else b"") + raw)
    assert isinstance(parsed, ParsedGuide), parsed
    assert parsed.warnings == []
    stored = snapshot_of(parsed.guide, parsed.body).frontmatter
    for key, value in data.items():
        if key == "compensation":
            continue
        expected = value.isoformat() if isinstance(value, date) else value
        if expected is None:
            assert key not in stored
        elif key == "level_mapping":
            assert stored[key] == {k: v for k, v in value.items() if v is not None}
        else:
            assert stored[key] == expected, key
    for written, kept in zip(data["compensation"], stored["compensation"], strict=True):
        assert kept["region"] == written["region"]
        assert kept["currency"] == written["currency"]
        for name in FIGURES:
            value = written.get(name)
            assert kept.get(name) == value, name
            assert type(kept.get(name)) is type(value), name  # 10 stays 10, not 10.0


@SETTINGS
@given(st.binary(max_size=3000))
def test_no_bytes_make_the_parser_raise(data: bytes) -> None:
    assert isinstance(parse_guide("g.md", data), FileResult | ParsedGuide)


YAMLISH = st.text(
    st.sampled_from(list("-:[]{}&*!|>'\"#%@`,?.~ \t\n0123456789aeNOy\ufffd\x07\x85")),
    max_size=300,
)


@SETTINGS
@given(
    st.sampled_from(["", "\ufeff", "\n"]),
    YAMLISH,
    st.sampled_from(["---", "...", "-- -", "+++", ""]),
    YAMLISH,
    st.sampled_from(["utf-8", "utf-16", "cp1252"]),
)
def test_no_frontmatter_makes_the_parser_raise(
    before: str, block: str, closing: str, body: str, encoding: str
) -> None:
    text = f"{before}---\n{block}\n{closing}\n{body}"
    data = text.encode(encoding, errors="replace")
    assert isinstance(parse_guide("g.md", data), FileResult | ParsedGuide)


@SETTINGS
@given(guides(), st.data())
def test_a_guide_with_any_field_broken_is_rejected_not_raised(
    data: dict[str, Any], draw: st.DataObject
) -> None:
    key = draw.draw(st.sampled_from(sorted(data)))
    data[key] = draw.draw(
        st.one_of(st.none(), st.booleans(), MONEY, TEXT, TRICKY, st.lists(TEXT))
    )
    text = "---\n" + yaml.safe_dump(data, allow_unicode=True) + "---\nBody\n"
    result = parse_guide("g.md", text.encode("utf-8"))
    assert isinstance(result, FileResult | ParsedGuide)
    if isinstance(result, FileResult):
        assert result.errors
        assert all(problem.message for problem in result.errors)


GOOD = (
    "---\n"
    + yaml.safe_dump(
        {
            "company": "acme",
            "role": "data-engineer",
            "role_type": "standard",
            "salary_data_quarter": "2025-Q4",
            "last_updated": date(2026, 1, 10),
            "next_review_due": date(2026, 4, 10),
            "compensation": [
                {"region": "Berlin", "base_low": 70000, "currency": "EUR"}
            ],
        },
        sort_keys=False,
    )
    + "---\nBody\n"
)
# What an author might type after a key, unquoted.
WRITTEN = (
    st.one_of(
        TRICKY,
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12),
        st.from_regex(r"[-+]?[0-9_.:eExXoO]{1,10}", fullmatch=True),
    )
    .map(str.strip)
    .filter(lambda text: not text.startswith(("'", '"', "[", "{", "|", ">")))
)
# (Quotes, brackets and block scalars are YAML the author means, not text.)
NULLS = ("", "~", "null", "Null", "NULL")
NO_VALUE = object()
DECIMAL = r"[-+]?(?:0|[1-9][0-9]{0,2}(?:_[0-9]{3})+|[1-9][0-9]*)"


def stored_or_refused(line: str, written: str) -> Any:
    """What is stored for ``line: written`` in a guide, or None if it is refused,
    with the refusal naming the line; NO_VALUE for a null."""
    key = line.split(":")[0].strip().removeprefix("- ")
    text = GOOD.replace(f"{line}\n", f"{line.split(':')[0]}: {written}\n", 1)
    result = parse_guide("g.md", text.encode("utf-8"))
    if isinstance(result, FileResult):
        at = GOOD.split("\n").index(line) + 1
        assert any(
            p.line == at or f"line {at})" in p.message or (p.field or "").endswith(key)
            for p in result.errors
        )
        return None
    stored = snapshot_of(result.guide, result.body).frontmatter
    found = stored["compensation"][0] if "base" in key else stored
    if written in NULLS or written.startswith("#"):  # a comment alone is no value
        assert key not in found  # a null is no value, and is stored as none
    return found.get(key, NO_VALUE)


@SETTINGS
@given(WRITTEN)
def test_text_is_stored_as_written_or_refused(written: str) -> None:
    stored = stored_or_refused("role_type: standard", written)
    assert stored in (None, NO_VALUE) or stored == written


@SETTINGS
@given(WRITTEN)
def test_no_number_is_stored_that_the_author_did_not_write(written: str) -> None:
    stored = stored_or_refused("  base_low: 70000", written)
    if stored not in (None, NO_VALUE):
        assert re.fullmatch(DECIMAL, written), written
        assert stored == int(written.replace("_", ""))


# Through the database: what is stored and loaded back is what was written.

RUN_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    # One database serves every example of a test; each example has its own guide.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
_EXAMPLES = itertools.count()


def _ingest_one(engine: Engine, text: bytes) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        seeds = Path(folder)
        (seeds / "guide.md").write_bytes(text)
        now = datetime(2026, 1, 1, tzinfo=UTC)
        return ingest_folder(discover(seeds), seeds, engine, now=now)


@RUN_SETTINGS
@given(guides())
def test_a_valid_guide_survives_the_database_exactly(
    engine: Engine, data: dict[str, Any]
) -> None:
    data = {**data, "company": f"{data['company']}-{next(_EXAMPLES)}"}
    text = "---\n" + yaml.safe_dump(data, allow_unicode=True) + "---\nBody\n"
    parsed = parse_guide("guide.md", text.encode("utf-8"))
    assert isinstance(parsed, ParsedGuide), parsed
    results = _ingest_one(engine, text.encode("utf-8"))
    # Earlier examples' guides, claimed by the same file name, are retired here.
    key = f"{data['company']}/{data['role']}"
    assert [r.outcome for r in results if r.guide == key] == ["ingested"]
    with Session(engine) as session:
        (version,) = store.history(session, data["company"], data["role"])
        snapshot = version.snapshot
        assert (
            snapshot.frontmatter == snapshot_of(parsed.guide, parsed.body).frontmatter
        )
        assert snapshot.body == parsed.body
        for written, row in zip(data["compensation"], snapshot.regions, strict=True):
            assert (row.region, row.currency) == (
                written["region"],
                written["currency"],
            )
            for name in FIGURES:
                assert getattr(row, name) == written.get(name), name


@RUN_SETTINGS
@given(st.binary(max_size=2000))
def test_no_bytes_make_a_run_raise(engine: Engine, data: bytes) -> None:
    (result,) = _ingest_one(engine, b"---\n" + data)
    assert result.outcome in ("ingested", "rejected", "skipped", "unchanged")


FEED_BASE = "https://comp.example.org/"


@SETTINGS
@given(
    # Minutes past a start: few of them, so that many events share a time, as the
    # events of one run do; the list's order is the order they were stored in.
    minutes=st.lists(st.integers(0, 4), max_size=12),
    titles=st.lists(TEXT, min_size=12, max_size=12),
    published=st.integers(0, 12),
    window=st.integers(1, 5),
)
def test_a_feed_drawn_again_from_its_files_is_the_feed_drawn_afresh(
    minutes: list[int], titles: list[str], published: int, window: int
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events = [
        PublishedEvent(
            "acme",
            f"role-{n}",
            1,
            n + 1,
            "new",
            start + timedelta(minutes=m),
            None,
            titles[n],
            f"headline {n}",
            "2026-Q1",
        )
        for n, m in enumerate(minutes)
    ]

    def newest(some: list[PublishedEvent]) -> list[PublishedEvent]:
        ordered = sorted(some, key=lambda e: (e.occurred_at, e.version_id))
        return ordered[::-1][:window]

    def draw(items: Sequence[PublishedEvent | Kept]) -> tuple[bytes, bytes]:
        return render_feeds(
            items,
            {},
            title="t",
            rss_url=FEED_BASE + "feed.xml",
            atom_url=FEED_BASE + "atom.xml",
            home_url=FEED_BASE,
            base_url=FEED_BASE,
        )

    before, after = events[:published], events[published:]
    with tempfile.TemporaryDirectory() as folder:
        rss, atom = Path(folder, "feed.xml"), Path(folder, "atom.xml")
        drawn = draw(newest(before))
        rss.write_bytes(drawn[0])
        atom.write_bytes(drawn[1])
        kept = published_entries(rss, atom)
    assert kept is not None
    assert len(kept) == min(window, len(before))
    again = draw(merged_window(newest(after), kept, window))
    assert again == draw(newest(events))
