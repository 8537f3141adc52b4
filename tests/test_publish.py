"""Published feeds, changelog and pages, read back by real parsers: feedparser, lxml
against the Atom schema, and a real HTTP server for conditional GETs."""

from __future__ import annotations

import gc
import json
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest
import uvicorn
from lxml import etree, html
from sqlalchemy import Engine

import flows.feeds
import flows.publish
from db.store import PublishedEvent
from flows.charts import Series, render_chart, ticks
from flows.feeds import render_feed
from flows.publish import PublishError, publish
from flows.serve import app_for
from tests.conftest import SEED, WriteGuide, guide_data
from tests.test_ingest import T1, T2, ingest

BASE = "https://comp.example.org/"
GOLDEN = Path(__file__).parent / "golden"
ATOM_SCHEMA = etree.RelaxNG(etree.parse(str(Path(__file__).parent / "atom.rng")))


def at(day: int, month: int = 4) -> datetime:
    return datetime(2026, month, day, 9, 0, tzinfo=UTC)


def feed_files(out: Path) -> list[Path]:
    return sorted(out.rglob("feed.xml")) + sorted(out.rglob("atom.xml"))


def read_feed(path: Path) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    if path.name == "atom.xml":
        assert parsed.version == "atom10"
        assert ATOM_SCHEMA.validate(etree.parse(str(path))), ATOM_SCHEMA.error_log
    else:
        assert parsed.version == "rss20"
    return parsed


# The region every test guide has, as conftest writes it.
BERLIN: dict[str, Any] = guide_data()["compensation"][0]


def full_history(
    write_guide: WriteGuide, seeds: Path, engine: Engine, tmp_path: Path
) -> None:
    """One guide through every event kind, and one whose names need escaping."""
    q1 = {
        "salary_data_quarter": "2026-Q1",
        "last_updated": date(2026, 4, 1),
        "next_review_due": date(2026, 5, 10),
    }
    steps: list[dict[str, Any]] = [
        {},
        {**q1, "compensation": [{**BERLIN, "base_low": 73500, "base_high": 94500}]},
        {**q1, "compensation": [{**BERLIN, "base_low": 73000, "base_high": 94500}]},
        {
            **q1,
            "compensation": [{**BERLIN, "base_low": 73000, "base_high": 94500}],
            "last_updated": date(2026, 4, 20),
        },
    ]
    for day, changes in enumerate(steps, start=1):
        path = write_guide(**changes)
        if day == 1:
            write_guide(
                "att.md",
                company="att",
                company_display="AT&T",
                role="r-and-d-lead",
                role_display="R&D <Lead>",
                next_review_due=date(2027, 1, 1),
                compensation=[{**BERLIN, "region": 'Dallas "<$250K" & zone'}],
            )
        ingest(seeds, engine, at(day))
    kept = tmp_path / "kept.md"
    shutil.move(path, kept)
    ingest(seeds, engine, at(5))  # retired
    shutil.move(kept, path)
    ingest(seeds, engine, at(6))  # restored
    ingest(seeds, engine, at(12, month=5))  # its review, due on 05-10, is overdue
    ingest(seeds, engine, at(13, month=5))  # and is told once


@pytest.fixture
def history(
    write_guide: WriteGuide, seeds: Path, engine: Engine, tmp_path: Path
) -> Engine:
    full_history(write_guide, seeds, engine, tmp_path)
    return engine


def test_each_event_kind_appears_once(history: Engine, tmp_path: Path) -> None:
    out = tmp_path / "public"
    publish(history, out, BASE)
    rss = read_feed(out / "feed.xml")
    kinds = Counter(e.tags[0].term for e in rss.entries if "acme" in e.id)
    assert kinds == {
        "new": 1,
        "updated": 1,
        "corrected": 1,
        "reviewed": 1,
        "retired": 1,
        "restored": 1,
        "review_overdue": 1,
    }
    # Newest first, dated by when compfeed stored each change.
    dates = [e.published_parsed[:3] for e in rss.entries]
    assert dates == sorted(dates, reverse=True)
    assert dates[0] == (2026, 5, 12) and dates[-1] == (2026, 4, 1)


