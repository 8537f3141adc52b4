"""Publish the history: feeds (all changes, per company, per role), the changelog in
markdown and JSON, and a page per guide with the index.

Everything is rendered in memory first, then each changed file is written beside its
target and, once all are written, renamed into place: a publish that fails on the way
(a full disk, a read-only folder) leaves every previous file as it was, and says why.
A small manifest in the output folder remembers the last version and event published:
the next publish draws only the feeds, changelog months and guide pages that newer
ones touch, so its cost follows what changed, not how long the history is.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db import store
from db.connect import reading
from db.schema import Guide, QoqChange, Version
from db.store import PublishedEvent
from flows.changelog import (
    PART,
    render_changelog,
    render_changes_json,
    render_month,
    render_month_json,
    render_part,
    render_part_json,
)
from flows.charts import charted, render_chart, series_of
from flows.feeds import (
    Kept,
    entry_id,
    merged_window,
    published_entries,
    render_feeds,
)
from flows.ingest import batches
from flows.pages import render_company, render_guide_page, render_index

log = logging.getLogger(__name__)

FEED_WINDOW = 50
# The top-level changelog's newest events; the month files hold every one.
CHANGELOG_WINDOW = 1000
CONTENTS_KEPT = 10_000
# Company pages drawn from one query: a bounded number of guides in memory.
COMPANIES_AT_ONCE = 100
# Guides whose histories are loaded together for their pages.
GUIDES_AT_ONCE = 200
MANIFEST = ".compfeed-publish.json"
SYNCS_AT_ONCE = 16
# Raised when page templates or charts change, so that old pages are redrawn.
PAGES_VERSION = 5


class PublishError(Exception):
    """A publish could not write its files; the previous files are intact."""


@dataclass(frozen=True)
class Written:
    path: Path
    changed: bool  # False when the file already held these bytes


def publish(
    engine: Engine,
    out: Path,
    base_url: str,
    window: int = FEED_WINDOW,
    changelog_window: int = CHANGELOG_WINDOW,
) -> list[Written]:
    """Render and write what changed since the last publish under ``out`` (everything
    the first time); return the files and whether each changed."""
    base_url = base_url.rstrip("/") + "/"
    settings = {
        "pages": PAGES_VERSION,
        "base_url": base_url,
        "window": window,
        "changelog_window": changelog_window,
    }
    with _collector_on_new_objects(), Session(reading(engine)) as session:
        files = _render(session, _since(out, settings), settings)
        written = [w for w in write_all(out, files) if w.path.name != MANIFEST]
    _report(out, written)
    return written


@contextmanager
def _collector_on_new_objects() -> Iterator[None]:
    """Keep the garbage collector's full passes to the objects made meanwhile: a
    publish makes many short-lived objects, and walking every module and object
    loaded before it on each pass costs a tenth of a small publish. The flows have
    this already (``flows.pipeline`` freezes its imports) and are left as they are,
    since unfreezing would thaw those too: this is for a publish called directly."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@dataclass(frozen=True)
class Since:
    """What the files under ``out`` already show: the versions and events up to
    these ids (0 and 0 when nothing is known, and everything is drawn)."""

    version_id: int
    event_id: int
    drawn: Path | None  # where the files drawn before are, for what they still hold


# The manifest keeps the highest ids published. On PostgreSQL, runs on several
# machines may commit out of id order: an event committed after a publish that saw a
# higher id is not drawn until everything is (the manifest deleted). Nor does the
# manifest say which database it was drawn from: another history published into the
# same folder keeps what the first one drew.
def _since(out: Path, settings: dict[str, Any]) -> Since:
    manifest = _read_manifest(out)
    if any(manifest.get(key) != value for key, value in settings.items()):
        # Other pages, base URL or windows: every file is drawn again.
        return Since(0, 0, None)
    version_id, event_id = (
        manifest.get(k) for k in ("last_version_id", "last_event_id")
    )
    if not isinstance(version_id, int) or not isinstance(event_id, int):
        return Since(0, 0, None)  # a manifest edited by hand
    return Since(version_id, event_id, out)


def _render(
    session: Session, since: Since, settings: dict[str, Any]
) -> Iterator[tuple[str, bytes]]:
    """Every file to publish, one at a time: pages are many, and none is held longer
    than it takes to stage it. Only what the new events and versions touch is drawn,
    so the cost follows the changes, not the length of the history."""
    last_version = store.last_version_id(session)
    last_event = store.last_event_id(session)
    guides: list[Guide] = []
    if since.version_id == 0 or last_version > since.version_id:
        guides = store.guides_changed_after(session, since.version_id)
    yield from _event_files(session, since, settings)
    if guides:
        yield from _page_files(session, guides, settings["base_url"])
    manifest = {
        **settings,
        "last_version_id": last_version,
        "last_event_id": last_event,
    }
    yield MANIFEST, json.dumps(manifest, sort_keys=True).encode()


