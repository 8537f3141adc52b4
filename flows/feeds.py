"""RSS 2.0 and Atom feeds of the history's events, built with feedgen.

Every value in a feed comes from the stored events, so the bytes depend on the
history alone: entry ids are ``tag:`` URIs of the guide, version and kind (the base
URL plays no part), dates are the times compfeed stored each change, and a feed's own
date is its newest entry's. So a feed drawn again need only draw its new entries: the
ones it keeps are copied from its published files as they were written.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import unescape

from feedgen.feed import FeedGenerator

from db.store import Moved, PublishedEvent
from flows.views import amount

# The tagging authority and the year it was taken: fixed, so ids never change.
TAG_PREFIX = "tag:compfeed,2026:"
# An empty feed still needs a date; the epoch keeps that file stable too.
NO_EVENTS = datetime(1970, 1, 1, tzinfo=UTC)
# Characters XML 1.0 does not allow in a document, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text)


def entry_id(event: PublishedEvent) -> str:
    if event.review_due is not None:
        suffix = f"{event.kind}/{event.review_due.isoformat()}"
    else:
        suffix = f"v{event.version}/{event.kind}"
    return f"{TAG_PREFIX}{event.company}/{event.role}/{suffix}"


def guide_url(base_url: str, company: str, role: str) -> str:
    return f"{base_url}guides/{company}/{role}/"


def entry_html(event: PublishedEvent, moved: Sequence[Moved]) -> str:
    """The entry's content: its headline, and the figures that moved, if any."""
    text = f"<p>{html.escape(event.headline)}</p>"
    if not moved:
        return text
    # Amounts and percentages are digits and signs, with nothing to escape.
    rows = "".join(
        f"<tr><td>{html.escape(c.region)}</td><td>{html.escape(c.field)}</td>"
        f"<td>{amount(c.old)}</td><td>{amount(c.new)}</td>"
        f"<td>{'' if c.pct is None else f'{c.pct:+.2f}%'}</td>"
        f"<td>{html.escape(c.flag or '')}</td></tr>"
        for c in moved
    )
    return (
        f"{text}<table><tr><th>region</th><th>figure</th><th>old</th><th>new</th>"
        f"<th>change</th><th>note</th></tr>{rows}</table>"
    )


@dataclass(frozen=True)
class Kept:
    """An entry of a feed published before, as both of its files wrote it."""

    tag: str
    occurred_at: datetime
    rss: bytes
    atom: bytes


@dataclass(frozen=True)
class Layout:
    """Where feedgen's pretty-printed document keeps its entries: each starts with
    ``opening`` and ends with ``closing``, and ``after`` follows the last."""

    opening: bytes
    closing: bytes
    after: bytes


RSS_ITEMS = Layout(b"    <item>\n", b"    </item>\n", b"  </channel>\n")
ATOM_ENTRIES = Layout(b"  <entry>\n", b"  </entry>\n", b"</feed>\n")
_ATOM_ID = re.compile(rb"<id>([^<]*)</id>")
_ATOM_UPDATED = re.compile(rb"<updated>([^<]*)</updated>")
_RSS_GUID = re.compile(rb'<guid isPermaLink="false">([^<]*)</guid>')


def published_entries(rss_path: Path, atom_path: Path) -> list[Kept] | None:
    """The entries of a feed published before, newest first; None when either file
    is missing or not laid out as compfeed writes it. An entry follows from its event
    alone, which is never changed, so a feed drawn again can copy the ones it keeps."""
    try:
        rss = entries_of(rss_path.read_bytes(), RSS_ITEMS)[1]
        atom = entries_of(atom_path.read_bytes(), ATOM_ENTRIES)[1]
    except (OSError, ValueError):
        return None
    if len(rss) != len(atom):
        return None
    kept = []
    for item, entry in zip(rss, atom, strict=True):
        tag, guid = _ATOM_ID.search(entry), _RSS_GUID.search(item)
        updated = _ATOM_UPDATED.search(entry)
        if tag is None or guid is None or updated is None:
            return None
        if tag.group(1) != guid.group(1):
            return None
        try:
            occurred_at = datetime.fromisoformat(updated.group(1).decode())
            text = unescape(tag.group(1).decode())
        except ValueError:  # a date or an id compfeed did not write
            return None
        # compfeed writes every date with its offset; one without cannot be ordered.
        if occurred_at.tzinfo is None:
            return None
        kept.append(Kept(text, occurred_at, item, entry))
    return kept


def entries_of(document: bytes, layout: Layout) -> tuple[bytes, list[bytes], bytes]:
    """A feed cut into what precedes its entries, each entry, and what follows them;
    ValueError when it is not laid out as feedgen writes it."""
    end = document.rindex(b"\n" + layout.after) + 1
    first = document.find(b"\n" + layout.opening, 0, end)
    start = end if first < 0 else first + 1
    entries, at = [], start
    while at < end:
        if not document.startswith(layout.opening, at):
            raise ValueError(f"no entry at byte {at}")
        stop = document.index(layout.closing, at) + len(layout.closing)
        entries.append(document[at:stop])
        at = stop
    if at != end:
        raise ValueError("an entry runs past the end of the feed")
    return document[:start], entries, document[end:]


