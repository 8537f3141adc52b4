"""Published feeds and changelog, read back by a real feed parser."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import feedparser
from sqlalchemy import Engine

from flows.publish import publish
from tests.conftest import SEED, WriteGuide
from tests.test_ingest import T1, T2, ingest

BASE = "https://comp.example.org/"


def read_feeds(
    out: Path,
) -> tuple[feedparser.FeedParserDict, feedparser.FeedParserDict]:
    rss = feedparser.parse((out / "feed.xml").read_bytes())
    atom = feedparser.parse((out / "atom.xml").read_bytes())
    for feed in (rss, atom):
        assert not feed.bozo, feed.get("bozo_exception")
    assert rss.version == "rss20" and atom.version == "atom10"
    return rss, atom


def test_feeds_parse_and_hold_one_entry_per_event(
    seeds: Path, write_guide: WriteGuide, engine: Engine, tmp_path: Path
) -> None:
    shutil.copy(SEED, seeds)
    write_guide()
    ingest(seeds, engine)
    out = tmp_path / "public"
    publish(engine, out, BASE)
    rss, atom = read_feeds(out)
    ids = [
        "tag:compfeed,2026:twilio/senior-software-engineer/v1/new",
        "tag:compfeed,2026:acme/data-engineer/v1/new",
    ]
    for feed, name in ((rss, "feed.xml"), (atom, "atom.xml")):
        assert sorted(e.id for e in feed.entries) == sorted(ids)
        assert {link.rel: link.href for link in feed.feed.links}["self"] == BASE + name
        assert all(
            e.published_parsed[:6] == (2026, 3, 1, 12, 0, 0) for e in feed.entries
        )
    assert b'<guid isPermaLink="false">' in (out / "feed.xml").read_bytes()


def test_next_quarter_adds_one_entry_and_one_changelog_line(
    write_guide: WriteGuide, seeds: Path, engine: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    write_guide()
    ingest(seeds, engine)
    publish(engine, out, BASE)
    first_ids = [e.id for e in read_feeds(out)[0].entries]
    write_guide(
        salary_data_quarter="2026-Q1",
        last_updated=date(2026, 4, 1),
        next_review_due=date(2026, 7, 1),
    )
    ingest(seeds, engine, T2)
    publish(engine, out, BASE)
    rss, atom = read_feeds(out)
    assert [e.id for e in rss.entries] == [
        "tag:compfeed,2026:acme/data-engineer/v2/updated",
        *first_ids,
    ]
    assert rss.entries[0].title == "Acme Data Engineer: updated for 2026-Q1"
    assert rss.entries[0].summary == "2025-Q4 → 2026-Q1: figures unchanged"
    assert atom.feed.updated == "2026-04-02T09:30:00+00:00"
    assert (out / "CHANGELOG.md").read_text(encoding="utf-8") == (
        "# Changelog\n"
        "\n"
        "## 2026-04-02\n"
        "\n"
        "- **Acme Data Engineer: updated for 2026-Q1** (v2): "
        "2025-Q4 → 2026-Q1: figures unchanged (acme/data-engineer)\n"
        "\n"
        "## 2026-03-01\n"
        "\n"
        "- **Acme Data Engineer: new guide for 2025-Q4** (v1): 2025-Q4 pay for 1 "
        "region(s): Berlin; next review due 2026-04-10 (acme/data-engineer)\n"
    )


def test_publishing_again_is_byte_identical(
    seeds: Path, engine: Engine, tmp_path: Path
) -> None:
    shutil.copy(SEED, seeds)
    ingest(seeds, engine, T1)
    first, second = tmp_path / "a", tmp_path / "b"
    publish(engine, first, BASE)
    publish(engine, second, BASE)
    publish(engine, first, BASE)
    for name in ("feed.xml", "atom.xml", "CHANGELOG.md"):
        assert (first / name).read_bytes() == (second / name).read_bytes()


def test_entry_ids_do_not_depend_on_the_base_url(
    seeds: Path, engine: Engine, tmp_path: Path
) -> None:
    shutil.copy(SEED, seeds)
    ingest(seeds, engine)
    publish(engine, tmp_path / "http", "http://comp.example.org")
    publish(engine, tmp_path / "https", BASE)
    ids = [
        [e.id for e in read_feeds(tmp_path / d)[0].entries] for d in ("http", "https")
    ]
    assert (
        ids[0] == ids[1] == ["tag:compfeed,2026:twilio/senior-software-engineer/v1/new"]
    )


def test_an_empty_history_publishes_valid_empty_feeds(
    engine: Engine, tmp_path: Path
) -> None:
    publish(engine, tmp_path, BASE)
    rss, atom = read_feeds(tmp_path)
    assert rss.entries == atom.entries == []
    assert (tmp_path / "CHANGELOG.md").read_text() == "# Changelog\n\nNo changes yet.\n"
