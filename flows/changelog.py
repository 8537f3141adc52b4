"""The changelog, as markdown for people and JSON for machines: the newest events at
the top level, and every event in the files of its month.

A month is cut, oldest first, into parts of ``PART`` events; the month's own file holds
the newest events, fewer than a part, and links to its full parts. New events land in
the month's file and fill a part now and then, so a publish redraws a bounded amount
however many events the month already has; only an event stored late with an older
time (a clock set back) moves the parts after it, which are then drawn again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from db.store import PublishedEvent
from flows.feeds import entry_id, guide_url

PART = 1000


def render_changelog(events: Sequence[PublishedEvent], months: Sequence[str]) -> str:
    """The newest events, with a link to each month's full list."""
    links = ", ".join(f"[{month}](changelog/{month}.md)" for month in months)
    intro = [f"Every change, by month: {links}.", ""] if months else []
    return _changelog("# Changelog", intro, events)


def render_month(month: str, parts: int, events: Sequence[PublishedEvent]) -> str:
    """A month's newest events, after its ``parts`` full parts (1 is the oldest)."""
    intro = ["[Newest changes and every month](../CHANGELOG.md)", ""]
    if parts:
        links = ", ".join(f"[part {n}]({month}/{n}.md)" for n in range(parts, 0, -1))
        intro += [f"Earlier this month, newest first: {links}.", ""]
        if not events:
            intro += ["Every change of this month is in its parts.", ""]
    return _changelog(f"# Changelog: {month}", intro, events, empty=not parts)


def render_part(month: str, part: int, events: Sequence[PublishedEvent]) -> str:
    """One full part of a month: ``PART`` events, newest first."""
    intro = [f"[The month's newest changes and its other parts](../{month}.md)", ""]
    return _changelog(f"# Changelog: {month}, part {part}", intro, events)


def _changelog(
    title: str,
    intro: list[str],
    events: Sequence[PublishedEvent],
    empty: bool = True,
) -> str:
    """Grouped by the day compfeed saw each change, one line per event; ``empty``
    says whether no events at all is worth saying."""
    lines = [title, "", *intro]
    if not events and empty:
        lines.append("No changes yet.")
    for day, group in groupby(events, key=lambda e: e.occurred_at.date()):
        lines += [f"## {day.isoformat()}", ""]
        lines += [
            f"- **{_markdown(e.title)}** ({_version(e)}): {_markdown(e.headline)} "
            f"`{e.company}/{e.role}`"
            for e in group
        ]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def render_changes_json(events: Sequence[PublishedEvent], base_url: str) -> str:
    """The newest events, as a JSON array."""
    return _json(_items(events, base_url))


def render_month_json(
    month: str, parts: int, events: Sequence[PublishedEvent], base_url: str
) -> str:
    """A month's newest events, with the addresses of its full parts (newest
    first): every event of the month is in exactly one of them."""
    urls = [f"{base_url}changes/{month}/{n}.json" for n in range(parts, 0, -1)]
    return _json({"month": month, "parts": urls, "events": _items(events, base_url)})


def render_part_json(
    month: str, part: int, events: Sequence[PublishedEvent], base_url: str
) -> str:
    return _json({"month": month, "part": part, "events": _items(events, base_url)})


def _items(events: Sequence[PublishedEvent], base_url: str) -> list[dict[str, Any]]:
    return [
        {
            "id": entry_id(e),
            "guide": f"{e.company}/{e.role}",
            "version": e.version,
            "kind": e.kind,
            "occurred_at": e.occurred_at.isoformat(),
            "salary_data_quarter": e.salary_data_quarter,
            "review_due": e.review_due.isoformat() if e.review_due else None,
            "title": e.title,
            "headline": e.headline,
            "link": f"{guide_url(base_url, e.company, e.role)}#v{e.version}",
        }
        for e in events
    ]


def _json(value: Any) -> str:
    return json.dumps(value, indent=1, ensure_ascii=False) + "\n"


def _version(event: PublishedEvent) -> str:
    if event.review_due is not None:
        return f"due {event.review_due.isoformat()}"
    return f"v{event.version}"


def _markdown(text: str) -> str:
    """Guide text shown literally: markdown's own characters are escaped."""
    for char in "\\`*_[]<>|":
        text = text.replace(char, "\\" + char)
    return text