def merged_window(
    new: Sequence[PublishedEvent], kept: Sequence[Kept], size: int
) -> list[PublishedEvent | Kept]:
    """A feed's newest ``size`` entries, from the events stored since it was
    published (newest first, as a query gives them) and the entries it kept: those
    are its newest older events, so no other can enter. A new event was stored after
    every kept one, so at the same time it comes first."""
    tags = {entry_id(event) for event in new}
    # A publish stopped before its manifest leaves feeds that show some new events.
    kept = [entry for entry in kept if entry.tag not in tags]
    window: list[PublishedEvent | Kept] = []
    i = j = 0
    while len(window) < size and (i < len(new) or j < len(kept)):
        if j == len(kept) or (
            i < len(new) and new[i].occurred_at >= kept[j].occurred_at
        ):
            window.append(new[i])
            i += 1
        else:
            window.append(kept[j])
            j += 1
    return window


def render_feed(
    events: Sequence[PublishedEvent],
    changes: dict[int, list[Moved]],
    *,
    kind: str,
    title: str,
    self_url: str,
    home_url: str,
    base_url: str,
) -> bytes:
    """One feed, RSS (``kind="rss"``) or Atom, newest entry first."""
    rss, atom = render_feeds(
        events,
        changes,
        title=title,
        rss_url=self_url,
        atom_url=self_url,
        home_url=home_url,
        base_url=base_url,
    )
    return rss if kind == "rss" else atom


def render_feeds(
    items: Sequence[PublishedEvent | Kept],
    changes: dict[int, list[Moved]],
    *,
    title: str,
    rss_url: str,
    atom_url: str,
    home_url: str,
    base_url: str,
    contents: dict[str, str] | None = None,
) -> tuple[bytes, bytes]:
    """The same feed as RSS and as Atom, each with its own self link, newest entry
    first. Events are drawn; entries kept from the published feed are copied as they
    were written. ``contents`` keeps each drawn entry's HTML for the next feed that
    shows the same event."""
    contents = {} if contents is None else contents
    events = [item for item in items if isinstance(item, PublishedEvent)]
    updated = items[0].occurred_at if items else NO_EVENTS
    # One feed with its entries, written out twice: only its id and links differ.
    feed = _feed(events, changes, title, base_url, updated, contents)
    _address(feed, rss_url, home_url, base_url)
    rss = bytes(feed.rss_str(pretty=True))
    _address(feed, atom_url, home_url, base_url)
    atom = bytes(feed.atom_str(pretty=True))
    if len(events) == len(items):
        return rss, atom
    return _spliced(rss, items, RSS_ITEMS), _spliced(atom, items, ATOM_ENTRIES)


def _address(feed: FeedGenerator, self_url: str, home_url: str, base_url: str) -> None:
    """A feed's id and links, which follow the address it is published at."""
    feed.id(f"{TAG_PREFIX}{self_url.removeprefix(base_url)}")
    # RSS takes the last link as the channel's own.
    feed.link(
        [{"href": self_url, "rel": "self"}, {"href": home_url, "rel": "alternate"}],
        replace=True,
    )


def _feed(
    events: Sequence[PublishedEvent],
    changes: dict[int, list[Moved]],
    title: str,
    base_url: str,
    updated: datetime,
    contents: dict[str, str],
) -> FeedGenerator:
    feed = FeedGenerator()
    feed.title(xml_safe(title))
    feed.description("New, updated, reviewed and retired compensation guides.")
    feed.language("en")
    # RFC 4287 wants an author for the feed when its entries name none.
    feed.author({"name": "compfeed"})
    feed.updated(updated)
    # feedgen prepends entries; adding oldest first leaves the newest on top.
    for event in reversed(events):
        entry = feed.add_entry()
        tag = entry_id(event)
        entry.id(tag)
        entry.guid(tag, permalink=False)
        entry.title(xml_safe(event.title))
        entry.link(
            href=f"{guide_url(base_url, event.company, event.role)}#v{event.version}"
        )
        # HTML, escaped once by the XML writer: RSS takes it as the description,
        # Atom as content declared type="html".
        if tag not in contents:
            html_text = entry_html(event, changes.get(event.version_id, []))
            contents[tag] = xml_safe(html_text)
        entry.content(contents[tag], type="html")
        entry.published(event.occurred_at)
        entry.updated(event.occurred_at)
        entry.category(term=event.kind)
    return feed


def _spliced(
    drawn: bytes, items: Sequence[PublishedEvent | Kept], layout: Layout
) -> bytes:
    """A feed whose events were drawn alone, with the kept entries copied in place."""
    head, entries, tail = entries_of(drawn, layout)
    fresh = iter(entries)
    body = [
        next(fresh)
        if isinstance(item, PublishedEvent)
        else (item.rss if layout is RSS_ITEMS else item.atom)
        for item in items
    ]
    return head + b"".join(body) + tail
