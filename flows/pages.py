"""Guide pages and the index page, in HTML, with a chart per guide in SVG.

A guide page shows the current ranges per region, every version, the latest
quarter-over-quarter table, and a chart of each region's base and total-comp ranges
over the quarters, drawn with matplotlib at publish time: static SVG, no script.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from jinja2 import Environment, PackageLoader, select_autoescape
from matplotlib.figure import Figure

from db.schema import Guide, QoqChange, Version
from flows.compare import region_key
from flows.snapshot import ChangeKind, title_of
from flows.views import amount, number, span

# Fixed ids and no timestamp in the SVG: the same history draws the same bytes.
matplotlib.rcParams.update(
    {"svg.hashsalt": "compfeed", "svg.fonttype": "none", "font.size": 8}
)

_TEMPLATES = Environment(
    loader=PackageLoader("flows", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


_FINGERPRINT = re.compile(rb"<!-- compfeed-chart ([0-9a-f]{64}) -->")
_HEAD = 512  # the declaration and the fingerprint come first

_TEMPLATES.filters["amount"] = amount
_TEMPLATES.globals["span"] = span


@dataclass(frozen=True)
class Series:
    """One region's ranges over the quarters, for the chart."""

    region: str
    currency: str
    quarters: list[str]
    base: list[tuple[int | None, int | None]]
    total: list[tuple[int | None, int | None]]


def series_of(versions: list[Version]) -> list[Series]:
    """Per region of the latest snapshot, its figures in the last version of each
    quarter; regions are followed across quarters by their loose key."""
    by_quarter: dict[str, Version] = {}
    for version in versions:
        if version.kind != ChangeKind.RETIRED:
            by_quarter[version.snapshot.salary_data_quarter] = version
    quarters = sorted(by_quarter)
    latest = versions[-1].snapshot.frontmatter["compensation"]
    found = []
    for region in latest:
        key = region_key(region["region"])
        base, total, seen = [], [], []
        for quarter in quarters:
            regions = by_quarter[quarter].snapshot.frontmatter["compensation"]
            match = next((r for r in regions if region_key(r["region"]) == key), None)
            if match is None or match["currency"] != region["currency"]:
                continue
            seen.append(quarter)
            base.append((match.get("base_low"), match.get("base_high")))
            total.append((match.get("total_comp_low"), match.get("total_comp_high")))
        found.append(Series(region["region"], region["currency"], seen, base, total))
    return found


def chart_fingerprint(series: list[Series]) -> str:
    """A digest of what a chart shows: equal digests draw equal charts."""
    data = json.dumps([dataclasses.astuple(line) for line in series])
    return hashlib.sha256(data.encode()).hexdigest()


def chart_fingerprint_of(path: Path) -> str | None:
    """The digest a drawn chart carries near its top, if it is there."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD)
    except OSError:
        return None
    found = _FINGERPRINT.search(head)
    return found.group(1).decode() if found else None


def render_chart(series: list[Series], fingerprint: str) -> bytes:
    """Each region's base and total-comp bands over the quarters, one panel each,
    with the fingerprint of its figures as a comment after the XML declaration."""
    height = 0.5 + 2.2 * len(series)
    figure = Figure(figsize=(6.4, height))
    figure.subplots_adjust(
        left=0.1, right=0.98, top=1 - 0.3 / height, bottom=0.45 / height, hspace=0.6
    )
    axes = figure.subplots(len(series), 1, squeeze=False)
    for axis, line in zip(axes[:, 0], series, strict=True):
        x = list(range(len(line.quarters)))
        for label, values, colour in (
            ("base", line.base, "#1f77b4"),
            ("total comp", line.total, "#ff7f0e"),
        ):
            known = [
                (i, low, high)
                for i, (low, high) in zip(x, values, strict=True)
                if low is not None and high is not None
            ]
            if not known:
                continue
            xs, lows, highs = zip(*known, strict=True)
            axis.fill_between(xs, lows, highs, alpha=0.25, color=colour, label=label)
            axis.plot(xs, lows, ".-", xs, highs, ".-", color=colour, linewidth=1)
        # A set height spares matplotlib measuring the tick labels to place it.
        axis.set_title(f"{line.region} ({line.currency})", loc="left", y=1.0)
        # At most eight quarter labels fit a panel's width.
        step = -(-len(x) // 8)
        axis.set_xticks(x[::step], line.quarters[::step])
        axis.yaxis.set_major_formatter(lambda value, _: f"{value / 1000:,.0f}K")
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(loc="upper left", frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    declaration, _, rest = buffer.getvalue().partition(b"\n")
    return b"%s\n<!-- compfeed-chart %s -->\n%s" % (
        declaration,
        fingerprint.encode(),
        rest,
    )


def charted(series: list[Series]) -> bool:
    """Whether there is a history to draw: some region known in two quarters."""
    return any(len(line.quarters) > 1 for line in series)


def render_guide_page(
    guide: Guide,
    versions: list[Version],
    changes: list[QoqChange],
    live: bool,
    chart: bool,
    base_url: str,
) -> str:
    latest = versions[-1]
    data = latest.snapshot.frontmatter
    rows = [
        {
            "number": v.number,
            "kind": v.kind,
            "quarter": v.snapshot.salary_data_quarter,
            "last_updated": v.snapshot.last_updated.isoformat(),
            "stored": v.ingested_at.date().isoformat(),
            "changed": ", ".join(v.changed_fields),
        }
        for v in reversed(versions)
    ]
    comparison = [
        {
            "region": c.region,
            "field": c.field,
            "old": number(c.old),
            "new": number(c.new),
            "delta": number(c.delta),
            "pct": "" if c.pct is None else f"{c.pct:+.2f}%",
            "flag": c.flag or "",
        }
        for c in changes
    ]
    return _TEMPLATES.get_template("guide.html").render(
        guide=guide,
        title=title_of(data),
        data=data,
        regions=data["compensation"],
        versions=rows,
        comparison=comparison,
        compared=(changes[0].from_quarter, changes[0].to_quarter) if changes else None,
        live=live,
        chart=chart,
        base_url=base_url,
    )


def render_index(entries: list[tuple[Guide, Version, bool]], base_url: str) -> str:
    guides = [
        {
            "key": guide.key,
            "title": title_of(version.snapshot.frontmatter),
            "quarter": version.snapshot.salary_data_quarter,
            "kind": version.kind,
            "live": live,
            "href": f"guides/{guide.company}/{guide.role}/",
        }
        for guide, version, live in entries
    ]
    companies = sorted({guide.company for guide, _, _ in entries})
    roles = sorted({guide.role for guide, _, _ in entries})
    return _TEMPLATES.get_template("index.html").render(
        guides=guides, companies=companies, roles=roles, base_url=base_url
    )
