"""Publish the history: feeds (all changes, per company, per role), the changelog in
markdown and JSON, and a page per guide with the index.

Everything is rendered in memory first, then each changed file is written beside its
target and, once all are written, renamed into place: a publish that fails on the way
(a full disk, a read-only folder) leaves every previous file as it was, and says why.
Guide pages are redrawn only for guides with a version stored since the last publish,
which a small manifest in the output folder remembers.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db import store
from db.connect import reading
from db.schema import Guide
from db.store import PublishedEvent
from flows.changelog import render_changelog, render_changes_json
from flows.feeds import render_feed
from flows.pages import (
    charted,
    render_chart,
    render_guide_page,
    render_index,
    series_of,
)

log = logging.getLogger(__name__)

FEED_WINDOW = 50
MANIFEST = ".compfeed-publish.json"
# Raised when page templates or charts change, so that old pages are redrawn.
PAGES_VERSION = 1


class PublishError(Exception):
    """A publish could not write its files; the previous files are intact."""


@dataclass(frozen=True)
class Written:
    path: Path
    changed: bool  # False when the file already held these bytes


def publish(
    engine: Engine, out: Path, base_url: str, window: int = FEED_WINDOW
) -> list[Written]:
    """Render and write everything under ``out``; return the files and whether each
    changed."""
    base_url = base_url.rstrip("/") + "/"
    since = _pages_since(out)
    with Session(reading(engine)) as session:
        files = _render(session, base_url, window, since)
        written = [w for w in write_all(out, files) if w.path.name != MANIFEST]
    _report(out, written)
    return written


def _render(
    session: Session, base_url: str, window: int, since: int
) -> Iterator[tuple[str, bytes]]:
    """Every file to publish, one at a time: pages are many, and none is held longer
    than it takes to stage it."""
    last_version = store.last_version_id(session)
    events = store.recent_events(session)
    shown = _windows(events, window)
    changes = store.changes_of(
        session, sorted({e.version_id for es in shown.values() for e in es})
    )
    for path, selected in shown.items():
        for kind, name in (("rss", "feed.xml"), ("atom", "atom.xml")):
            yield (
                f"{path}{name}",
                render_feed(
                    selected,
                    changes,
                    kind=kind,
                    title=_feed_title(path),
                    self_url=f"{base_url}{path}{name}",
                    home_url=base_url,
                    base_url=base_url,
                ),
            )
    yield "CHANGELOG.md", render_changelog(events).encode("utf-8")
    yield "changes.json", render_changes_json(events, base_url).encode("utf-8")
    del events, shown, changes
    index = store.guide_index(session)
    yield "index.html", render_index(index, base_url).encode("utf-8")
    live = {guide.id: is_live for guide, _, is_live in index}
    for guide in store.guides_changed_after(session, since):
        yield from _guide_files(session, guide, live.get(guide.id, False), base_url)
    manifest = {"last_version_id": last_version, "pages": PAGES_VERSION}
    yield MANIFEST, json.dumps(manifest).encode()


def _pages_since(out: Path) -> int:
    """The last version the published pages show; 0 to draw them all."""
    manifest = _read_manifest(out)
    if manifest.get("pages") != PAGES_VERSION:
        return 0
    return manifest.get("last_version_id", 0)


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


def _windows(
    events: list[PublishedEvent], window: int
) -> dict[str, list[PublishedEvent]]:
    """The newest ``window`` events of each feed, by the feed's folder."""
    feeds: dict[str, list[PublishedEvent]] = {"": events[:window]}
    for event in events:
        for path in (f"feeds/company/{event.company}/", f"feeds/role/{event.role}/"):
            selected = feeds.setdefault(path, [])
            if len(selected) < window:
                selected.append(event)
    return feeds


def _feed_title(path: str) -> str:
    if not path:
        return "compfeed: compensation guide changes"
    _, scope, name, _ = path.split("/")
    if scope == "company":
        return f"compfeed: {name} guide changes"
    return f"compfeed: {name} guide changes, all companies"


def _guide_files(
    session: Session, guide: Guide, live: bool, base_url: str
) -> Iterator[tuple[str, bytes]]:
    versions = store.history(session, guide.company, guide.role)
    by_version = store.changes_of(session, [v.id for v in versions])
    # The comparison in force: that of the latest version that has one.
    compared = [v.id for v in versions if v.id in by_version]
    changes = by_version[compared[-1]] if compared else []
    folder = f"guides/{guide.company}/{guide.role}/"
    series = series_of(versions)
    chart = charted(series)
    page = render_guide_page(guide, versions, changes, live, chart, base_url)
    yield f"{folder}index.html", page.encode("utf-8")
    if chart:
        # Drawing costs about 50 ms a region, so only guides with a history get one.
        yield f"{folder}chart.svg", render_chart(series)


def _read_manifest(out: Path) -> dict[str, int]:
    try:
        data = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_all(out: Path, files: Iterable[tuple[str, bytes]]) -> list[Written]:
    """Write every file that changed, all or nothing: each is written to a temporary
    file beside its target as it comes, and only when all are written are they
    renamed into place."""
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


def _differs(path: Path, content: bytes) -> bool:
    try:
        return path.read_bytes() != content
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
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp
