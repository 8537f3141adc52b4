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
import threading
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from jinja2 import Environment, PackageLoader, select_autoescape
from matplotlib import path as mpath
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Polygon, Rectangle
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import ScaledTranslation, blended_transform_factory

from db.schema import Guide, QoqChange, Version
from db.store import Company
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


# Charts are drawn on one figure per number of panels, kept for the process: making
# a figure, its axes and their tick machinery costs more than drawing it.
_WIDTH = 6.4  # inches
_BANDS = (("base", "#1f77b4"), ("total comp", "#ff7f0e"))
_QUARTER_LABELS = 8  # at most eight quarter labels fit a panel's width
_AMOUNT_LABELS = 8  # more than the locator below ever gives
_AMOUNTS = MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10])
_LABEL_GAP = 3.5 / 72  # inches between a panel's frame and its labels
_charts: dict[int, _Chart] = {}
# Two publishes in threads of one process would otherwise move each other's artists.
_charts_lock = threading.Lock()


class _Panel:
    """One region's panel: its bands, grid, frame and labels, drawn as a few plain
    artists; matplotlib's axis machinery (tick objects, label measuring) is off."""

    def __init__(self, figure: Figure, axis: Axes) -> None:
        axis.set_axis_off()
        self.axis = axis
        self.grid = PathPatch(
            mpath.Path([(0, 0)]),
            fill=False,
            edgecolor="#b0b0b0",
            linewidth=0.8,
            alpha=0.3,
            clip_on=False,
        )
        axis.add_artist(self.grid)
        # A band's outline is its low and high line; its limits hold all the figures,
        # so nothing needs clipping.
        self.bands = [
            Polygon(
                [(0, 0)],
                facecolor=to_rgba(colour, 0.25),
                edgecolor=colour,
                linewidth=1,
                clip_on=False,
            )
            for _, colour in _BANDS
        ]
        for band in self.bands:
            axis.add_artist(band)
        frame = Rectangle((0, 0), 1, 1, transform=axis.transAxes, fill=False)
        frame.set(edgecolor="black", linewidth=0.8, clip_on=False)
        axis.add_artist(frame)
        # A set height spares matplotlib measuring the labels to place the title.
        self.title = axis.set_title("", loc="left", y=1.0)
        # Region names are free text: a pair of dollar signs in one is no formula.
        self.title.set_parse_math(False)
        inches = figure.dpi_scale_trans
        below = blended_transform_factory(
            axis.transData, axis.transAxes
        ) + ScaledTranslation(0, -_LABEL_GAP, inches)
        left = blended_transform_factory(
            axis.transAxes, axis.transData
        ) + ScaledTranslation(-_LABEL_GAP, 0, inches)
        self.quarters = [
            axis.text(0, 0, "", transform=below, ha="center", va="top")
            for _ in range(_QUARTER_LABELS)
        ]
        self.amounts = [
            axis.text(0, 0, "", transform=left, ha="right", va="center_baseline")
            for _ in range(_AMOUNT_LABELS)
        ]

    def show(self, line: Series) -> None:
        """Set every artist of the panel from ``line`` alone, so that what was drawn
        before leaves no trace."""
        x = list(range(len(line.quarters)))
        lows, highs = [], []
        for band, values in zip(self.bands, (line.base, line.total), strict=True):
            known = [
                (i, low, high)
                for i, (low, high) in zip(x, values, strict=True)
                if low is not None and high is not None
            ]
            band.set_visible(bool(known))
            if known:
                band.set_xy(
                    [(i, low) for i, low, _ in known]
                    + [(i, high) for i, _, high in reversed(known)]
                )
                lows.append(min(low for _, low, _ in known))
                highs.append(max(high for _, _, high in known))
        span = max(len(x) - 1, 1)
        left, right = -0.05 * span, max(len(x) - 1, 0) + 0.05 * span
        bottom, top, amounts = 0.0, 1.0, []
        if lows:
            pad = (max(highs) - min(lows)) * 0.05 or max(abs(max(highs)) * 0.05, 1)
            bottom, top = min(lows) - pad, max(highs) + pad
            ticks = _AMOUNTS.tick_values(bottom, top)
            amounts = [float(v) for v in ticks if bottom <= v <= top]
        self.axis.set_xlim(left, right)
        self.axis.set_ylim(bottom, top)
        step = -(-len(x) // _QUARTER_LABELS) or 1
        quarters = x[::step]
        _place(self.quarters, [(i, 0.0) for i in quarters], line.quarters[::step])
        _place(self.amounts, [(0.0, v) for v in amounts], _thousands(amounts))
        grid: list[tuple[tuple[float, float], tuple[float, float]]] = [
            ((i, bottom), (i, top)) for i in quarters
        ]
        grid += [((left, v), (right, v)) for v in amounts]
        self.grid.set_visible(bool(grid))
        if grid:
            points = [point for segment in grid for point in segment]
            moves = [mpath.Path.MOVETO, mpath.Path.LINETO] * len(grid)
            self.grid.set_path(mpath.Path(points, moves))
        self.title.set_text(f"{line.region} ({line.currency})")


def _place(
    texts: list[Text], positions: list[tuple[float, float]], labels: list[str]
) -> None:
    for i, text in enumerate(texts):
        text.set_visible(i < len(labels))
        if i < len(labels):
            text.set_position(positions[i])
            text.set_text(labels[i])


def _thousands(amounts: list[float]) -> list[str]:
    """Amounts in thousands, with as few decimals as keep the labels apart; small
    amounts as they are."""
    for decimals in range(3):
        labels = [f"{v / 1000:,.{decimals}f}K" for v in amounts]
        if len(set(labels)) == len(labels):
            return labels
    return [f"{v:,g}" for v in amounts]


class _Chart:
    """A figure of ``count`` panels, one above the other, with its legend."""

    def __init__(self, count: int) -> None:
        height = 0.7 + 2.2 * count
        # At 72 dpi, the SVG backend's own resolution, saving changes no transform.
        self.figure = Figure(figsize=(_WIDTH, height), dpi=72)
        self.figure.subplots_adjust(
            left=0.1, right=0.98, top=1 - 0.5 / height, bottom=0.45 / height, hspace=0.6
        )
        self.panels = [
            _Panel(self.figure, self.figure.add_subplot(count, 1, i + 1))
            for i in range(count)
        ]
        # A legend in set places on a line of its own, above the first title:
        # matplotlib's would be laid out again on each save.
        inches = self.figure.dpi_scale_trans
        for (label, colour), x in zip(
            _BANDS, (0.1 * _WIDTH, 0.1 * _WIDTH + 0.8), strict=True
        ):
            swatch = Rectangle((x, height - 0.2), 0.16, 0.09, transform=inches)
            swatch.set(facecolor=to_rgba(colour, 0.25), edgecolor=colour, linewidth=1)
            self.figure.add_artist(swatch)
            self.figure.text(
                x + 0.22, height - 0.155, label, transform=inches, va="center_baseline"
            )

    def draw(self, series: list[Series]) -> str:
        for panel, line in zip(self.panels, series, strict=True):
            panel.show(line)
        # Written as text: a byte buffer would take every piece through a codec.
        buffer = io.StringIO()
        self.figure.savefig(
            buffer, format="svg", metadata={"Date": None, "Creator": None}
        )
        return buffer.getvalue()


def render_chart(series: list[Series], fingerprint: str) -> bytes:
    """Each region's base and total-comp bands over the quarters, one panel each,
    with the fingerprint of its figures as a comment after the XML declaration."""
    with _charts_lock:
        chart = _charts.get(len(series))
        if chart is None:
            chart = _charts[len(series)] = _Chart(len(series))
        svg = chart.draw(series)
    declaration, _, rest = svg.partition("\n")
    return f"{declaration}\n<!-- compfeed-chart {fingerprint} -->\n{rest}".encode()


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


def render_index(companies: list[Company], roles: list[str], base_url: str) -> str:
    """The top page: every company, with its guides' page and its feeds."""
    return _TEMPLATES.get_template("index.html").render(
        companies=companies, roles=roles, base_url=base_url
    )


def render_company(
    company: str, entries: list[tuple[Guide, Version, bool]], base_url: str
) -> str:
    """A company's page: its guides, each with its quarter and latest change."""
    guides = [
        {
            "key": guide.key,
            "title": title_of(version.snapshot.frontmatter),
            "quarter": version.snapshot.salary_data_quarter,
            "kind": version.kind,
            "live": live,
            "href": f"{guide.role}/",
        }
        for guide, version, live in entries
    ]
    return _TEMPLATES.get_template("company.html").render(
        company=company, guides=guides, base_url=base_url
    )
