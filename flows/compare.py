"""Quarter-over-quarter changes between two snapshots of a guide: pure functions.

Regions are matched by name, figures by field, and a figure is compared only with the
same figure in the same currency. Missing figures get no delta, never zero.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flows.guide import FIGURES
from flows.quarter import Quarter

Number = int | float


class Flag:
    REGION_ADDED = "region_added"
    REGION_REMOVED = "region_removed"
    CURRENCY_CHANGED = "currency_changed"
    MISSING_VALUE = "missing_value"


@dataclass(frozen=True)
class Change:
    region: str
    field: str
    currency: str | None
    old: Number | None
    new: Number | None
    delta: Number | None
    pct: float | None
    flag: str | None = None


@dataclass(frozen=True)
class Comparison:
    from_quarter: Quarter
    to_quarter: Quarter
    changes: list[Change]

    @property
    def span(self) -> int:
        return self.to_quarter.quarters_since(self.from_quarter)

    @property
    def moved(self) -> list[Change]:
        return [c for c in self.changes if c.flag is not None or c.delta]


def region_name(name: str) -> str:
    """A region's name without what never tells regions apart: case, spacing, emoji."""
    name = re.sub(r":[a-z0-9_+-]+:", " ", name)
    return " ".join(name.casefold().split())


def region_key(name: str) -> str:
    """A looser key: also without notes in brackets and what follows a comma, so that
    ``San Francisco, CA (HQ)`` and ``San Francisco (USD)`` are one region."""
    name = re.sub(r"\([^)]*\)", " ", region_name(name))
    return " ".join(name.split(",")[0].split())


def match_regions(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> list[tuple[dict[str, Any] | None, dict[str, Any] | None]]:
    """Pairs of (old, new) regions: equal names first, then equal loose keys where the
    key is unique on both sides (``London`` and ``London (DeepMind)`` in one guide
    stay two regions). Unpaired regions come with None: added or removed."""
    old_left = list(before)
    pairs: dict[int, dict[str, Any]] = {}
    for key in (region_name, region_key):
        new_left = [i for i in range(len(after)) if i not in pairs]
        olds = _unique_by(key, old_left)
        news = _unique_by(key, [after[i] for i in new_left])
        for i in new_left:
            k = key(after[i]["region"])
            if k in olds and k in news:
                pairs[i] = olds[k]
                old_left.remove(olds[k])
    matched = [(pairs.get(i), region) for i, region in enumerate(after)]
    return matched + [(region, None) for region in old_left]


def _unique_by(
    key: Callable[[str], str], regions: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    counts = Counter(key(r["region"]) for r in regions)
    return {key(r["region"]): r for r in regions if counts[key(r["region"])] == 1}


def compare(
    from_quarter: Quarter,
    before: list[dict[str, Any]],
    to_quarter: Quarter,
    after: list[dict[str, Any]],
) -> Comparison:
    """Every figure of every region, from one snapshot's compensation to the next."""
    changes: list[Change] = []
    for old, new in match_regions(before, after):
        if old is None and new is not None:
            changes.append(_whole_region(new, Flag.REGION_ADDED))
        elif new is None and old is not None:
            changes.append(_whole_region(old, Flag.REGION_REMOVED))
        elif old is not None and new is not None:
            changes.extend(_figures(old, new))
    return Comparison(from_quarter, to_quarter, changes)


def _whole_region(region: dict[str, Any], flag: str) -> Change:
    return Change(
        region["region"], "region", region["currency"], None, None, None, None, flag
    )


def _figures(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    name, currency = after["region"], after["currency"]
    same_currency = before["currency"] == currency
    changes = []
    for field in FIGURES:
        old, new = before.get(field), after.get(field)
        if old is None and new is None:
            continue
        if old is None or new is None:
            changes.append(
                Change(name, field, currency, old, new, None, None, Flag.MISSING_VALUE)
            )
        elif not same_currency and field != "bonus_pct":
            changes.append(
                Change(
                    name, field, currency, old, new, None, None, Flag.CURRENCY_CHANGED
                )
            )
        else:
            # Percentages are decimals: 20 - 16.8 reads 3.2, not 3.1999999999999993.
            delta = new - old
            if isinstance(delta, float):
                delta = round(delta, 6)
            pct = round(delta / old * 100, 2) if old else None
            changes.append(Change(name, field, currency, old, new, delta, pct))
    return changes


def headline(comparison: Comparison) -> str:
    """One line for a reader: which regions moved, and by how much."""
    span = f"{comparison.from_quarter} → {comparison.to_quarter}"
    if comparison.span != 1:
        span += f" ({comparison.span} quarters)"
    moved_regions = {c.region for c in comparison.moved}
    by_region: dict[str, list[Change]] = {}
    for change in comparison.changes:
        if change.region in moved_regions:
            by_region.setdefault(change.region, []).append(change)
    if not by_region:
        return f"{span}: figures unchanged"
    return f"{span}: " + "; ".join(
        f"{region} {_describe(changes)}" for region, changes in by_region.items()
    )


# How a figure is named in a headline: a range's low and high read as one figure.
_GROUPS = {name: name.rsplit("_", 1)[0].replace("_", " ") for name in FIGURES}
_GROUPS["bonus_pct"] = "bonus %"


def _describe(changes: list[Change]) -> str:
    first = changes[0]
    if first.flag == Flag.REGION_ADDED:
        return "added"
    if first.flag == Flag.REGION_REMOVED:
        return "removed"
    parts = []
    if any(c.flag == Flag.CURRENCY_CHANGED for c in changes):
        parts.append(f"now in {first.currency}")
    groups: dict[str, list[Change]] = {}
    for change in changes:
        groups.setdefault(_GROUPS[change.field], []).append(change)
    for label, group in groups.items():
        if not any(c.delta or c.flag == Flag.MISSING_VALUE for c in group):
            continue
        missing = [c for c in group if c.flag == Flag.MISSING_VALUE]
        if missing:
            parts.append(
                f"{label} {'now given' if missing[0].old is None else 'dropped'}"
            )
        else:
            parts.append(f"{label} {'/'.join(_amount(c) for c in group)}")
    return ", ".join(parts)


def _amount(change: Change) -> str:
    if change.field == "bonus_pct":
        return f"{change.delta:+g} pt"
    if change.pct is None:
        return f"{change.delta:+,}"
    return f"{change.pct:+.1f}%"