# A feed's scope: all events (""), or those of one company or one role.
Scope = tuple[str, str]
ALL: Scope = ("", "")


def _event_files(
    session: Session, since: Since, settings: dict[str, Any]
) -> Iterator[tuple[str, bytes]]:
    """The feeds and changelog files that events stored since the last publish
    touch."""
    base_url, window = settings["base_url"], settings["window"]
    scopes = store.event_scopes(session, after=since.event_id)
    feeds: list[tuple[str, Scope]] = []
    if since.event_id == 0 or scopes.months:
        feeds.append(("", ALL))
    feeds += [(f"feeds/company/{c}/", ("company", c)) for c in sorted(scopes.companies)]
    feeds += [(f"feeds/role/{r}/", ("role", r)) for r in sorted(scopes.roles)]
    news = _newest_by_scope(session, since.event_id, window) if since.drawn else {}
    # The figures of the new events the feeds show, in one look, not one per feed.
    fetched = {event.version_id for events in news.values() for event in events}
    moved = store.moved_of(session, sorted(fetched))
    # An event shows in the main feed, its company's and its role's: its entry's
    # HTML is made once, and forgotten in bulk so that memory stays bounded.
    contents: dict[str, str] = {}
    for path, scope in feeds:
        if len(contents) > CONTENTS_KEPT:
            contents.clear()
        items = _window(session, since, path, scope, news, window)
        # Only the entries not drawn yet need their figures.
        to_draw = {
            item.version_id
            for item in items
            if isinstance(item, PublishedEvent) and entry_id(item) not in contents
        }
        changes = moved
        if to_draw - fetched:
            changes = {**moved, **store.moved_of(session, sorted(to_draw - fetched))}
        rss, atom = render_feeds(
            items,
            changes,
            title=_feed_title(path),
            rss_url=f"{base_url}{path}feed.xml",
            atom_url=f"{base_url}{path}atom.xml",
            home_url=base_url,
            base_url=base_url,
            contents=contents,
        )
        yield f"{path}feed.xml", rss
        yield f"{path}atom.xml", atom
    if feeds:
        newest = store.recent_events(session, settings["changelog_window"])
        months = store.event_months(session)
        yield "CHANGELOG.md", render_changelog(newest, months).encode("utf-8")
        yield "changes.json", render_changes_json(newest, base_url).encode("utf-8")
    for month in sorted(scopes.months):
        yield from _month_files(session, month, since.event_id, base_url)


def _newest_by_scope(
    session: Session, after: int, window: int
) -> dict[Scope, list[PublishedEvent]]:
    """The newest ``window`` of the events stored after event ``after``, for each
    feed they show in: no more than one feed's worth each, however many there are."""
    newest: dict[Scope, list[PublishedEvent]] = defaultdict(list)
    for event in store.events_after(session, after):
        for scope in (ALL, ("company", event.company), ("role", event.role)):
            if len(newest[scope]) < window:
                newest[scope].append(event)
    return newest


def _window(
    session: Session,
    since: Since,
    path: str,
    scope: Scope,
    news: dict[Scope, list[PublishedEvent]],
    window: int,
) -> list[PublishedEvent | Kept]:
    """A feed's entries, newest first: the events stored since the last publish
    merged with the entries its files show, or, when those cannot be read, the
    newest events of its scope as stored."""
    if since.drawn is not None:
        kept = published_entries(
            since.drawn / f"{path}feed.xml", since.drawn / f"{path}atom.xml"
        )
        if kept is not None:
            return merged_window(news.get(scope, []), kept, window)
    field, value = scope
    return list(
        store.recent_events(session, window, **({field: value} if field else {}))
    )


def _page_files(
    session: Session,
    guides: list[Guide],
    base_url: str,
) -> Iterator[tuple[str, bytes]]:
    """The index, and the pages of the guides given and of their companies."""
    companies, roles = store.companies(session), store.roles(session)
    yield "index.html", render_index(companies, roles, base_url).encode("utf-8")
    live: dict[int, bool] = {}
    changed = sorted({guide.company for guide in guides})
    for chunk in batches(changed, COMPANIES_AT_ONCE):
        index = store.guide_index(session, chunk)
        for company, group in groupby(index, key=lambda listed: listed.company):
            entries = list(group)
            page = render_company(company, entries, base_url)
            yield f"guides/{company}/index.html", page.encode("utf-8")
            live.update((listed.guide_id, listed.live) for listed in entries)
    yield from _guide_pages(session, guides, live, base_url)


