"""Publish the history's events: an RSS feed, an Atom feed and a changelog.

Output is a function of the stored events alone: every date comes from an event (the
system time at which compfeed stored the change), never from the clock, so publishing
twice with nothing new writes the same bytes. Each file is replaced atomically.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path

from feedgen.feed import FeedGenerator
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db import store
from db.store import PublishedEvent

log = logging.getLogger(__name__)

FEED_WINDOW = 50
# The tagging authority and the date it was taken: fixed, so ids never change.
TAG_PREFIX = "tag:compfeed,2026:"
# An empty history still needs a feed date; the epoch keeps that file stable too.
_NO_EVENTS = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Written:
    path: Path
    changed: bool  # False when the file already held these bytes


def publish(
    engine: Engine, out: Path, base_url: str, window: int = FEED_WINDOW
) -> list[Written]:
    """Write feed.xml, atom.xml and CHANGELOG.md under ``out``."""
    with Session(engine) as session:
        events = store.recent_events(session)
    base_url = base_url.rstrip("/") + "/"
    files = {
        "feed.xml": render_feed(events[:window], base_url, "rss"),
        "atom.xml": render_feed(events[:window], base_url, "atom"),
        "CHANGELOG.md": render_changelog(events).encode("utf-8"),
    }
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        path = out / name
        changed = write_atomic(path, content)
        log.info(
            "%s %s (%d bytes)", "wrote" if changed else "unchanged", path, len(content)
        )
        written.append(Written(path, changed))
    return written


def entry_id(event: PublishedEvent) -> str:
    """A ``tag:`` URI from the guide, version and kind alone."""
    return f"{TAG_PREFIX}{event.company}/{event.role}/v{event.version}/{event.kind}"


def render_feed(events: Sequence[PublishedEvent], base_url: str, kind: str) -> bytes:
    name = "feed.xml" if kind == "rss" else "atom.xml"
    feed = FeedGenerator()
    feed.id(f"{TAG_PREFIX}feed")
    feed.title("compfeed: compensation guide changes")
    feed.description("New, updated and reviewed compensation negotiation guides.")
    feed.language("en")
    feed.link(href=base_url + name, rel="self")
    # RSS takes the last link as the channel's own.
    feed.link(href=base_url + "CHANGELOG.md", rel="alternate")
    feed.updated(events[0].occurred_at if events else _NO_EVENTS)
    # feedgen prepends entries; adding oldest first leaves the newest on top.
    for event in reversed(events):
        entry = feed.add_entry()
        entry.id(entry_id(event))
        entry.guid(entry_id(event), permalink=False)
        entry.title(event.title)
        entry.link(href=f"{base_url}CHANGELOG.md")
        entry.description(event.headline)
        entry.published(event.occurred_at)
        entry.updated(event.occurred_at)
        entry.category(term=event.kind)
    if kind == "rss":
        return bytes(feed.rss_str(pretty=True))
    return bytes(feed.atom_str(pretty=True))


def render_changelog(events: Sequence[PublishedEvent]) -> str:
    """Newest first, grouped by the day compfeed saw each change."""
    lines = ["# Changelog", ""]
    if not events:
        lines.append("No changes yet.")
    for day, group in groupby(events, key=lambda e: e.occurred_at.date()):
        lines += [f"## {day.isoformat()}", ""]
        lines += [
            f"- **{e.title}** (v{e.version}): {e.headline} ({e.company}/{e.role})"
            for e in group
        ]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def write_atomic(path: Path, content: bytes) -> bool:
    """Replace ``path`` with ``content`` in one step; False when it already held it."""
    try:
        if path.read_bytes() == content:
            return False
    except FileNotFoundError:
        pass
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(
                handle.fileno(), 0o644
            )  # published files are for everyone to read
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return True
