"""Read-only views of the stored history: a guide's versions, the guide as it stood at
a time, the differences between two versions, recent runs, and quarter over quarter.

Each view is built as plain data (what ``--json`` prints); the CLI renders it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date
from statistics import median
from typing import Any

from db.schema import Guide, QoqChange, Run, Version
from flows.compare import match_regions, region_key
from flows.quarter import Quarter

# Figures whose quarter-over-quarter movement the summary reports, as range names.
SUMMARY_FIGURES = ("base", "stock", "total_comp")


def number(value: float | None) -> int | float | None:
    """Stored floats that are whole numbers read back as the integers written."""
    if value is not None and float(value).is_integer():
        return int(value)
    return value


def amount(value: object) -> str:
    """A figure as people read it: thousands separated, a whole number without
    ``.0``, blank where there is none."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return f"{number(value):,}"


def span(region: dict[str, Any], name: str) -> str:
    """A range as ``low–high``, an end left blank where it is unknown."""
    low, high = region.get(f"{name}_low"), region.get(f"{name}_high")
    if low is None and high is None:
        return ""
    return f"{amount(low)}–{amount(high)}"


def version_view(version: Version) -> dict[str, Any]:
    snapshot = version.snapshot
    return {
        "version": version.number,
        "kind": version.kind,
        "salary_data_quarter": snapshot.salary_data_quarter,
        "last_updated": snapshot.last_updated.isoformat(),
        "next_review_due": snapshot.next_review_due.isoformat(),
        "source_path": version.source_path,
        "ingested_at": version.ingested_at.isoformat(),
        "flow_run_id": version.flow_run_id,
        "changed_fields": version.changed_fields,
        "compensation": snapshot.frontmatter["compensation"],
    }


def as_of(versions: list[Version], when: str) -> Version | None:
    """The version in force at ``when``: a quarter (``2025-Q4``) asks what the guide
    said for that quarter or before; a date asks what compfeed knew by that day."""
    try:
        quarter = str(Quarter.parse(when))
    except ValueError:
        day = date.fromisoformat(when)
        known = [v for v in versions if v.ingested_at.date() <= day]
    else:
        known = [v for v in versions if v.snapshot.salary_data_quarter <= quarter]
    return known[-1] if known else None


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


def diff_versions(old: Version, new: Version) -> list[FieldChange]:
    """Field-level differences: top-level fields, each region's figures (regions
    matched as the quarter-over-quarter comparison matches them), and the body."""
    before, after = old.snapshot.frontmatter, new.snapshot.frontmatter
    changes = [
        FieldChange(key, before.get(key), after.get(key))
        for key in sorted(before.keys() | after.keys())
        if key != "compensation" and before.get(key) != after.get(key)
    ]
    for was, now in match_regions(before["compensation"], after["compensation"]):
        name = (now or was or {})["region"]
        for key in sorted((was or {}).keys() | (now or {}).keys()):
            a, b = (was or {}).get(key), (now or {}).get(key)
            if a != b:
                changes.append(FieldChange(f"compensation[{name}].{key}", a, b))
    if old.snapshot.body != new.snapshot.body:
        changes.append(FieldChange("body", old.snapshot.body, new.snapshot.body))
    return changes


def body_diff(change: FieldChange, old: int, new: int) -> str:
    lines = difflib.unified_diff(
        change.old.splitlines(keepends=True),
        change.new.splitlines(keepends=True),
        f"version {old}",
        f"version {new}",
    )
    return "".join(lines)


def run_view(run: Run) -> dict[str, Any]:
    return {
        "run": run.id,
        "flow_run_id": run.flow_run_id,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "seeds": run.seeds,
        "force": run.force,
        "counts": run.counts,
        "files": [
            {
                "path": f.path,
                "outcome": f.outcome,
                "guide": f.guide,
                "errors": f.errors,
                "warnings": f.warnings,
                "kind": f.kind,
                "version": f.version,
            }
            for f in run.files
        ],
    }


def change_view(guide: Guide, change: QoqChange) -> dict[str, Any]:
    return {
        "guide": guide.key,
        "region": change.region,
        "field": change.field,
        "currency": change.currency,
        "from_quarter": change.from_quarter,
        "to_quarter": change.to_quarter,
        "old": number(change.old),
        "new": number(change.new),
        "delta": number(change.delta),
        "pct": change.pct,
        "flag": change.flag,
    }


def qoq_summary(changes: list[dict[str, Any]]) -> dict[str, Any]:
    """Median change of each summary figure's midpoint, overall, by role and by
    region, with how many guides each median rests on.

    A guide and region count for a figure only when the low and the high of both
    quarters are known and in one currency.
    """
    moves: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
    names: dict[str, str] = {}
    for change in changes:
        if change["flag"] is not None or change["field"] == "region":
            continue
        figure, _, end = change["field"].rpartition("_")
        if figure not in SUMMARY_FIGURES or end not in ("low", "high"):
            continue
        key = region_key(change["region"])
        names.setdefault(key, change["region"])
        moves.setdefault((change["guide"], key, figure), {})[end] = change
    points = []
    for (guide, key, figure), ends in moves.items():
        if len(ends) == 2:
            old = (ends["low"]["old"] + ends["high"]["old"]) / 2
            new = (ends["low"]["new"] + ends["high"]["new"]) / 2
            if old:
                points.append((guide, names[key], figure, (new - old) / old * 100))

    def medians(rows: list[tuple[str, str, str, float]]) -> dict[str, Any]:
        result = {}
        for figure in SUMMARY_FIGURES:
            mine = [r for r in rows if r[2] == figure]
            result[figure] = {
                "median_pct": round(median(r[3] for r in mine), 2) if mine else None,
                "guides": len({r[0] for r in mine}),
            }
        return result

    roles = sorted({p[0].split("/")[1] for p in points})
    regions = sorted({p[1] for p in points})
    return {
        "overall": medians(points),
        "by_role": {
            r: medians([p for p in points if p[0].endswith(f"/{r}")]) for r in roles
        },
        "by_region": {r: medians([p for p in points if p[1] == r]) for r in regions},
    }