def _month_files(
    session: Session, month: str, after: int, base_url: str
) -> Iterator[tuple[str, bytes]]:
    """A month's files that events stored after event ``after`` touch: its own, and
    the parts they fill or move."""
    kept = store.month_position(session, month, after) // PART
    events = store.month_events(session, month, skip=kept * PART)
    full = len(events) // PART
    for n in range(full):
        part, number = events[n * PART : (n + 1) * PART][::-1], kept + n + 1
        text = render_part(month, number, part)
        yield f"changelog/{month}/{number}.md", text.encode("utf-8")
        json_text = render_part_json(month, number, part, base_url)
        yield f"changes/{month}/{number}.json", json_text.encode("utf-8")
    rest, parts = events[full * PART :][::-1], kept + full
    yield f"changelog/{month}.md", render_month(month, parts, rest).encode("utf-8")
    json_text = render_month_json(month, parts, rest, base_url)
    yield f"changes/{month}.json", json_text.encode("utf-8")


def _report(out: Path, written: list[Written]) -> None:
    """An INFO line per top-level file written, one for the feeds and pages below."""
    nested = 0
    for item in written:
        if not item.changed:
            continue
        if item.path.parent == out:
            log.info("wrote %s (%d bytes)", item.path, item.path.stat().st_size)
        else:
            nested += 1
    if nested:
        log.info("wrote %d feed, page and chart file(s) under %s", nested, out)


def _feed_title(path: str) -> str:
    if not path:
        return "compfeed: compensation guide changes"
    _, scope, name, _ = path.split("/")
    if scope == "company":
        return f"compfeed: {name} guide changes"
    return f"compfeed: {name} guide changes, all companies"


def _guide_pages(
    session: Session, guides: list[Guide], live: dict[int, bool], base_url: str
) -> Iterator[tuple[str, bytes]]:
    """Each guide's page and chart (a chart whose figures did not move is drawn the
    same, and its file left as it is)."""
    for chunk in batches(guides, GUIDES_AT_ONCE):
        histories = store.histories(session, [guide.id for guide in chunk])
        # A page shows the comparison in force: the latest version's that has one.
        compared = store.compared_versions(
            session, [v.id for versions in histories.values() for v in versions]
        )
        in_force = {
            guide_id: max(ids)
            for guide_id, versions in histories.items()
            if (ids := [v.id for v in versions if v.id in compared])
        }
        changes = store.changes_of(session, sorted(in_force.values()))
        for guide in chunk:
            comparison = changes.get(in_force.get(guide.id, 0), [])
            yield from _guide_files(
                guide,
                histories[guide.id],
                comparison,
                live.get(guide.id, False),
                base_url,
            )


def _guide_files(
    guide: Guide,
    versions: list[Version],
    changes: list[QoqChange],
    live: bool,
    base_url: str,
) -> Iterator[tuple[str, bytes]]:
    """A guide's page, and its chart when it has a history to chart."""
    folder = f"guides/{guide.company}/{guide.role}/"
    series = series_of(versions)
    chart = charted(series)
    page = render_guide_page(guide, versions, changes, live, chart, base_url)
    yield f"{folder}index.html", page.encode("utf-8")
    if chart:
        yield f"{folder}chart.svg", render_chart(series)


def _read_manifest(out: Path) -> dict[str, Any]:
    try:
        data = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_all(out: Path, files: Iterable[tuple[str, bytes]]) -> list[Written]:
    """Write every file that changed, all or nothing: each is written to a temporary
    file beside its target as it comes, and only when all are written and synced are
    they renamed into place."""
    staged: list[tuple[Path, Path]] = []
    written = []
    try:
        for name, content in files:
            path = out / name
            changed = _differs(path, content)
            written.append(Written(path, changed))
            if changed:
                path.parent.mkdir(parents=True, exist_ok=True)
                staged.append((_stage(path, content), path))
        # Every staged file is on disk before any replaces its target, so a crash
        # never leaves a published file empty. The syncs run together once all are
        # staged: one after another they cost a few milliseconds each, and run
        # while files are still being created they slow every creation down.
        with ThreadPoolExecutor(SYNCS_AT_ONCE) as syncing:
            list(syncing.map(_sync, [temp for temp, _ in staged]))
    except BaseException as exc:
        # Rendering or writing failed: nothing staged is kept, nothing replaced.
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise PublishError(
                f"cannot write {exc.filename or out}: {exc.strerror or exc}; "
                "nothing was replaced, the previous files are intact"
            ) from exc
        raise
    for temp, path in staged:
        temp.replace(path)
    return written


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _differs(path: Path, content: bytes) -> bool:
    try:
        # Most files that changed changed in length too: no need to read them.
        return path.stat().st_size != len(content) or path.read_bytes() != content
    except FileNotFoundError:
        return True


# A publish killed between staging and renaming leaves its hidden temporary files
# behind; nothing serves them as feeds, and the next publish writes afresh, but they
# are not swept up.
def _stage(path: Path, content: bytes) -> Path:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(
                handle.fileno(), 0o644
            )  # published files are for everyone to read
            handle.write(content)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp
