"""A guide's chart: each region's base and total-comp ranges over the quarters, one
panel per region, as a static SVG drawn from a Jinja2 template (no script, no
timestamp: the same figures draw the same bytes).

The geometry is worked out here, in plain functions; the template only writes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from db.schema import Version
from flows.compare import region_key
from flows.feeds import xml_safe
from flows.pages import TEMPLATES
from flows.snapshot import ChangeKind

# The drawing, in pixels.
WIDTH = 480
LEFT, RIGHT = 60, 472  # a plot's frame; amount labels go left of it
PLOT = 120  # a plot's height
LEGEND = 22  # the line above the first panel
TITLE = 18  # above each plot
LABELS = 22  # below each plot, for the quarters
GAP = 4  # between a frame and its labels
BANDS = (("base", "#1f77b4"), ("total comp", "#ff7f0e"))
QUARTER_LABELS = 8  # at most eight quarter labels fit a panel's width
AMOUNT_TICKS = 5  # at most about this many amounts labelled
STEPS = (1, 2, 2.5, 5, 10)  # amount steps, times a power of ten


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


def charted(series: list[Series]) -> bool:
    """Whether there is a history to draw: some region known in two quarters."""
    return any(len(line.quarters) > 1 for line in series)


def render_chart(series: list[Series]) -> bytes:
    """The chart of ``series``, a panel each, top to bottom."""
    panels = [_panel(line, _panel_top(i)) for i, line in enumerate(series)]
    svg = TEMPLATES.get_template("chart.svg").render(
        width=WIDTH,
        height=_panel_top(len(series)) - TITLE + GAP,
        legend=[
            {"label": label, "colour": colour, "x": LEFT + 70 * i}
            for i, (label, colour) in enumerate(BANDS)
        ],
        panels=panels,
    )
    return svg.encode("utf-8")


def _panel_top(index: int) -> int:
    return LEGEND + TITLE + index * (TITLE + PLOT + LABELS)


def _panel(line: Series, top: int) -> dict[str, object]:
    """A panel's frame, bands, grid and labels, in pixels."""
    xs = range(len(line.quarters))
    lows, highs = [], []
    bands = []
    for (_, colour), values in zip(BANDS, (line.base, line.total), strict=True):
        known = [
            (i, low, high)
            for i, (low, high) in zip(xs, values, strict=True)
            if low is not None and high is not None
        ]
        if known:
            lows.append(min(low for _, low, _ in known))
            highs.append(max(high for _, _, high in known))
            bands.append((colour, known))
    span = max(len(xs) - 1, 1)
    left, right = -0.05 * span, max(len(xs) - 1, 0) + 0.05 * span
    bottom, ceiling = 0.0, 1.0
    amounts: list[float] = []
    if lows:
        pad = (max(highs) - min(lows)) * 0.05 or max(abs(max(highs)) * 0.05, 1)
        bottom, ceiling = min(lows) - pad, max(highs) + pad
        amounts = ticks(bottom, ceiling)

    def x_of(i: float) -> float:
        return LEFT + (i - left) / (right - left) * (RIGHT - LEFT)

    def y_of(v: float) -> float:
        return top + PLOT - (v - bottom) / (ceiling - bottom) * PLOT

    step = -(-len(xs) // QUARTER_LABELS) or 1
    labelled = list(xs)[::step]
    return {
        "region": xml_safe(f"{line.region} ({line.currency})"),
        "top": top,
        "left": LEFT,
        "width": RIGHT - LEFT,
        "height": PLOT,
        "bands": [
            {
                "colour": colour,
                "points": " ".join(
                    f"{x_of(i):.1f},{y_of(v):.1f}"
                    for i, v in [(i, low) for i, low, _ in known]
                    + [(i, high) for i, _, high in reversed(known)]
                ),
            }
            for colour, known in bands
        ],
        "columns": [round(x_of(i), 1) for i in labelled],
        "rows": [round(y_of(v), 1) for v in amounts],
        "quarters": [
            {"x": round(x_of(i), 1), "text": line.quarters[i]} for i in labelled
        ],
        "amounts": [
            {"y": round(y_of(v), 1), "text": text}
            for v, text in zip(amounts, thousands(amounts), strict=True)
        ],
    }


def ticks(low: float, high: float) -> list[float]:
    """Round amounts between ``low`` and ``high`` to label: about five, a step of 1,
    2, 2.5 or 5 times a power of ten apart."""
    rough = (high - low) / AMOUNT_TICKS
    power = 10.0 ** math.floor(math.log10(rough))
    step = next(s * power for s in STEPS if s * power >= rough)
    first = math.ceil(low / step)
    # Rounded, or a step of 0.2 would label 0.6000000000000001.
    return [round(n * step, 9) for n in range(first, math.floor(high / step) + 1)]


def thousands(amounts: list[float]) -> list[str]:
    """Amounts in thousands, with as few decimals as keep the labels apart; small
    amounts as they are."""
    for decimals in range(3):
        labels = [f"{v / 1000:,.{decimals}f}K" for v in amounts]
        if len(set(labels)) == len(labels):
            return labels
    return [f"{v:,g}" for v in amounts]