def test_every_feed_parses_validates_and_links_to_itself(
    history: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    publish(history, out, BASE)
    paths = feed_files(out)
    assert {p.relative_to(out).as_posix() for p in paths} == {
        "feed.xml",
        "atom.xml",
        "feeds/company/acme/feed.xml",
        "feeds/company/acme/atom.xml",
        "feeds/company/att/feed.xml",
        "feeds/company/att/atom.xml",
        "feeds/role/data-engineer/feed.xml",
        "feeds/role/data-engineer/atom.xml",
        "feeds/role/r-and-d-lead/feed.xml",
        "feeds/role/r-and-d-lead/atom.xml",
    }
    for path in paths:
        feed = read_feed(path)
        links = {link.rel: link.href for link in feed.feed.links}
        assert links["self"] == BASE + path.relative_to(out).as_posix()
        assert all(e.id.startswith("tag:compfeed,2026:") for e in feed.entries)
    att = read_feed(out / "feeds" / "company" / "att" / "feed.xml")
    assert [e.id for e in att.entries] == ["tag:compfeed,2026:att/r-and-d-lead/v1/new"]


def test_text_is_escaped_exactly_once(history: Engine, tmp_path: Path) -> None:
    out = tmp_path / "public"
    publish(history, out, BASE)
    for name in ("feed.xml", "atom.xml"):
        (entry,) = read_feed(out / "feeds" / "company" / "att" / name).entries
        assert entry.title == "AT&T R&D <Lead>: new guide for 2025-Q4"
        # The content is HTML (declared so in Atom); a reader shows it as text.
        content = entry.content[0] if "content" in entry else entry.summary_detail
        assert content.type == "text/html"
        shown = html.fromstring(content.value).text_content()
        assert 'Dallas "<$250K" & zone' in shown
    changelog = (out / "CHANGELOG.md").read_text()
    assert "**AT&T R&D \\<Lead\\>: new guide for 2025-Q4**" in changelog
    page = html.parse(str(out / "guides" / "att" / "r-and-d-lead" / "index.html"))
    assert page.findtext(".//h1") == "AT&T R&D <Lead>"
    cells = [td.text_content() for td in page.iter("td")]
    assert 'Dallas "<$250K" & zone' in cells


def test_characters_xml_forbids_are_dropped_from_feeds() -> None:
    # Guides cannot carry them (the parser refuses control characters), but a feed
    # must stay well-formed whatever its text.
    event = PublishedEvent(
        "acme", "x", 1, 1, "new", T1, None, "Bad\x0bTitle\x00", "a\ufffeb", "2025-Q4"
    )
    for kind in ("rss", "atom"):
        data = render_feed(
            [event],
            {},
            kind=kind,
            title="t",
            self_url=BASE + "feed.xml",
            home_url=BASE,
            base_url=BASE,
        )
        (entry,) = feedparser.parse(data).entries
        assert entry.title == "BadTitle"
        assert not feedparser.parse(data).bozo


def test_publishing_again_is_byte_identical(history: Engine, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    publish(history, first, BASE)
    again = publish(history, first, BASE)
    assert not [w.path for w in again if w.changed]
    publish(history, second, BASE)
    names = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert names == sorted(
        p.relative_to(second) for p in second.rglob("*") if p.is_file()
    )
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


@pytest.mark.parametrize("frozen", [False, True], ids=["thawed", "frozen"])
def test_a_publish_leaves_the_collectors_frozen_objects_as_it_found_them(
    history: Engine, tmp_path: Path, frozen: bool
) -> None:
    # flows.pipeline freezes what its imports made; a publish must not thaw it.
    gc.unfreeze()
    try:
        if frozen:
            gc.freeze()
        assert (gc.get_freeze_count() > 0) == frozen
        assert publish(history, tmp_path / "public", BASE)
        # (Frozen objects may still be freed meanwhile: only frozen or not is kept.)
        assert (gc.get_freeze_count() > 0) == frozen
    finally:
        gc.freeze()


def tree(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def test_publishing_after_each_run_equals_publishing_once(
    write_guide: WriteGuide, seeds: Path, engine: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    # Reviews due far ahead: no overdue event touches a feed unasked.
    due = {"next_review_due": date(2027, 1, 1)}
    q1 = {**due, "salary_data_quarter": "2026-Q1", "last_updated": date(2026, 4, 1)}
    write_guide(**due)
    ingest(seeds, engine, at(1))
    publish(engine, out, BASE)
    write_guide(**q1, compensation=[{**BERLIN, "base_low": 73500}])
    write_guide("other.md", **due, company="globex", role="data-engineer")
    ingest(seeds, engine, at(2))
    second = {w.path.relative_to(out).as_posix() for w in publish(engine, out, BASE)}
    # Only what the new events touch is drawn: not the feed of a company without one.
    assert "feeds/company/globex/feed.xml" in second
    assert "feeds/company/acme/feed.xml" in second
    assert "guides/acme/data-engineer/chart.svg" in second
    (seeds / "other.md").unlink()
    write_guide("qa.md", **due, company="globex", role="qa-engineer")
    ingest(seeds, engine, at(3, month=5))  # globex/data-engineer retired, a new one
    third = {w.path.relative_to(out).as_posix() for w in publish(engine, out, BASE)}
    assert "feeds/company/acme/feed.xml" not in third
    assert "changelog/2026-04.md" not in third
    assert "changelog/2026-05.md" in third
    write_guide(
        **{**q1, "last_updated": date(2026, 5, 4)},
        compensation=[{**BERLIN, "base_low": 73500}],
    )
    ingest(seeds, engine, at(4, month=5))  # reviewed: the page moves, the chart not
    fourth = {
        w.path.relative_to(out).as_posix(): w.changed
        for w in publish(engine, out, BASE)
    }
    assert fourth["guides/acme/data-engineer/index.html"]
    assert not fourth["guides/acme/data-engineer/chart.svg"]
    nothing = publish(engine, out, BASE)
    assert [w.path.name for w in nothing] == []

    fresh = tmp_path / "fresh"
    publish(engine, fresh, BASE)
    assert tree(out) == tree(fresh)


def test_a_feed_drawn_again_takes_the_entries_it_keeps_from_its_file(
    write_guide: WriteGuide,
    seeds: Path,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "public"
    due = {"next_review_due": date(2027, 1, 1)}
    write_guide(**due)
    write_guide("acme/qa.md", **due, role="qa-engineer")
    ingest(seeds, engine, at(1))
    publish(engine, out, BASE)
    drawn: list[str] = []
    real = flows.feeds.entry_html

    def counted(event: PublishedEvent, moved: Any) -> str:
        drawn.append(f"{event.role} {event.kind}")
        return real(event, moved)

    monkeypatch.setattr(flows.feeds, "entry_html", counted)
    write_guide(**due, compensation=[{**BERLIN, "base_low": 73500}])
    ingest(seeds, engine, at(2))
    publish(engine, out, BASE)
    # The main and acme feeds are drawn again: only the new entry's HTML is made.
    assert drawn == ["data-engineer corrected"]
    # Published files that cannot be read back are no source: their entries are
    # made again, and the result is what a fresh publish gives.
    for name in ("feed.xml", "atom.xml"):
        (out / name).write_text("<feed><entry>")
    (out / "feeds" / "company" / "acme" / "atom.xml").unlink()
    write_guide(
        "acme/qa.md", **{**due, "last_updated": date(2026, 4, 3)}, role="qa-engineer"
    )
    ingest(seeds, engine, at(3))
    drawn.clear()
    publish(engine, out, BASE)
    # The main feed's four entries, oldest first, made once for the acme feed too.
    assert drawn == [
        "data-engineer new",
        "qa-engineer new",
        "data-engineer corrected",
        "qa-engineer reviewed",
    ]
    publish(engine, tmp_path / "fresh", BASE)
    assert tree(out) == tree(tmp_path / "fresh")


# Reviews due far ahead: no overdue event touches a feed unasked.
FAR = {"next_review_due": date(2027, 1, 1)}


def published_once(
    write_guide: WriteGuide, seeds: Path, engine: Engine, out: Path
) -> bytes:
    """One guide stored on day 1 and published; the manifest that publish wrote."""
    write_guide(**FAR)
    ingest(seeds, engine, at(1))
    publish(engine, out, BASE)
    return (out / flows.publish.MANIFEST).read_bytes()


def corrected(write_guide: WriteGuide, seeds: Path, engine: Engine) -> None:
    """That guide's figures corrected, and stored on day 2."""
    write_guide(**FAR, compensation=[{**BERLIN, "base_low": 73500}])
    ingest(seeds, engine, at(2))


def test_a_publish_stopped_before_its_manifest_is_made_whole_by_the_next(
    write_guide: WriteGuide, seeds: Path, engine: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    manifest = published_once(write_guide, seeds, engine, out)
    corrected(write_guide, seeds, engine)
    publish(engine, out, BASE)
    # Its feeds were renamed into place, its manifest not: the feeds already show
    # the events the next publish takes for new.
    (out / flows.publish.MANIFEST).write_bytes(manifest)
    write_guide("acme/qa.md", **FAR, role="qa-engineer")
    ingest(seeds, engine, at(3))
    publish(engine, out, BASE)
    ids = [
        e.id for e in read_feed(out / "feeds" / "company" / "acme" / "atom.xml").entries
    ]
    assert ids == [
        "tag:compfeed,2026:acme/qa-engineer/v1/new",
        "tag:compfeed,2026:acme/data-engineer/v2/corrected",
        "tag:compfeed,2026:acme/data-engineer/v1/new",
    ]
    publish(engine, tmp_path / "fresh", BASE)
    assert tree(out) == tree(tmp_path / "fresh")


def _naive_dates(name: str, data: bytes) -> bytes:
    return data.replace(b"+00:00</updated>", b"</updated>")


def _undecodable_ids(name: str, data: bytes) -> bytes:
    return data.replace(b"/v1/new<", b"/v1/new\xff<")


def _hand_edited_manifest(name: str, data: bytes) -> bytes:
    return data.replace(b'"last_event_id": ', b'"last_event_id": "abc", "was": ')


@pytest.mark.parametrize(
    "tamper", [_naive_dates, _undecodable_ids, _hand_edited_manifest]
)
def test_published_files_compfeed_did_not_write_are_drawn_again(
    tamper: Callable[[str, bytes], bytes],
    write_guide: WriteGuide,
    seeds: Path,
    engine: Engine,
    tmp_path: Path,
) -> None:
    out = tmp_path / "public"
    published_once(write_guide, seeds, engine, out)
    for name in ("feed.xml", "atom.xml", flows.publish.MANIFEST):
        path = out / name
        path.write_bytes(tamper(name, path.read_bytes()))
    corrected(write_guide, seeds, engine)
    publish(engine, out, BASE)
    publish(engine, tmp_path / "fresh", BASE)
    assert tree(out) == tree(tmp_path / "fresh")


def test_the_top_changelog_keeps_the_newest_and_months_keep_all(
    history: Engine, tmp_path: Path
) -> None:
    publish(history, tmp_path, BASE, changelog_window=3)
    top = json.loads((tmp_path / "changes.json").read_text())
    assert len(top) == 3
    changelog = (tmp_path / "CHANGELOG.md").read_text()
    assert changelog.count("\n- **") == 3
    assert "[2026-04](changelog/2026-04.md)" in changelog
    every = month_events(tmp_path)
    assert [e["id"] for e in every][:3] == [e["id"] for e in top]
    assert len(every) == len({e["id"] for e in every}) == 8


def month_events(out: Path) -> list[dict[str, Any]]:
    """Every event in the month files under ``out``, newest first, following each
    month's links to its parts."""
    every = []
    for path in sorted((out / "changes").glob("*.json"), reverse=True):
        month = json.loads(path.read_text())
        every += month["events"]
        for url in month["parts"]:
            part = json.loads((out / url.removeprefix(BASE)).read_text())
            assert part["month"] == month["month"]
            every += part["events"]
    return every


def test_busy_months_are_cut_into_parts_that_stay_put(
    history: Engine,
    write_guide: WriteGuide,
    seeds: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(flows.publish, "PART", 2)
    out = tmp_path / "public"
    publish(history, out, BASE)
    april = json.loads((out / "changes" / "2026-04.json").read_text())
    # April's seven events: three full parts, oldest first, and the newest event.
    assert [url.removeprefix(BASE) for url in april["parts"]] == [
        "changes/2026-04/3.json",
        "changes/2026-04/2.json",
        "changes/2026-04/1.json",
    ]
    assert [e["kind"] for e in april["events"]] == ["restored"]
    assert "[part 1](2026-04/1.md)" in (out / "changelog" / "2026-04.md").read_text()
    every = month_events(out)
    assert [e["id"] for e in every] == [
        e["id"] for e in json.loads((out / "changes.json").read_text())
    ]
    write_guide("late.md", company="globex", next_review_due=date(2027, 1, 1))
    ingest(seeds, history, at(20, month=5))
    again = {w.path.relative_to(out).as_posix() for w in publish(history, out, BASE)}
    # A second event in May fills its first part; April stays as it was.
    assert {"changes/2026-05.json", "changes/2026-05/1.json"} <= again
    assert not any(
        name.startswith(("changes/2026-04", "changelog/2026-04")) for name in again
    )
    write_guide("clock.md", company="initech", next_review_due=date(2027, 1, 1))
    ingest(seeds, history, at(3))  # stored last, with an older time: April moves
    late = {w.path.relative_to(out).as_posix() for w in publish(history, out, BASE)}
    # It comes fifth in April: the first two parts stay, the later ones move.
    assert {"changes/2026-04/3.json", "changes/2026-04/4.json"} <= late
    assert not {"changes/2026-04/1.json", "changes/2026-04/2.json"} & late
    fresh = tmp_path / "fresh"
    publish(history, fresh, BASE)
    assert tree(out) == tree(fresh)
    assert len(month_events(out)) == 10


def test_entry_ids_do_not_depend_on_the_base_url(
    seeds: Path, engine: Engine, tmp_path: Path
) -> None:
    shutil.copy(SEED, seeds)
    ingest(seeds, engine)
    publish(engine, tmp_path / "http", "http://comp.example.org")
    publish(engine, tmp_path / "https", BASE)
    ids = [
        [e.id for e in read_feed(tmp_path / d / "feed.xml").entries]
        for d in ("http", "https")
    ]
    assert (
        ids[0] == ids[1] == ["tag:compfeed,2026:twilio/senior-software-engineer/v1/new"]
    )


def test_the_feed_window_keeps_the_newest(history: Engine, tmp_path: Path) -> None:
    publish(history, tmp_path, BASE, window=3)
    entries = read_feed(tmp_path / "atom.xml").entries
    assert [e.id.rsplit("/", 1)[-1] for e in entries] == [
        "2026-05-10",
        "restored",
        "retired",
    ]
    everything = json.loads((tmp_path / "changes.json").read_text())
    assert len(everything) == 8  # the changelog keeps every event


def test_output_matches_the_golden_files(history: Engine, tmp_path: Path) -> None:
    """Golden files from a fixed history; COMPFEED_UPDATE_GOLDEN=1 rewrites them."""
    publish(history, tmp_path, BASE)
    names = [
        "feed.xml",
        "atom.xml",
        "CHANGELOG.md",
        "changes.json",
        "changelog/2026-04.md",
        "index.html",
        "guides/att/index.html",
        "guides/acme/data-engineer/index.html",
        "feeds/company/att/atom.xml",
    ]
    for name in names:
        golden = GOLDEN / name
        if os.environ.get("COMPFEED_UPDATE_GOLDEN"):
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_bytes((tmp_path / name).read_bytes())
        assert (tmp_path / name).read_text() == golden.read_text(), name


def test_a_guide_page_shows_ranges_versions_comparison_and_chart(
    history: Engine, tmp_path: Path
) -> None:
    publish(history, tmp_path, BASE)
    folder = tmp_path / "guides" / "acme" / "data-engineer"
    page = html.parse(str(folder / "index.html"))
    tables = page.findall(".//table")
    rows = [
        [td.text_content() for td in tr.findall("td")] for tr in tables[0].iter("tr")
    ]
    assert rows[1][:3] == ["Berlin", "EUR", "73,000–94,500"]
    versions = [tr.get("id") for tr in tables[2].iter("tr") if tr.get("id")]
    assert versions == ["v6", "v5", "v4", "v3", "v2", "v1"]
    comparison = [
        [td.text_content() for td in tr.findall("td")] for tr in tables[1].iter("tr")
    ]
    assert [
        "Berlin",
        "base_low",
        "70,000",
        "73,000",
        "3,000",
        "+4.29%",
        "",
    ] in comparison
    chart = etree.parse(str(folder / "chart.svg"))
    assert chart.getroot().tag == "{http://www.w3.org/2000/svg}svg"
    texts = list(chart.getroot().itertext())
    for label in ("Berlin (EUR)", "2025-Q4", "2026-Q1", "base", "total comp"):
        assert label in texts
    assert not list(chart.iter("{http://www.w3.org/2000/svg}script"))
    # A guide with one quarter so far has a page but no chart.
    assert not (tmp_path / "guides" / "att" / "r-and-d-lead" / "chart.svg").exists()
    # Feed entries link to the version on the guide's page.
    entry = read_feed(tmp_path / "feeds" / "company" / "acme" / "feed.xml").entries[-1]
    assert entry.link == f"{BASE}guides/acme/data-engineer/#v1"


SVG = "{http://www.w3.org/2000/svg}"


def panel_texts(svg: bytes) -> list[list[str]]:
    """The texts of each panel of a chart, top to bottom."""
    root = etree.fromstring(svg)
    panels = root.iterfind(f".//{SVG}g[@class='panel']")
    return [[text for text in panel.itertext() if text.strip()] for panel in panels]


def test_a_chart_draws_each_band_inside_its_panel() -> None:
    berlin = Series(
        "Berlin",
        "EUR",
        ["2025-Q4", "2026-Q1"],
        [(70_000, 90_000), (73_000, 94_500)],
        [(90_000, 120_000), (95_000, 125_000)],
    )
    quarters = [f"{year}-Q{q}" for year in (2024, 2025, 2026) for q in (1, 2, 3, 4)]
    pune = Series(
        "Pune <R&D>",
        "INR",
        quarters,
        [(3_000_000 + i * 10_000, 4_000_000) for i in range(12)],
        [(None, None)] * 12,
    )
    svg = render_chart([pune, berlin])
    assert svg == render_chart([pune, berlin])
    root = etree.fromstring(svg)
    assert not list(root.iter(f"{SVG}script"))
    first, second = panel_texts(svg)
    # Twelve quarters: every other one is named. Region names are escaped.
    assert first[:6] == quarters[::2]
    assert first[-1] == "Pune <R&D> (INR)"
    assert second == ["2025-Q4", "2026-Q1", "80K", "100K", "120K", "Berlin (EUR)"]
    tops, bands_drawn = [], []
    for panel in root.iterfind(f".//{SVG}g[@class='panel']"):
        frame = panel.find(f"{SVG}rect")
        assert frame is not None
        x, y, w, h = (float(frame.get(k, "")) for k in ("x", "y", "width", "height"))
        tops.append(y)
        bands = panel.findall(f"{SVG}polygon")
        bands_drawn.append(len(bands))
        for band in bands:
            points = [p.split(",") for p in band.get("points", "").split()]
            assert points
            for px, py in points:
                assert x <= float(px) <= x + w and y <= float(py) <= y + h
    # Pune has no total comp: its base band alone.
    assert bands_drawn == [1, 2]
    assert tops == sorted(tops) and len(set(tops)) == 2


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (67_250, 127_750, [80_000, 100_000, 120_000]),
        (99_940, 101_260, [100_000, 100_500, 101_000]),
        (0.5, 1.5, [0.6, 0.8, 1.0, 1.2, 1.4]),
        (9_000, 11_000, [9_000, 9_500, 10_000, 10_500, 11_000]),
    ],
)
def test_chart_amounts_are_round_and_within_the_range(
    low: float, high: float, expected: list[float]
) -> None:
    assert ticks(low, high) == pytest.approx(expected)


def test_a_chart_shows_one_quarter_no_figures_and_close_amounts() -> None:
    series = [
        Series("Once", "GBP", ["2026-Q1"], [(90_000, 110_000)], [(None, None)]),
        Series("Nowhere", "EUR", [], [], []),
        Series(
            "Close",
            "USD",
            ["2025-Q4", "2026-Q1"],
            [(100_000, 101_000), (100_500, 101_200)],
            [(None, None), (None, None)],
        ),
    ]
    once, nowhere, close = panel_texts(render_chart(series))
    assert once[0] == "2026-Q1"
    assert nowhere == ["Nowhere (EUR)"]
    # Amounts a few hundred apart get the decimals that tell them apart.
    assert close == ["2025-Q4", "2026-Q1", "100.0K", "100.5K", "101.0K", "Close (USD)"]


@pytest.mark.parametrize("step", ["_stage", "_sync"])
@pytest.mark.parametrize(
    ("code", "reason"),
    [(28, "No space left on device"), (30, "Read-only file system")],
    ids=["full-disk", "read-only"],
)
def test_a_failed_publish_leaves_the_previous_files(
    step: str,
    code: int,
    reason: str,
    write_guide: WriteGuide,
    seeds: Path,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "public"
    write_guide()
    ingest(seeds, engine, T1)
    publish(engine, out, BASE)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    write_guide(salary_data_quarter="2026-Q1")
    ingest(seeds, engine, T2)
    calls = 0
    real = getattr(flows.publish, step)

    def failing(path: Path, *args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError(code, reason, str(path))
        return real(path, *args)

    # The tests run as root, whom a read-only mode does not stop: the failure is
    # made where the file is written, or where it is synced (a full disk can show
    # only then, once the file system allocates its blocks).
    monkeypatch.setattr(flows.publish, step, failing)
    with pytest.raises(PublishError, match=f"{reason}; nothing was replaced"):
        publish(engine, out, BASE)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # no file replaced, no temporary file left


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    config = uvicorn.Config(
        app_for(tmp_path), host="127.0.0.1", port=0, log_level="warning"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.02)
    port = running.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/"
    running.should_exit = True
    thread.join(timeout=10)


def test_served_feeds_answer_a_conditional_get_with_304(
    history: Engine, tmp_path: Path, server: str
) -> None:
    publish(history, tmp_path, BASE)
    with httpx.Client(base_url=server) as client:
        rss = client.get("feed.xml")
        assert rss.status_code == 200
        assert rss.headers["content-type"] == "application/rss+xml; charset=utf-8"
        assert rss.content == (tmp_path / "feed.xml").read_bytes()
        atom = client.get("feeds/role/data-engineer/atom.xml")
        assert atom.headers["content-type"] == "application/atom+xml; charset=utf-8"
        assert client.get("guides/acme/data-engineer/").status_code == 200
        etag, modified = rss.headers["etag"], rss.headers["last-modified"]
        assert (
            client.get("feed.xml", headers={"If-None-Match": etag}).status_code == 304
        )
        again = client.get("feed.xml", headers={"If-Modified-Since": modified})
        assert again.status_code == 304
        assert client.post("feed.xml").status_code == 405
        assert client.get("../db/compfeed.sqlite3").status_code == 404
