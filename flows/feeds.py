"""RSS 2.0 and Atom feeds of the history's events, built with feedgen.

Every value in a feed comes from the stored events, so the bytes depend on the
history alone: entry ids are ``tag:`` URIs of the guide, version and kind (the base
URL plays no part), dates are the times compfeed stored each change, and a feed's own
date is its newest entry's.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from feedgen.feed import FeedGenerator
from lxml import etree

from db.store import Moved, PublishedEvent
from flows.views import amount

# The tagging authority and the year it was taken: fixed, so ids never change.
TAG_PREFIX = "tag:compfeed,2026:"
# An empty feed still needs a date; the epoch keeps that file stable too.
NO_EVENTS = datetime(1970, 1, 1, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"
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


def published_contents(path: Path) -> dict[str, str]:
    """The entries of an Atom feed published before: their HTML by entry id (none
    when the file is missing or unreadable). An entry's HTML follows from its event
    alone, which is never changed, so a feed drawn again can take it from there."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.parse(str(path), parser).getroot()
    except (OSError, etree.XMLSyntaxError):
        return {}
    found = {}
    for entry in root.iterfind(f"{ATOM}entry"):
        tag, content = entry.findtext(f"{ATOM}id"), entry.findtext(f"{ATOM}content")
        if tag and content is not None:
            found[tag] = content
    return found


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
    events: Sequence[PublishedEvent],
    changes: dict[int, list[Moved]],
    *,
    title: str,
    rss_url: str,
    atom_url: str,
    home_url: str,
    base_url: str,
    contents: dict[str, str] | None = None,
) -> tuple[bytes, bytes]:
    """The same feed as RSS and as Atom, each with its own self link. ``contents``
    keeps each entry's HTML for the next feed that shows the same event."""
    contents = {} if contents is None else contents
    # One feed with its entries, written out twice: only its id and links differ.
    feed = _feed(events, changes, title, base_url, contents)
    _address(feed, rss_url, home_url, base_url)
    rss = bytes(feed.rss_str(pretty=True))
    _address(feed, atom_url, home_url, base_url)
    return rss, bytes(feed.atom_str(pretty=True))


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
    contents: dict[str, str],
) -> FeedGenerator:
    feed = FeedGenerator()
    feed.title(xml_safe(title))
    feed.description("New, updated, reviewed and retired compensation guides.")
    feed.language("en")
    # RFC 4287 wants an author for the feed when its entries name none.
    feed.author({"name": "compfeed"})
    feed.updated(events[0].occurred_at if events else NO_EVENTS)
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
