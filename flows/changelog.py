"""The changelog, as markdown for people and JSON for machines: the newest events at
the top level, and every event in a file per month, which only that month's new events
ever rewrite."""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import groupby

from db.store import PublishedEvent
from flows.feeds import entry_id, guide_url


def render_changelog(events: Sequence[PublishedEvent], months: Sequence[str]) -> str:
    """The newest events, with a link to each month's full list."""
    links = ", ".join(f"[{month}](changelog/{month}.md)" for month in months)
    intro = [f"Every change, by month: {links}.", ""] if months else []
    return _changelog("# Changelog", intro, events)


def render_month(month: str, events: Sequence[PublishedEvent]) -> str:
    """Every event of one month."""
    intro = ["[Newest changes and every month](../CHANGELOG.md)", ""]
    return _changelog(f"# Changelog: {month}", intro, events)


def _changelog(title: str, intro: list[str], events: Sequence[PublishedEvent]) -> str:
    """Grouped by the day compfeed saw each change, one line per event."""
    lines = [title, "", *intro]
    if not events:
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
    return (
        json.dumps(
            [
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
            ],
            indent=1,
            ensure_ascii=False,
        )
        + "\n"
    )


def _version(event: PublishedEvent) -> str:
    if event.review_due is not None:
        return f"due {event.review_due.isoformat()}"
    return f"v{event.version}"


def _markdown(text: str) -> str:
    """Guide text shown literally: markdown's own characters are escaped."""
    for char in "\\`*_[]<>|":
        text = text.replace(char, "\\" + char)
    return text
